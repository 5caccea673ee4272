# Strategy: comments about price and value: "overpriced" or "rip off" are negative, "great value" or "reasonable prices" are positive.
BAD_VALUE = ("overpriced", "rip off", "ripoff", "rip-off", "not worth the", "too expensive", "way too much", "waste of money")
GOOD_VALUE = ("great value", "good value", "reasonable price", "reasonably priced", "great price", "good price", "affordable", "worth every penny", "bang for your buck", "great deal")


def label_function(restaurant_review):
    text = restaurant_review.lower()
    if any(p in text for p in BAD_VALUE):
        return 0
    if any(p in text for p in GOOD_VALUE):
        return 1
    return -1
