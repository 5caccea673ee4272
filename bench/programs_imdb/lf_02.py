# Strategy: 'waste of time' and similar phrases are negative.
import re

PAT = re.compile(r'waste of (time|money)|worst (movie|film)|avoid this|not worth', re.I)


def label_function(movie_review):
    return 0 if PAT.search(movie_review) else -1
