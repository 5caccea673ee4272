POSITIVE = {"love", "beautiful", "amazing", "best", "great", "awesome"}


def label_function(comment):
    words = set(comment.lower().replace("!", " ").replace(".", " ").split())
    return 0 if words & POSITIVE and "http" not in comment else -1
