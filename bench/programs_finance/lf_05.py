# Strategy: sentences with no sentiment-bearing words at all are purely factual and therefore neutral.
import re

SENTIMENT = re.compile(r"\b(rose|rise|increase[ds]?|grew|growth|improve[ds]?|gain(ed|s)?|jump(ed)?|up|fell|fall|decrease[ds]?|decline[ds]?|drop(ped)?|down|loss(es)?|profit|cut|cuts|strong|weak|record|higher|lower|positive|negative|good|bad|better|worse|success(ful)?|fail(ed)?|won|award(ed)?)\b", re.IGNORECASE)


def label_function(financial_news):
    if SENTIMENT.search(financial_news):
        return -1
    return 1
