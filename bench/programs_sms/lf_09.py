# Strategy: short questions without numbers are usually ordinary conversation (ham).
def label_function(text):
    stripped = text.strip()
    if not stripped.endswith("?"):
        return -1
    if any(ch.isdigit() for ch in stripped):
        return -1
    if len(stripped.split()) <= 15:
        return 0
    return -1
