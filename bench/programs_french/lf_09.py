# Strategy: a review that contains both praise and criticism joined by a contrast word (mais, cependant, malgré) is mixed, hence neutral.
import re

CONTRAST = re.compile(r"\b(mais|cependant|néanmoins|toutefois|malgré|pourtant|en revanche)\b", re.IGNORECASE)
POS = ("bien écrit", "agréable", "intéressant", "beau", "belle", "bon", "bonne", "plaisant", "sympathique")
NEG = ("long", "longueurs", "lent", "ennuy", "dommage", "déçu", "manque", "confus", "répétitif", "superficiel")


def label_function(book_review):
    text = book_review.lower()
    if not CONTRAST.search(text):
        return -1
    has_pos = any(p in text for p in POS)
    has_neg = any(n in text for n in NEG)
    if has_pos and has_neg:
        return 1
    return -1
