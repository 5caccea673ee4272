# Strategy: the tone of the last sentence of the review usually summarizes the overall verdict.
import re

GOOD = ("great", "love", "recommend", "delicious", "amazing", "best", "awesome", "enjoy", "will be back", "excellent", "favorite")
BAD = ("never", "worst", "terrible", "horrible", "disappoint", "avoid", "not worth", "awful", "rude", "won't")


def label_function(restaurant_review):
    sentences = [s for s in re.split(r"[.!?]+", restaurant_review) if s.strip()]
    if not sentences:
        return -1
    last = sentences[-1].lower()
    if any(b in last for b in BAD):
        return 0
    if any(g in last for g in GOOD):
        return 1
    return -1
