def label_function(comment):
    text = comment.lower()
    return 1 if "subscribe" in text or "my channel" in text else -1
