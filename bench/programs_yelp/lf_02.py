# Strategy: explicit star ratings mentioned in the text (e.g. "5 stars", "one star") determine the label.
import re

STARS = re.compile(r"\b(zero|one|two|three|four|five|0|1|2|3|4|5)\s*(-\s*)?stars?\b", re.IGNORECASE)
WORD_TO_NUM = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def label_function(restaurant_review):
    m = STARS.search(restaurant_review)
    if not m:
        return -1
    raw = m.group(1).lower()
    n = WORD_TO_NUM.get(raw, None)
    if n is None:
        n = int(raw)
    if n >= 4:
        return 1
    if n <= 2:
        return 0
    return -1
