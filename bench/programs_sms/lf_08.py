# Strategy: urgent marketing language combined with exclamation marks is spam.
MARKETING = ("urgent", "offer", "limited time", "act now", "don't miss", "exclusive", "bonus", "voucher", "entry", "draw", "final attempt", "last chance")


def label_function(text):
    lower = text.lower()
    has_marketing = any(m in lower for m in MARKETING)
    if has_marketing and "!" in text:
        return 1
    if has_marketing and lower.count("urgent") > 0:
        return 1
    return -1
