# Labeling program for the demo task (hand-written example in the format the LLM writes).
# Strategy: links to other sites are a strong sign of spam.
import re

URL = re.compile(r"(https?://|www\.|\.(com|net|ly)\b)", re.IGNORECASE)


def label_function(comment):
    if URL.search(comment):
        return 1
    return -1
