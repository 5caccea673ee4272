import re

MONEY = re.compile(r"(\$\d+|free|earn|money|win\b)", re.IGNORECASE)


def label_function(comment):
    return 1 if MONEY.search(comment) else -1
