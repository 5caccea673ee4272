# Strategy: layoffs, job cuts, plant closures and bankruptcies are negative news.
NEGATIVE_EVENTS = ("layoff", "lay-off", "lay off", "laid off", "job cuts", "cut jobs", "cut its workforce", "redundanc", "temporary lay", "shut down", "closure", "close the", "bankrupt", "insolvency", "restructuring", "downsizing", "personnel reductions", "reduce its staff")


def label_function(financial_news):
    text = financial_news.lower()
    if any(e in text for e in NEGATIVE_EVENTS):
        return 0
    return -1
