# Strategy: recommending the book to readers is positive; telling readers to skip it is negative.
RECOMMEND = ("je vous le conseille", "je vous le recommande", "je le conseille", "je le recommande", "je recommande", "à découvrir", "a découvrir", "foncez", "n'hésitez pas", "n’hésitez pas", "à lire", "je conseille")
DISCOURAGE = ("je ne recommande pas", "je ne le recommande pas", "je ne conseille pas", "passez votre chemin", "à éviter", "a éviter", "ne perdez pas votre temps")


def label_function(book_review):
    text = book_review.lower()
    if any(d in text for d in DISCOURAGE):
        return 0
    if any(r in text for r in RECOMMEND):
        return 2
    return -1
