# Strategy: verbs describing upward movement are positive and verbs describing downward movement are negative.
import re

UP = re.compile(r"\b(rose|rise|rises|risen|increased|increase|increases|grew|grow|grows|growth|improved|improve|jumped|gained|climbed|surged|soared|up)\b", re.IGNORECASE)
DOWN = re.compile(r"\b(fell|fall|falls|fallen|decreased|decrease|decreases|declined|decline|declines|dropped|drop|drops|slumped|plunged|down|shrank|lower|weakened)\b", re.IGNORECASE)


def label_function(financial_news):
    up = len(UP.findall(financial_news))
    down = len(DOWN.findall(financial_news))
    if up > down:
        return 2
    if down > up:
        return 0
    return -1
