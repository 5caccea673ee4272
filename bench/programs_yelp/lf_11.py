# Strategy: superlatives like "best ... ever" or "my favorite" are positive, "worst" is negative.
import re

BEST = re.compile(r"\b(best\b[^.!?]{0,40}\bever|best in (town|the city|vegas|phoenix)|my (new )?favorite|one of the best)\b", re.IGNORECASE)
WORST = re.compile(r"\bworst\b", re.IGNORECASE)


def label_function(restaurant_review):
    if WORST.search(restaurant_review):
        return 0
    if BEST.search(restaurant_review):
        return 1
    return -1
