# Strategy: strong negative words.
NEG = ('awful', 'terrible', 'horrible', 'pathetic', 'garbage', 'crap', 'lame')


def label_function(movie_review):
    text = movie_review.lower()
    return 0 if sum(text.count(w) for w in NEG) >= 2 else -1
