# Strategy: hygiene and health problems (dirty, hair in food, food poisoning, bugs) indicate a negative review.
import re

HYGIENE = re.compile(r"\b(dirty|filthy|hair in|food poisoning|got sick|cockroach|roach|bugs?|flies|sticky tables?|smelled|gross|disgusting)\b", re.IGNORECASE)


def label_function(restaurant_review):
    if HYGIENE.search(restaurant_review):
        return 0
    return -1
