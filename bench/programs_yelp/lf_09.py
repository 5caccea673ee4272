# Strategy: any form of "disappoint" signals the reviewer had a bad experience.
def label_function(restaurant_review):
    text = restaurant_review.lower()
    if "disappoint" in text and "not disappoint" not in text and "never disappoint" not in text and "won't disappoint" not in text:
        return 0
    return -1
