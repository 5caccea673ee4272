# Strategy: percentage changes with direction words ("up 12%", "a 5% decrease") decide positive or negative.
import re

PCT_UP = re.compile(r"(\bup\b|increase[d]?|rise|rose|grew|growth|gain)\D{0,20}\d+(\.\d+)?\s*(%|percent|pct)|\d+(\.\d+)?\s*(%|percent|pct)\s+(increase|rise|growth|gain|higher)", re.IGNORECASE)
PCT_DOWN = re.compile(r"(\bdown\b|decrease[d]?|fell|fall|decline[d]?|drop(ped)?)\D{0,20}\d+(\.\d+)?\s*(%|percent|pct)|\d+(\.\d+)?\s*(%|percent|pct)\s+(decrease|fall|decline|drop|lower)", re.IGNORECASE)


def label_function(financial_news):
    up = bool(PCT_UP.search(financial_news))
    down = bool(PCT_DOWN.search(financial_news))
    if up and not down:
        return 2
    if down and not up:
        return 0
    return -1
