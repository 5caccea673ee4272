# Strategy: French negation around liking or engaging with the book ("pas aimé", "pas accroché", "pas convaincu") signals a negative review.
import re

NEGATION = re.compile(r"\b(n'|n’|ne\s+)(ai|suis|a|est|m'a|m’a)?\s*(pas|jamais|guère)\s+(du tout\s+)?(aimé|accroché|adhéré|convaincu|convaincue|plu|réussi|emballé|emballée|entré|rentré|touché|touchée|intéressé|intéressée|passionné)", re.IGNORECASE)


def label_function(book_review):
    if NEGATION.search(book_review):
        return 0
    return -1
