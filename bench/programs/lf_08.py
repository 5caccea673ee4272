import re

YEAR = re.compile(r"\b(19|20)\d\d\b")


def label_function(comment):
    return 0 if YEAR.search(comment) else -1
