# Strategy: count positive versus negative sentiment words and vote for the clearly dominant side.
import re

POS = {"great", "good", "excellent", "amazing", "awesome", "delicious", "friendly", "love", "loved", "best", "fantastic", "perfect", "wonderful", "nice", "tasty", "fresh", "recommend", "favorite", "yummy", "outstanding"}
NEG = {"bad", "terrible", "awful", "horrible", "worst", "rude", "disgusting", "bland", "cold", "slow", "dirty", "gross", "poor", "mediocre", "overpriced", "disappointing", "disappointed", "never", "inedible", "waste"}


def label_function(restaurant_review):
    words = re.findall(r"[a-z']+", restaurant_review.lower())
    pos = sum(1 for w in words if w in POS)
    neg = sum(1 for w in words if w in NEG)
    if pos >= neg + 2:
        return 1
    if neg >= pos + 2:
        return 0
    return -1
