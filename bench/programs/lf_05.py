def label_function(comment):
    return 0 if len(comment.split()) <= 5 and "http" not in comment else -1
