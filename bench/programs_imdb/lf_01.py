# Strategy: positive words outnumber negative ones.
POS = {'great','excellent','wonderful','amazing','loved','best','brilliant','perfect','superb','enjoyed'}
NEG = {'bad','worst','awful','boring','terrible','waste','poor','horrible','stupid','dull'}


def label_function(movie_review):
    words = movie_review.lower().split()
    pos = sum(w in POS for w in words)
    neg = sum(w in NEG for w in words)
    if pos > neg + 1:
        return 1
    if neg > pos + 1:
        return 0
    return -1
