# Strategy: stock market terms and dollar amounts in millions or billions indicate Business.
import re

MARKET = re.compile(r"\b(dow|nasdaq|s&p|wall street|nyse|stocks? (rose|fell|rallied|slipped)|shares (rose|fell|jumped|slid|dropped|gained))\b", re.IGNORECASE)
MONEY = re.compile(r"\$\s?\d+(\.\d+)?\s*(million|billion|bn|m)\b", re.IGNORECASE)


def label_function(news):
    if MARKET.search(news):
        return 2
    if MONEY.search(news) and re.search(r"\b(percent|quarter|profit|deal|company|firm)\b", news, re.IGNORECASE):
        return 2
    return -1
