def label_function(comment):
    letters = [c for c in comment if c.isalpha()]
    if not letters:
        return -1
    upper = sum(1 for c in letters if c.isupper()) / len(letters)
    return 1 if upper > 0.6 and len(letters) > 10 else -1
