# Strategy: vocabulary of strong emotional engagement (émouvant, captivant, addictif, haletant) marks a positive review.
import re

ENGAGED = re.compile(r"\b(émouvant|émouvante|poignant|poignante|captivant|captivante|addictif|addictive|haletant|haletante|prenant|prenante|passionnant|passionnante|bouleversant|bouleversante|envoûtant|envoûtante|lumineux|lumineuse|brillant|brillante|pépite)\b", re.IGNORECASE)


def label_function(book_review):
    if len(ENGAGED.findall(book_review)) >= 1:
        return 2
    return -1
