# Strategy: stock price moves: shares rising is positive, shares falling is negative.
import re

SHARES_UP = re.compile(r"\b(shares?|stock|share price)\b[^.]{0,30}\b(rose|jumped|gained|climbed|surged|soared|rallied|advanced|up)\b", re.IGNORECASE)
SHARES_DOWN = re.compile(r"\b(shares?|stock|share price)\b[^.]{0,30}\b(fell|dropped|slid|declined|plunged|tumbled|sank|lost|down)\b", re.IGNORECASE)


def label_function(financial_news):
    if SHARES_DOWN.search(financial_news):
        return 0
    if SHARES_UP.search(financial_news):
        return 2
    return -1
