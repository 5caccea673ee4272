# Strategy: consumer electronics, gadgets and video games (phones, iPod, games console, gadget) indicate Sci/Tech.
GADGETS = ("ipod", "cell phone", "cellphone", "handset", "smartphone", "laptop", "notebook computer", "gadget", "video game", "games console", "console", "dvd", "camera phone", "wi-fi", "wifi", "bluetooth", "music download", "itunes", "flat-panel", "plasma")


def label_function(news):
    text = news.lower()
    if any(g in text for g in GADGETS):
        return 3
    return -1
