# Strategy: announcements of scheduled corporate events (meetings, reports, press releases, share subscriptions) are neutral.
EVENTS = ("annual general meeting", "agm", "will publish", "will be published", "press release", "conference call", "stock exchange release", "interim report", "financial statements", "board of directors", "stock options", "were subscribed", "registered", "will be held", "webcast", "the company said", "according to")


def label_function(financial_news):
    text = financial_news.lower()
    if any(e in text for e in EVENTS):
        return 1
    return -1
