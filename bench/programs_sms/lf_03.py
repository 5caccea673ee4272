# Strategy: messages containing links or web addresses are spam.
import re

URL = re.compile(r"(https?://|www\.|\.com\b|\.co\.uk\b|\.net\b)", re.IGNORECASE)


def label_function(text):
    return 1 if URL.search(text) else -1
