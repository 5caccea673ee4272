# Strategy: instructions to text a keyword to a short code (e.g. "txt WIN to 80086") are spam.
import re

SHORT_CODE = re.compile(r"\b(txt|text|send|reply)\b[^.]{0,30}\bto\s+\d{4,6}\b", re.IGNORECASE)
STOP = re.compile(r"\b(send|txt|text|reply)\s+stop\b", re.IGNORECASE)


def label_function(text):
    if SHORT_CODE.search(text) or STOP.search(text):
        return 1
    return -1
