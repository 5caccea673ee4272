"""Task cards: what a dataset's labeling task is (classes and ids, argument name, metric).

Built-in cards are package data in `alchemist/bundled/prompts/tasks/<name>.json` (core/paths.py); a user's dataset gets a card from a small
JSON file of the same shape (`task.json` beside the data, or `--task-card`) or from class names.
"""

from __future__ import annotations

import keyword
from dataclasses import asdict, dataclass, field
from pathlib import Path

from alchemist.core.errors import AlchemistError
from alchemist.core.files import read_json
from alchemist.core.paths import TASK_CARDS

METRICS = ("acc", "f1")


@dataclass
class TaskCard:
    name: str
    classes: list[str]  # class id = position
    description: str = ""
    item: str = "text"  # what one row is, e.g. "YouTube comment"
    arg_name: str = "text"  # the labeling function's argument name
    metric: str = "acc"  # acc, or f1 = binary F1 of `positive_class`
    positive_class: int = 1
    class_descriptions: dict[str, str] = field(default_factory=dict)
    source: dict = field(default_factory=dict)  # where to get the data (built-in tasks)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def to_dict(self) -> dict:
        return asdict(self)


def _fail(where: str, what: str) -> AlchemistError:
    return AlchemistError(f"{where}: {what}")


def card_from_dict(data: object, where: str) -> TaskCard:
    """Validate a card's JSON; every problem is one line naming the file."""
    if not isinstance(data, dict):
        raise _fail(where, "a task card must be a JSON object")
    classes = data.get("classes")
    if not isinstance(classes, list) or len(classes) < 2 or not all(isinstance(c, str) and c for c in classes):
        raise _fail(where, "'classes' must be a list of at least two class names")
    if len({c.lower() for c in classes}) != len(classes):
        raise _fail(where, "'classes' has duplicate names")
    if len(classes) > 127:
        raise _fail(where, "at most 127 classes are supported")
    known = {f for f in TaskCard.__dataclass_fields__}
    unknown = sorted(set(data) - known)
    if unknown:
        raise _fail(where, f"unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    card = TaskCard(**{k: v for k, v in data.items() if k in known})
    if not isinstance(card.name, str) or not card.name:
        raise _fail(where, "'name' must be a non-empty string")
    if card.metric not in METRICS:
        raise _fail(where, f"'metric' must be one of {', '.join(METRICS)}, not {card.metric!r}")
    if card.metric == "f1" and (len(classes) != 2 or card.positive_class not in (0, 1)):
        raise _fail(where, "metric 'f1' needs two classes and positive_class 0 or 1")
    if not card.arg_name.isidentifier() or keyword.iskeyword(card.arg_name):
        raise _fail(where, f"'arg_name' {card.arg_name!r} is not a valid Python name")
    return card


def load_card_file(path: Path) -> TaskCard:
    return card_from_dict(read_json(path, f"{path}: task card not found"), str(path))


def builtin_names() -> list[str]:
    return sorted(p.stem for p in TASK_CARDS.glob("*.json"))


def is_builtin(name: str) -> bool:
    return (TASK_CARDS / f"{name}.json").is_file()


def builtin_card(name: str) -> TaskCard:
    if not is_builtin(name):
        raise AlchemistError(f"unknown dataset '{name}' (built-in: {', '.join(builtin_names())}; "
                             "or give a path to your own data)")
    return load_card_file(TASK_CARDS / f"{name}.json")


def card_for_classes(name: str, classes: list[str], **extra) -> TaskCard:
    return card_from_dict({"name": name, "classes": list(classes), **extra}, f"dataset {name}")
