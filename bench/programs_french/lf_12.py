# Strategy: criticism of the writing (longueurs, répétitif, prévisible, clichés, superficiel) points to a negative review.
CRITICISM = ("longueurs", "répétitif", "répétitive", "prévisible", "clichés", "cliché", "superficiel", "superficielle", "invraisemblable", "tiré par les cheveux", "style lourd", "mal écrit", "caricatural", "caricaturale", "sans saveur", "creux")


def label_function(book_review):
    text = book_review.lower()
    hits = sum(1 for c in CRITICISM if c in text)
    if hits >= 2:
        return 0
    if hits == 1 and ("dommage" in text or "hélas" in text or "malheureusement" in text):
        return 0
    return -1
