# Strategy: optimistic outlook words (strong, record, growth, expand) are positive and pessimistic ones (weak, warning, downturn, uncertainty) are negative.
POSITIVE = ("record", "strong", "robust", "expand", "expansion", "boost", "outperform", "upgrade", "improvement", "success", "positive", "higher than expected", "exceeded")
NEGATIVE = ("weak", "warning", "warned", "downturn", "uncertain", "difficult", "slowdown", "recession", "downgrade", "lower than expected", "disappoint", "negative", "pressure", "challenging")


def label_function(financial_news):
    text = financial_news.lower()
    pos = sum(1 for w in POSITIVE if w in text)
    neg = sum(1 for w in NEGATIVE if w in text)
    if pos > neg:
        return 2
    if neg > pos:
        return 0
    return -1
