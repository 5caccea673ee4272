# Strategy: names of big technology companies indicate Sci/Tech, names of big non-tech corporations indicate Business.
import re

TECH_COS = re.compile(r"\b(microsoft|google|apple|ibm|intel|amd|sun microsystems|oracle|yahoo|nokia|sony|cisco|dell|hewlett-packard|hp|motorola|linux|red hat|apple's|ipod|xbox|playstation|nintendo)\b", re.IGNORECASE)
BIZ_COS = re.compile(r"\b(wal-mart|walmart|general motors|gm|ford|boeing|airbus|exxon|citigroup|goldman sachs|merrill lynch|enron|delta air|united airlines|kmart|sears|pfizer|merck|fannie mae|at&t|verizon)\b", re.IGNORECASE)


def label_function(news):
    tech = bool(TECH_COS.search(news))
    biz = bool(BIZ_COS.search(news))
    if tech and not biz:
        return 3
    if biz and not tech:
        return 2
    return -1
