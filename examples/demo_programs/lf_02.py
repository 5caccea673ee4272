# Strategy: asking people to subscribe, follow or like is self-promotion.
def label_function(comment):
    text = comment.lower()
    for phrase in ("subscribe", "follow me", "like and", "my channel", "check out my"):
        if phrase in text:
            return 1
    return -1
