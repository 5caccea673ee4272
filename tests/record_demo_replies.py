"""Re-record the offline demo's LLM replies (run after changing the prompt templates).

    .venv/bin/python tests/record_demo_replies.py

Plays the scripted replies below through the local fake OpenAI-compatible server used by the tests
(alchemist/testing/fake_llm.py), with the response cache pointed at
the bundled demo's recorded_replies/ (alchemist/bundled/demo/), so `python main.py demo` can
replay them offline. The replies were written for the demo in the style of an LLM; reply 4 is
deliberately broken so the demo also shows a repair request.
"""

import shutil
import tempfile
from pathlib import Path

from alchemist.cli.demo import DEMO_PROGRAMS, RECORDED_DIR
from alchemist.testing.fake_llm import FakeLLM

KNOWLEDGE = [
    "1. A link (http, www, .com, bit.ly) points viewers elsewhere: spam.\n2. Requests to subscribe, follow or "
    "like a channel are self-promotion: spam.\n3. Comments about the song, voice, lyrics or melody are genuine: ham.",
    "1. Prizes, free items and money offers are spam.\n2. Mentions of years and memories are genuine: ham.\n"
    "3. Short emotional reactions without calls to action are ham.",
    "1. 'Check out my' and 'my channel' signal self-promotion: spam.\n2. Talking about a part of the song "
    "(chorus, bridge, solo, verse) is ham.",
    "1. Calls to action (click, visit, follow, subscribe) are spam.\n2. Personal stories (my mom, my dad) are ham.",
    "1. Several exclamation marks with a request are spam.\n2. Praise words (beautiful, amazing, perfect) "
    "without links are ham.",
    "1. Earning money online, working from home: spam.\n2. Questions about who is still listening: ham.",
]

PROGRAMS = [
    "# Strategy: links to other sites are spam.\nimport re\n\nLINK = re.compile(r\"(https?://|www\\.|bit\\.ly|\\.(com|net)\\b)\", re.I)\n\n\ndef label_function(comment):\n    if LINK.search(comment):\n        return 1\n    return -1\n",
    "# Strategy: prizes, free items and money offers are spam; memories and years are ham.\nimport re\n\nMONEY = re.compile(r\"(\\$\\d+|\\bfree\\b|\\bwin\\b|\\bearn\\b|giveaway|money)\", re.I)\nYEAR = re.compile(r\"\\b(19|20)\\d\\d\\b\")\n\n\ndef label_function(comment):\n    if MONEY.search(comment):\n        return 1\n    if YEAR.search(comment) or \"memories\" in comment.lower():\n        return 0\n    return -1\n",
    "# Strategy: self-promotion phrases are spam; talk about parts of the song is ham.\nPROMO = (\"check out my\", \"my channel\", \"my new video\", \"my page\")\nPARTS = (\"chorus\", \"bridge\", \"guitar solo\", \"drum intro\", \"last verse\")\n\n\ndef label_function(comment):\n    text = comment.lower()\n    if any(p in text for p in PROMO):\n        return 1\n    if any(p in text for p in PARTS):\n        return 0\n    return -1\n",
    "# Strategy: calls to action are spam; personal family stories are ham.\nACTIONS = {\"subscribe\", \"follow\", \"click\", \"visit\"}\nFAMILY = {\"mom\", \"dad\", \"grandma\", \"brother\", \"sister\"}\n\n\ndef label_function(comment):\n    words = {w.strip(\"!?.,'\") for w in comment.lower().split()}\n    if words & ACTIONS:\n        return 1\n    if words & FAMILY:\n        return 0\n    return -1\n",
    "# Strategy: praise words without any link are genuine reactions.\nPRAISE = {\"beautiful\", \"amazing\", \"perfect\", \"incredible\", \"catchy\", \"underrated\", \"calm\"}\n\n\ndef label_function(comment):\n    text = comment.lower()\n    if \"http\" in text:\n        return -1\n    words = {w.strip(\"!?.,'\") for w in text.split()}\n    return 0 if words & PRAISE else -1\n",
    "# Strategy: work-from-home money is spam; asking who still listens is ham.\ndef label_function(comment):\n    text = comment.lower()\n    if \"online\" in text and (\"money\" in text or \"earn\" in text):\n        return 1\n    if \"still listening\" in text or \"never gets old\" in text:\n        return 0\n    return -1\n",
]
BROKEN = "Here is a function that checks calls to action:\n\n```python\ndef label_function(comment)\n    return 1 if 'subscribe' in comment else -1\n```"


def fenced(code: str) -> str:
    return f"Here is a labeling function for this task.\n\n```python\n{code}```\n\nIt abstains when the signal is absent."


def main() -> None:
    shutil.rmtree(RECORDED_DIR, ignore_errors=True)
    script = []
    for i in range(DEMO_PROGRAMS):
        script.append(KNOWLEDGE[i])
        if i == 3:
            script.append(BROKEN)
        script.append(fenced(PROGRAMS[i]))
    import os

    from alchemist.cli import demo as cli

    with FakeLLM(port=cli.DEMO_PORT) as fake:  # the address the demo model names: part of each reply's key
        fake.push(*script)
        scratch = Path(tempfile.mkdtemp(prefix="alchemist-record-"))  # columns, embeddings: never in the repo
        os.environ["ALCHEMIST_CACHE_DIR"] = str(scratch)
        code = cli.run_demo(out=Path(os.environ.get("TMPDIR", "/tmp")) / "alchemist-record", seeds=1, record=True)
        assert code == 0 and not fake.script, "the recording did not use every scripted reply"
    print(f"recorded {len(script)} replies into {RECORDED_DIR}")


if __name__ == "__main__":
    main()
