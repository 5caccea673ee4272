# Strategy: negated praise is negative.
import re

NEG = re.compile(r"\b(not|never|n't)\s+(very\s+)?(good|funny|great|interesting|worth)", re.I)


def label_function(movie_review):
    return 0 if len(NEG.findall(movie_review)) >= 2 else -1
