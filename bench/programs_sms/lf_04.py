# Strategy: money amounts (pounds, dollars, cash, per-message charges) indicate spam.
import re

MONEY = re.compile(r"(£\s?\d+|\$\s?\d+|\b\d+\s?(p|ppm)\b|\bcash\b|\d+\s?pounds?\b|\bper (msg|min|week|wk)\b)", re.IGNORECASE)


def label_function(text):
    if MONEY.search(text):
        return 1
    return -1
