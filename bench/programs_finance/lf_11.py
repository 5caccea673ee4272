# Strategy: product and technical descriptions (features, equipped with, includes, designed for) are neutral.
PRODUCT_WORDS = ("features", "featuring", "equipped with", "includes", "including", "designed for", "consists of", "comprises", "available in", "display", "model", "version", "capacity of")


def label_function(financial_news):
    text = financial_news.lower()
    hits = sum(1 for w in PRODUCT_WORDS if w in text)
    if hits >= 1 and "profit" not in text and "loss" not in text:
        return 1
    return -1
