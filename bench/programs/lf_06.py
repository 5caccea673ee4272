from collections import Counter


def label_function(comment):
    counts = Counter(ch for ch in comment if ch in "!?")
    return 1 if counts["!"] >= 3 else -1
