# Strategy: lukewarm or mixed verdicts ("mitigé", "sans plus", "pas mal", "moyen") indicate a neutral review.
MIXED = ("mitigé", "mitigée", "sans plus", "pas mal", "moyen", "moyennement", "bof", "mouais", "un peu long", "quelques longueurs", "je reste sur ma faim", "partagé", "partagée", "pas inoubliable", "correct", "j'attendais mieux", "j’attendais mieux", "j'attendais plus")


def label_function(book_review):
    text = book_review.lower()
    if any(m in text for m in MIXED):
        return 1
    return -1
