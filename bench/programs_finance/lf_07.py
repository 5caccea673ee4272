# Strategy: parse "from X to Y" comparisons of figures and vote positive when the number goes up and negative when it goes down.
import re

FROM_TO = re.compile(r"from\s+(?:eur|usd|\$|€)?\s*([\d.,]+)\s*(?:mn|m|million|bn|billion|%|pct)?\s+to\s+(?:eur|usd|\$|€)?\s*([\d.,]+)", re.IGNORECASE)


def _num(s):
    s = s.strip(".,").replace(",", ".")
    if s.count(".") > 1:
        s = s.replace(".", "", s.count(".") - 1)
    try:
        return float(s)
    except ValueError:
        return None


def label_function(financial_news):
    m = FROM_TO.search(financial_news)
    if not m:
        return -1
    a, b = _num(m.group(1)), _num(m.group(2))
    if a is None or b is None or a == b:
        return -1
    text = financial_news.lower()
    # for losses and costs a rising number is bad news
    inverted = any(w in text for w in ("loss", "cost", "expense", "debt"))
    up = b > a
    if inverted:
        up = not up
    return 2 if up else 0
