# Strategy: intent to return or recommend is positive; vowing never to return is negative.
import re

RETURN_POS = re.compile(r"(will (definitely |surely )?(be back|come back|return)|can't wait to (go|come) back|highly recommend|definitely recommend|must try|coming back)", re.IGNORECASE)
RETURN_NEG = re.compile(r"(never (again|coming back|go back|return)|won't (be back|return|go back|be returning)|will not (be back|return)|not (coming|going) back|stay away|avoid (this|it))", re.IGNORECASE)


def label_function(restaurant_review):
    if RETURN_NEG.search(restaurant_review):
        return 0
    if RETURN_POS.search(restaurant_review):
        return 1
    return -1
