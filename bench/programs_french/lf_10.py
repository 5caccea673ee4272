# Strategy: mild, polite praise ("lecture agréable", "sympathique", "se lit facilement") without strong enthusiasm suggests a middling, neutral opinion.
MILD = ("lecture agréable", "agréable à lire", "sympathique", "sympa", "se lit facilement", "se lit bien", "se laisse lire", "sans prétention", "lecture légère", "divertissant", "petit livre", "gentil")
STRONG = ("coup de cœur", "coup de coeur", "adoré", "magnifique", "chef", "bouleversant", "génial", "excellent", "sublime")


def label_function(book_review):
    text = book_review.lower()
    if any(s in text for s in STRONG):
        return -1
    if any(m in text for m in MILD):
        return 1
    return -1
