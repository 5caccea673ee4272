import re

URL = re.compile(r"(https?://|www\.|\.com\b)", re.IGNORECASE)


def label_function(comment):
    return 1 if URL.search(comment) else -1
