# Strategy: short casual messages with texting slang and no digits are ordinary personal messages (ham).
SLANG = {"lol", "haha", "hahaha", "u", "ur", "ok", "okay", "k", "hey", "hmm", "lor", "da", "gonna", "wanna", "yeah", "ya", "im", "dont", "wat", "nite", "tmr"}


def label_function(text):
    if any(ch.isdigit() for ch in text):
        return -1
    words = [w.strip(".,!?:;'\"") for w in text.lower().split()]
    if len(words) > 25:
        return -1
    if any(w in SLANG for w in words):
        return 0
    return -1
