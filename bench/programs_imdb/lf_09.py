# Strategy: counts of intensifiers with positive adjectives.
from collections import Counter

POS = {'funny', 'beautiful', 'touching', 'fantastic', 'fun', 'favorite'}


def label_function(movie_review):
    counts = Counter(movie_review.lower().split())
    return 1 if sum(counts[w] for w in POS) >= 2 else -1
