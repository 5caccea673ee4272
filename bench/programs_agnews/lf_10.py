# Strategy: names of sports leagues, events and well-known teams indicate Sports.
import re

LEAGUES = re.compile(r"\b(nfl|nba|nhl|mlb|nascar|pga|fifa|uefa|ncaa|premier league|champions league|world series|super bowl|grand prix|formula one|wimbledon|us open|ryder cup|red sox|yankees|cardinals|patriots|lakers|manchester united|chelsea|arsenal|real madrid|test match|wicket|grand slam)\b", re.IGNORECASE)


def label_function(news):
    if LEAGUES.search(news):
        return 1
    return -1
