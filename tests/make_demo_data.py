"""Regenerate the bundled demo dataset (synthetic comments written for this project).

    python tests/make_demo_data.py

Deterministic (fixed seed). Classes: 0 ham, 1 spam. Each row also carries the votes of three
simple human-written rules as `weak_labels`, so `apply --human` works on it too.
"""

import json
import random
import re

from alchemist.core.paths import DEMO as HERE  # the demo bundled in the package

NAMES = ["Maya", "Leo", "Iris", "Tom", "Nadia", "Omar", "Jade", "Felix", "Rosa", "Hugo"]
THINGS = ["gift card", "phone", "headset", "game pass", "coupon", "laptop"]
ADJ = ["amazing", "beautiful", "so calm", "incredible", "a bit sad", "catchy", "perfect", "underrated"]
PARTS = ["chorus", "bridge", "guitar solo", "drum intro", "last verse", "music video"]
SPAM = [
    "Check out my channel {url} for more covers!",
    "subscribe to {name} please, I upload every day",
    "Win a free {thing} here: {url}",
    "Visit {url} and earn ${n} a day from home",
    "please like and subscribe to my channel!!",
    "FREE {thing} giveaway, click {url} now",
    "Hey guys check out my new video {url}",
    "I will subscribe back, subscribe to me please",
    "Make money online fast {url}",
    "follow me on my page, link in bio {url}",
]
HAM = [
    "I love this song, the {part} is {adj}",
    "{name}'s voice is {adj}",
    "This brings back memories of {year}",
    "Who is still listening in {year}?",
    "the {part} gives me chills every time",
    "my {relative} used to sing this to me",
    "Best song of {year}, {adj}",
    "This never gets old",
    "{adj} melody, great lyrics",
    "I cried at the {part}",
]
RELATIVES = ["mom", "dad", "grandma", "brother", "sister"]


def fill(template: str, rng: random.Random) -> str:
    return template.format(
        url=f"http://{rng.choice(['bit.ly', 'tinyurl.com', 'my-site.net'])}/{rng.randrange(10**5)}",
        name=rng.choice(NAMES), thing=rng.choice(THINGS), n=rng.choice([50, 100, 300]),
        adj=rng.choice(ADJ), part=rng.choice(PARTS), year=rng.randrange(1995, 2026),
        relative=rng.choice(RELATIVES))


def human_votes(text: str) -> list[int]:
    low = text.lower()
    return [
        1 if "http" in low else -1,  # links are spam
        1 if "subscribe" in low else -1,  # asking for subscriptions is spam
        0 if re.search(r"\b(song|voice|chorus|melody|lyrics)\b", low) else -1,  # talks about the music
    ]


def make_split(n: int, rng: random.Random) -> dict:
    rows = {}
    for i in range(n):
        label = int(rng.random() < 0.45)
        text = fill(rng.choice(SPAM if label else HAM), rng)
        if rng.random() < 0.08:  # some noise: hard cases no simple rule gets right
            text = fill(rng.choice(HAM if label else SPAM), rng).replace("http://", "")
        rows[str(i)] = {"label": label, "data": {"text": text}, "weak_labels": human_votes(text)}
    return rows


def main() -> None:
    rng = random.Random(7)
    for split, n in (("train", 400), ("valid", 80), ("test", 120)):
        (HERE / f"{split}.json").write_text(json.dumps(make_split(n, rng), indent=1) + "\n")
    (HERE / "label.json").write_text(json.dumps({"0": "ham", "1": "spam"}) + "\n")


if __name__ == "__main__":
    main()
