# Strategy: mentions of losses, losses widening or profit warnings are negative; profit growth is positive.
import re

LOSS = re.compile(r"\b(operating loss|net loss|pre-tax loss|pretax loss|loss of|losses|loss widened|profit warning|swung to a loss|turned to a loss)\b", re.IGNORECASE)
PROFIT_UP = re.compile(r"\b(profit|earnings|net income|operating income)\b[^.]{0,40}\b(rose|increased|grew|improved|jumped|doubled|up)\b", re.IGNORECASE)


def label_function(financial_news):
    if PROFIT_UP.search(financial_news):
        return 2
    if LOSS.search(financial_news):
        return 0
    return -1
