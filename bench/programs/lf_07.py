def label_function(comment):
    text = comment.lower()
    for phrase in ("check out", "please like", "follow me", "visit my", "click here"):
        if phrase in text:
            return 1
    return -1
