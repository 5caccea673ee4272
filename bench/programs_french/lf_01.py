# Strategy: count French positive and negative opinion words and vote for the clearly dominant polarity.
import re

POS = {"magnifique", "excellent", "superbe", "génial", "formidable", "merveilleux", "passionnant", "captivant", "beau", "belle", "adoré", "aimé", "émouvant", "bravo", "réussi", "remarquable", "sublime", "touchant", "parfait", "plaisir"}
NEG = {"ennuyeux", "ennui", "décevant", "déçu", "déçue", "déception", "nul", "mauvais", "médiocre", "ennuyé", "lassant", "pénible", "raté", "ridicule", "inintéressant", "plat", "lourd", "fade", "agaçant", "abandonné"}


def label_function(book_review):
    words = re.findall(r"[a-zàâäéèêëîïôöùûüçœ]+", book_review.lower())
    pos = sum(1 for w in words if w in POS)
    neg = sum(1 for w in words if w in NEG)
    if pos >= neg + 2:
        return 2
    if neg >= pos + 1 and neg >= 1:
        return 0
    return -1
