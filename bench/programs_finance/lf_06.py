# Strategy: descriptive statements about what a company is, does or where it is based are neutral.
import re

DESCRIPTIVE = re.compile(r"\b(is a|is an|is the|headquartered in|based in|operates|provides|specializ(es|ing) in|manufactures|employs|has operations in|subsidiary of|part of the|listed on)\b", re.IGNORECASE)
CHANGE = re.compile(r"\b(rose|increased|grew|fell|decreased|declined|dropped|loss|profit|improved|cut)\b", re.IGNORECASE)


def label_function(financial_news):
    if DESCRIPTIVE.search(financial_news) and not CHANGE.search(financial_news):
        return 1
    return -1
