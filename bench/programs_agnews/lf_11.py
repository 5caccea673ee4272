# Strategy: keyword scores for all four topics; pick the topic with the highest score if it clearly wins.
KEYWORDS = {
    0: ("president", "government", "minister", "election", "war", "troops", "killed", "police", "country", "talks", "rebels", "nuclear", "leader", "officials", "iraq"),
    1: ("game", "team", "season", "coach", "win", "player", "players", "cup", "league", "match", "championship", "victory", "olympic", "score", "title"),
    2: ("company", "profit", "shares", "stock", "market", "sales", "economy", "oil", "prices", "bank", "deal", "billion", "million", "quarter", "investors"),
    3: ("software", "internet", "computer", "technology", "microsoft", "web", "online", "users", "space", "scientists", "research", "wireless", "search", "network", "digital"),
}


def label_function(news):
    words = [w.strip(".,;:!?\"'()") for w in news.lower().split()]
    scores = {k: sum(1 for w in words if w in v) for k, v in KEYWORDS.items()}
    best = max(scores, key=scores.get)
    top = scores[best]
    if top == 0:
        return -1
    others = [s for k, s in scores.items() if k != best]
    if top > max(others):
        return best
    return -1
