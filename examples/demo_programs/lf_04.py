# Strategy: money, prizes and giveaways are spam; memories and years are genuine.
import re

MONEY = re.compile(r"(\$\d+|free|win|earn|giveaway|money)", re.IGNORECASE)
YEAR = re.compile(r"\b(19|20)\d\d\b")


def label_function(comment):
    if MONEY.search(comment):
        return 1
    if YEAR.search(comment) or "memories" in comment.lower():
        return 0
    return -1
