# Strategy: long phone numbers, especially premium-rate numbers starting with 08 or 09, indicate spam.
import re

PREMIUM = re.compile(r"\b0[89]\d{8,10}\b")
LONG_NUMBER = re.compile(r"\b\d{10,12}\b")


def label_function(text):
    if PREMIUM.search(text):
        return 1
    if LONG_NUMBER.search(text):
        return 1
    return -1
