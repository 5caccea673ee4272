# Strategy: common sports vocabulary (game, team, coach, season, championship) indicates Sports.
import re

SPORTS = re.compile(r"\b(game|games|team|coach|season|championship|tournament|league|match|cup|olympic|olympics|playoff|playoffs|quarterback|striker|goal|inning|innings|medal|score[ds]?|victory|defeat|captain)\b", re.IGNORECASE)


def label_function(news):
    if len(SPORTS.findall(news)) >= 2:
        return 1
    return -1
