# Strategy: politics, war and diplomacy vocabulary indicates World news.
import re

WORLD = re.compile(r"\b(president|prime minister|minister|government|election|elections|troops|military|war|killed|attack|bomb|bombing|rebels|militants|iraq|iraqi|palestinian|israel|israeli|un|united nations|nuclear|embassy|parliament|refugees|hostage|insurgents)\b", re.IGNORECASE)


def label_function(news):
    if len(WORLD.findall(news)) >= 2:
        return 0
    return -1
