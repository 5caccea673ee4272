# Strategy: enthusiastic exclamation marks combined with positive words indicate a positive review.
POSITIVE = ("amazing", "awesome", "love", "great", "delicious", "best", "fantastic", "yum", "wow", "perfect")


def label_function(restaurant_review):
    text = restaurant_review.lower()
    if text.count("!") >= 2 and any(p in text for p in POSITIVE):
        return 1
    return -1
