# Strategy: financial and corporate vocabulary (profit, earnings, shares, stocks, economy) indicates Business.
import re

BUSINESS = re.compile(r"\b(profit|profits|earnings|revenue|shares|stocks?|investors?|economy|economic|market|markets|quarter|quarterly|sales|merger|acquisition|acquire|bank|oil prices?|dollar|inflation|interest rates?|ceo|bankruptcy|retailer)\b", re.IGNORECASE)


def label_function(news):
    if len(BUSINESS.findall(news)) >= 2:
        return 2
    return -1
