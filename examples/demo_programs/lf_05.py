# Strategy: short comments without a call to action are usually genuine reactions.
def label_function(comment):
    text = comment.strip()
    if len(text.split()) <= 6 and "http" not in text and "subscribe" not in text.lower():
        return 0
    return -1
