# Strategy: negated positive words such as "not good" or "wasn't worth it" signal a negative review.
import re

NEGATED = re.compile(r"\b(not|never|wasn't|isn't|weren't|didn't|don't|no)\s+(very\s+|that\s+|really\s+)?(good|great|worth|impressed|fresh|tasty|friendly|recommend|happy|enjoy)", re.IGNORECASE)


def label_function(restaurant_review):
    if len(NEGATED.findall(restaurant_review)) >= 1:
        return 0
    return -1
