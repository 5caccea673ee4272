# Strategy: explicit ratings such as "4/5", "8/10" or "3 étoiles" map directly to the rating bands of the classes.
import re

OUT_OF = re.compile(r"\b(\d+(?:[.,]5)?)\s*/\s*(5|10|20)\b")
STARS = re.compile(r"\b([0-5](?:[.,]5)?)\s*étoiles?\b", re.IGNORECASE)


def label_function(book_review):
    score = None
    m = OUT_OF.search(book_review)
    if m:
        value = float(m.group(1).replace(",", "."))
        scale = float(m.group(2))
        if value <= scale:
            score = value / scale * 5
    else:
        m = STARS.search(book_review)
        if m:
            score = float(m.group(1).replace(",", "."))
    if score is None:
        return -1
    if score >= 4:
        return 2
    if score >= 3:
        return 1
    return 0
