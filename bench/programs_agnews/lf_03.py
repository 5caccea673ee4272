# Strategy: technology vocabulary (software, internet, computer, wireless, chip) indicates Sci/Tech.
import re

TECH = re.compile(r"\b(software|internet|computer|computers|online|web|website|wireless|chip|chips|processor|linux|windows|browser|digital|broadband|technology|tech|server|spam|virus|hackers?|download|mobile phones?|pc|pcs)\b", re.IGNORECASE)


def label_function(news):
    if len(TECH.findall(news)) >= 2:
        return 3
    return -1
