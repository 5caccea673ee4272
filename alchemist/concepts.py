"""Concepts of an image task: what the knowledge LLM says tells the classes apart, and concepts.json.

The LLM lists visual concepts per class (bill shape, water or land background...); CLIP scores every
image against each, and the programs label from those scores. The list is saved in the run folder as
`concepts.json` (a JSON list of strings) that a person may edit; whatever comes in — an LLM reply or a
file — is cleaned the same way: printable one-line strings, no duplicates, at most MAX_CONCEPTS.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from alchemist.errors import AlchemistError
from alchemist.files import atomic_write_text
from alchemist.safe_text import clean

FILE = "concepts.json"
MAX_CONCEPTS = 100
MAX_CHARS = 80
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
    if isinstance(found, dict):
        for listed in found.values():
            values += listed if isinstance(listed, list) else [listed]
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
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AlchemistError(f"{path}: no concepts file here (image runs save concepts.json beside their "
                             "programs; or give --concepts FILE)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise AlchemistError(f"{path}: cannot read it ({e})") from None
    except json.JSONDecodeError as e:
        raise AlchemistError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if not isinstance(data, list) or not all(isinstance(v, str) for v in data):
        raise AlchemistError(f"{path}: expected a JSON list of concept strings, e.g. [\"water background\", ...]")
    concepts = tidy(data, limit=10 ** 6)
    if len(concepts) < 2:
        raise AlchemistError(f"{path}: at least two concepts are needed")
    if len(concepts) > MAX_CONCEPTS:
        raise AlchemistError(f"{path}: {len(concepts)} concepts; at most {MAX_CONCEPTS}")
    return concepts


def save(folder: Path, concepts: list[str]) -> Path:
    path = Path(folder) / FILE
    atomic_write_text(path, json.dumps(concepts, indent=1, ensure_ascii=False) + "\n")
    return path


def describe_scores(row: dict, top: int = 12) -> str:
    """A row of concept scores as prompt text: the highest first, as the program will see them."""
    best = sorted(row.items(), key=lambda kv: -kv[1])[:top]
    return "{" + ", ".join(f"{json.dumps(k)}: {v:.4f}" for k, v in best) + (", ...}" if len(row) > top else "}")
