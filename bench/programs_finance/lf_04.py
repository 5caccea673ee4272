# Strategy: winning orders, contracts and deals is positive news for the company.
import re

DEAL = re.compile(r"\b(won|wins|awarded|secured|signed|landed|received)\b[^.]{0,40}\b(order|contract|deal|agreement)s?\b", re.IGNORECASE)


def label_function(financial_news):
    if DEAL.search(financial_news):
        return 2
    return -1
