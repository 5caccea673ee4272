# Strategy: game scores like "19-13" together with winning or losing verbs indicate Sports.
import re

SCORE = re.compile(r"\b\d{1,3}-\d{1,3}\b")
RESULT = re.compile(r"\b(beat|beats|defeat|defeats|defeated|win|wins|won|lose|loses|lost|rout|routs|edge|edges|tops|top|victory|draw|tie)\b", re.IGNORECASE)


def label_function(news):
    if SCORE.search(news) and RESULT.search(news):
        return 1
    return -1
