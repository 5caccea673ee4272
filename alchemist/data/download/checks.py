"""The checks every `datasets --download` (alchemist/download.py) passes before its folder is moved into
place: every file is whole JSON with no id given twice, every row has a text and a label of the task card's
classes, weak labels are votes, label.json names the card's classes, and every split has the size documented
in alchemist/dataset_sources.json. Kept apart from the converting so the checks judge the written files, not
the code that wrote them; every failure is one line naming the file and saying nothing was written.
"""

from __future__ import annotations

import json
from pathlib import Path

from alchemist.core.errors import DatasetError
from alchemist.data.datasets import SPLITS
from alchemist.data.download.formats import read_text
from alchemist.data.download.sources import Source
from alchemist.data.tasks import TaskCard

TABLE = "alchemist/bundled/dataset_sources.json"  # how errors name the table of documented sizes


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


def parse_strict(path: Path, shown: str) -> object:
    """JSON that must be whole, with no key (row id) given twice — json.loads keeps the last silently."""
    try:
        return json.loads(read_text(path, shown, "utf-8"), object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as e:
        raise DatasetError(f"{shown}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}) — "
                           "truncated or corrupt; nothing was written") from None
    except _DuplicateKey as e:
        raise DatasetError(f"{shown}: id '{e.args[0]}' appears twice (ids must be unique); "
                           "nothing was written") from None


def check_folder(src: Source, card: TaskCard, folder: Path, shown: dict[str, str]) -> dict[str, int]:
    """Every check a download passes before it is moved into place; returns the rows of each split."""
    _check_label_json(card, folder / "label.json", shown.get("label.json", f"{src.name}/label.json"))
    counts = {}
    for split in SPLITS:
        name = shown.get(f"{split}.json", f"{src.name}/{split}.json")
        rows = parse_strict(folder / f"{split}.json", name)
        if not isinstance(rows, dict) or not rows:
            raise DatasetError(f"{name}: expected a JSON object of rows keyed by id (WRENCH layout)")
        if len(rows) != src.sizes[split]:
            raise DatasetError(f"{name}: {len(rows):,} rows, but the {split} split of {src.name} has "
                               f"{src.sizes[split]:,} ({TABLE}); nothing was written")
        widths = {_check_row(key, row, card, name) for key, row in rows.items()}
        if len(widths) > 1:
            raise DatasetError(f"{name}: rows have different numbers of weak_labels ({sorted(widths)})")
        counts[split] = len(rows)
    return counts


def _check_row(key: str, row: object, card: TaskCard, name: str) -> int:
    """One row of a WRENCH split; returns its number of weak labels."""
    if not isinstance(row, dict) or not isinstance(row.get("data"), dict) \
            or not isinstance(row["data"].get("text"), str):
        raise DatasetError(f"{name}: row '{key}' has no 'data.text' string; nothing was written")
    label, k = row.get("label"), card.n_classes
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < k:
        raise DatasetError(f"{name}: row '{key}' has label {label!r}, not a class of {card.name} "
                           f"(0..{k - 1}: {', '.join(card.classes)}); nothing was written")
    weak = row.get("weak_labels", [])
    if not isinstance(weak, list) or not all(isinstance(v, int) and not isinstance(v, bool) and -1 <= v < k
                                             for v in weak):
        raise DatasetError(f"{name}: row '{key}' has weak_labels that are not votes -1..{k - 1}; nothing was written")
    return len(weak)


def _check_label_json(card: TaskCard, path: Path, shown: str) -> None:
    data = parse_strict(path, shown)
    names = [data.get(str(i)) for i in range(len(data))] if isinstance(data, dict) else None
    if names is None or [str(n).lower() for n in names] != [c.lower() for c in card.classes]:
        raise DatasetError(f"{shown}: classes {names if names is not None else data!r} are not the task card's "
                           f"{card.classes} (prompts/tasks/{card.name}.json); nothing was written")
