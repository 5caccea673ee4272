# Strategy: strong enthusiastic expressions ("coup de cœur", "chef-d'œuvre", "j'ai adoré") indicate a positive review.
STRONG_POS = ("coup de cœur", "coup de coeur", "chef-d'œuvre", "chef d'oeuvre", "chef-d'oeuvre", "j'ai adoré", "j’ai adoré", "à lire absolument", "un régal", "une pépite", "une merveille", "je recommande", "bouleversant", "inoubliable")


def label_function(book_review):
    text = book_review.lower()
    if any(p in text for p in STRONG_POS):
        return 2
    return -1
