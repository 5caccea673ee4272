"""Concepts of an image task: what the knowledge LLM says tells the classes apart, and concepts.json.

The LLM lists visual concepts per class (bill shape, water or land background...); CLIP scores every
image against each, and the programs label from those scores. The list is saved in the run folder as
`concepts.json` (a JSON list of strings) that a person may edit. An LLM's reply is cleaned (printable
one-line strings, no duplicates, at most MAX_CONCEPTS, taken class by class in turn); a file is kept
exactly as written — programs look its names up — and refused with the reason if it would need cleaning.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from alchemist.core.errors import AlchemistError
from alchemist.core.files import atomic_write_text, read_json
from alchemist.core.safe_text import clean

FILE = "concepts.json"
MAX_CONCEPTS = 100
MAX_CHARS = 80  # what an LLM's concept is cut to
MAX_FILE_CHARS = 200  # what a concept in a file may be (the sandbox's limit for a name)
PER_CLASS = 8
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def tidy(values: list, limit: int = MAX_CONCEPTS) -> list[str]:
    """Printable, one line, at most MAX_CHARS each, no repeats (case-insensitive), at most `limit`."""
    out: list[str] = []
    seen: set[str] = set()
    for value in values:
        if not isinstance(value, str):
            continue
        value = _ESCAPES.sub("", value)  # a terminal colour code would leave "[31m" behind
        text = " ".join(clean(value, 4 * MAX_CHARS).replace(" | ", " ").split()).strip(" -*•.,;:\"'`")
        text = text[:MAX_CHARS].strip()
        if text and text.lower() not in seen:
            seen.add(text.lower())
            out.append(text)
    return out[:limit]


def _json_in(reply: str) -> object:
    """The first JSON object or list in a reply (fenced or bare), or None."""
    for match in re.finditer(r"[\[{]", reply):
        try:
            value, _ = json.JSONDecoder().raw_decode(reply[match.start():])
        except ValueError:
            continue
        if isinstance(value, (dict, list)):
            return value
    return None


def parse_reply(reply: str) -> list[str]:
    """Concepts from the knowledge LLM's reply: JSON {class: [concepts]} or a list; else bulleted lines."""
    found = _json_in(reply)
    values: list = []
    if isinstance(found, dict):  # class by class, in turn: a long first list cannot crowd out the others
        lists = [v if isinstance(v, list) else [v] for v in found.values()]
        values = [v[i] for i in range(max(map(len, lists), default=0)) for v in lists if i < len(v)]
    elif isinstance(found, list):
        values = found
    if not any(isinstance(v, str) and v.strip() for v in values):  # no JSON: "- concept" lines
        values = [m.group(1) for m in re.finditer(r"^\s*(?:[-*•]|\d+[.)])\s+(.+)$", reply, re.M)]
    concepts = tidy(values)
    if len(concepts) < 2:
        raise AlchemistError("the knowledge LLM's reply listed fewer than two concepts: "
                             + clean(reply, 200))
    return concepts


def load(path: Path) -> list[str]:
    """A concepts.json: a JSON list of at least two concept strings."""
    path = Path(path)
    data = read_json(path, f"{path}: no concepts file here (image runs save concepts.json beside their programs; "
                           "or give --concepts FILE)")
    if not isinstance(data, list) or not all(isinstance(v, str) for v in data):
        raise AlchemistError(f"{path}: expected a JSON list of concept strings, e.g. [\"water background\", ...]")
    # Kept exactly as written — programs look the names up — so anything that would need changing is refused.
    seen: set[str] = set()
    for value in data:
        if not value.strip() or len(value) > MAX_FILE_CHARS or clean(value, MAX_FILE_CHARS) != value:
            raise AlchemistError(f"{path}: concept {json.dumps(value)[:80]} must be one printable line of 1 to "
                                 f"{MAX_FILE_CHARS} characters")
        if value in seen:
            raise AlchemistError(f"{path}: concept {json.dumps(value)[:80]} is listed twice")
        seen.add(value)
    if len(data) < 2:
        raise AlchemistError(f"{path}: at least two concepts are needed")
    if len(data) > MAX_CONCEPTS:
        raise AlchemistError(f"{path}: {len(data)} concepts; at most {MAX_CONCEPTS}")
    return list(data)


def save(folder: Path, concepts: list[str]) -> Path:
    path = Path(folder) / FILE
    atomic_write_text(path, json.dumps(concepts, indent=1, ensure_ascii=False) + "\n")
    return path


def describe_scores(row: dict, top: int = 12) -> str:
    """A row of concept scores as prompt text: the highest first, as the program will see them."""
    best = sorted(row.items(), key=lambda kv: -kv[1])[:top]
    return "{" + ", ".join(f"{json.dumps(k)}: {v:.4f}" for k, v in best) + (", ...}" if len(row) > top else "}")
