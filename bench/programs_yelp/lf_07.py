# Strategy: words describing food quality (delicious, fresh vs bland, overcooked, stale) decide the sentiment.
GOOD_FOOD = {"delicious", "fresh", "tasty", "flavorful", "juicy", "tender", "yummy", "mouthwatering", "perfectly", "crispy"}
BAD_FOOD = {"bland", "overcooked", "undercooked", "stale", "soggy", "greasy", "tasteless", "dry", "burnt", "salty", "inedible", "rubbery"}


def label_function(restaurant_review):
    words = [w.strip(".,!?;:()\"'") for w in restaurant_review.lower().split()]
    good = sum(w in GOOD_FOOD for w in words)
    bad = sum(w in BAD_FOOD for w in words)
    if good > bad:
        return 1
    if bad > good:
        return 0
    return -1
