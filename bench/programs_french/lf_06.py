# Strategy: exclamation marks together with French praise words indicate an enthusiastic positive review.
PRAISE = ("magnifique", "superbe", "génial", "excellent", "bravo", "merveilleux", "sublime", "formidable", "top", "adoré", "passionnant")


def label_function(book_review):
    text = book_review.lower()
    if "!" in text and any(p in text for p in PRAISE):
        return 2
    return -1
