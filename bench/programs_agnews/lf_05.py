# Strategy: mentions of foreign countries or capitals together with conflict or political words suggest World news.
COUNTRIES = ("iraq", "iran", "afghanistan", "pakistan", "india", "china", "russia", "north korea", "syria", "sudan", "darfur", "israel", "gaza", "lebanon", "ukraine", "venezuela", "haiti", "baghdad", "kabul", "moscow", "beijing", "tehran", "jerusalem", "nepal", "indonesia", "philippines")
POLITICAL = ("talks", "leader", "government", "police", "killed", "protest", "rebel", "army", "vote", "official", "officials", "minister", "president", "said on", "peace")


def label_function(news):
    text = news.lower()
    if any(c in text for c in COUNTRIES) and any(p in text for p in POLITICAL):
        return 0
    return -1
