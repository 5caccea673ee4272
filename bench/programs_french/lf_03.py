# Strategy: expressions of boredom, disappointment or abandoning the book indicate a negative review.
import re

NEG = re.compile(r"(ennuy|je me suis ennuy|déçu|déception|décevant|j'ai abandonné|j’ai abandonné|abandonné en cours|sans intérêt|aucun intérêt|perte de temps|ennui mortel|je n'ai pas aimé|je n’ai pas aimé)", re.IGNORECASE)


def label_function(book_review):
    if NEG.search(book_review):
        return 0
    return -1
