# Strategy: the ending sentence's tone.
GOOD = ('loved it', 'enjoyed it', 'great movie', 'great film', 'a classic')
BAD = ('hated it', 'boring', 'disappointed', 'disappointing', 'fell asleep')


def label_function(movie_review):
    tail = movie_review.lower()[-300:]
    if any(g in tail for g in GOOD):
        return 1
    if any(b in tail for b in BAD):
        return 0
    return -1
