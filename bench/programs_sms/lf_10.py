# Strategy: subscription, ringtone and mobile-service terms indicate spam.
SERVICE_TERMS = ("ringtone", "tone", "subscription", "subscriber", "unsubscribe", "opt out", "optout", "customer service", "network", "mobile", "landline", "camera phone", "polyphonic", "t&c", "t&cs", "tcs", "18+", "16+")


def label_function(text):
    lower = text.lower()
    hits = sum(1 for term in SERVICE_TERMS if term in lower)
    if hits >= 2:
        return 1
    if hits == 1 and any(w in lower for w in ("call", "txt", "reply", "claim")):
        return 1
    return -1
