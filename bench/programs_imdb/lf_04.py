# Strategy: recommendations are positive.
def label_function(movie_review):
    text = movie_review.lower()
    if 'highly recommend' in text or 'must see' in text or 'must watch' in text:
        return 1
    return -1
