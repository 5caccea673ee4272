# Strategy: ratings out of ten.
import re

RATING = re.compile(r'\b(10|[0-9])\s*(out of|/)\s*10\b')


def label_function(movie_review):
    m = RATING.search(movie_review)
    if not m:
        return -1
    score = int(m.group(1))
    return 1 if score >= 7 else 0 if score <= 4 else -1
