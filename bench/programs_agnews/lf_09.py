# Strategy: science, space and research terms (NASA, scientists, study, planet, species) indicate Sci/Tech.
import re

SCIENCE = re.compile(r"\b(nasa|space|spacecraft|astronomers?|planet|planets|mars|moon|saturn|telescope|scientists?|researchers?|study|species|fossil|genes?|genetic|dna|climate|physics|biolog\w*|laboratory|satellite|orbit)\b", re.IGNORECASE)


def label_function(news):
    if SCIENCE.search(news):
        return 3
    return -1
