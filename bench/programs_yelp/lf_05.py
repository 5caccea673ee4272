# Strategy: complaints about service (rude staff, long waits, talking to the manager, refunds) indicate a negative experience.
SERVICE_COMPLAINTS = ("rude", "waited", "wait forever", "ignored", "manager", "refund", "never came", "forgot our", "wrong order", "unprofessional", "attitude", "took forever", "long wait", "no one came")


def label_function(restaurant_review):
    text = restaurant_review.lower()
    hits = sum(1 for p in SERVICE_COMPLAINTS if p in text)
    if hits >= 2:
        return 0
    return -1
