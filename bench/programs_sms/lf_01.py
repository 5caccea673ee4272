# Strategy: classic spam words about prizes, winning and free offers indicate spam.
import re

SPAM_WORDS = re.compile(r"\b(free|win|winner|won|prize|claim|award|awarded|congratulations|guaranteed|selected)\b", re.IGNORECASE)


def label_function(text):
    if SPAM_WORDS.search(text):
        return 1
    return -1
