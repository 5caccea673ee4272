# Strategy: first-person conversational phrases without any numbers suggest a personal message (ham).
import re

PERSONAL = re.compile(r"\b(i'm|i am|i'll|i will|i was|i have|i think|i dont|i don't|i can't|i cant|my mom|my dad|me too|see you|call me|are you|did you)\b", re.IGNORECASE)


def label_function(text):
    if re.search(r"\d{3,}", text):
        return -1
    if PERSONAL.search(text):
        return 0
    return -1
