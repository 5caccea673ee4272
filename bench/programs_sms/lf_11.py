# Strategy: affectionate and everyday personal words (love, miss, home, dinner, sorry) indicate ham.
PERSONAL_WORDS = {"love", "miss", "dear", "sweet", "goodnight", "night", "home", "dinner", "lunch", "sorry", "sleep", "tomorrow", "class", "mum", "mom", "babe", "hugs", "kiss", "later", "office"}


def label_function(text):
    words = {w.strip(".,!?:;'\"()") for w in text.lower().split()}
    if "call" in words and any(ch.isdigit() for ch in text):
        return -1
    if words & PERSONAL_WORDS:
        return 0
    return -1
