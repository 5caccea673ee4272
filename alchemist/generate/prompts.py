"""Prompts: templates in prompts/templates/ filled from a task card. Data, not code."""

from __future__ import annotations

import random
from pathlib import Path
from string import Template

from alchemist.core.choices import KNOWLEDGE_TYPES
from alchemist.core.errors import AlchemistError
from alchemist.core.paths import ANGLES, IMAGE_ANGLES, TEMPLATES
from alchemist.data.datasets import Dataset
from alchemist.data.tasks import TaskCard
from alchemist.sandbox.policy import ALLOWED_MODULES

EXAMPLES_PER_CLASS = 5
EXAMPLE_CHARS = 400
PROMPT_ROWS = 8  # unlabeled train rows shown in the code prompt, so programs match the real data
ROW_CHARS = 300


def _template(name: str) -> Template:
    path = TEMPLATES / f"{name}.txt"
    try:
        return Template(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise AlchemistError(f"{path}: cannot read prompt template ({e.strerror or e})") from None


def fill(name: str, **values: str) -> str:
    try:
        return _template(name).substitute(**values).strip() + "\n"
    except (KeyError, ValueError) as e:
        raise AlchemistError(f"{TEMPLATES / (name + '.txt')}: bad placeholder {e}") from None


class TaskPrompts:
    """Every prompt of a run, built from the task card (and the user's own task description)."""

    templates = {"code_system": "code_system", "code_user": "code_user", "data_section": "data_section",
                 "refine_user": "refine_user"}
    row_word = "text"  # how a shown row is introduced
    angles_file = ANGLES  # one angle per program

    def __init__(self, card: TaskCard, description: str | None = None, rows: list[str] | None = None):
        self.card = card
        self.rows = list(rows or [])  # a fixed sample of unlabeled train rows (never test)
        self.description = (description or card.description or
                            f"Classify each {card.item} into one of: {', '.join(card.classes)}.").strip()

    def common(self) -> dict[str, str]:
        card = self.card
        lines = []
        for i, name in enumerate(card.classes):
            desc = card.class_descriptions.get(name, "")
            lines.append(f"{i}: {name}" + (f" — {desc}" if desc else ""))
        return {"description": self.description, "item": card.item, "class_list": "\n".join(lines),
                "arg_name": card.arg_name}

    def labeling_instruction(self) -> str:
        card = self.card
        lines = [f"If the {card.item} is {name}, return {i}." for i, name in enumerate(card.classes)]
        return "\n".join(lines + [f"If the {card.item} cannot be assigned to a class with confidence, return -1."])

    def code_system(self) -> str:
        return fill(self.templates["code_system"])

    def code_user(self, knowledge: str | None = None, angle: str = "") -> str:
        knowledge_section = fill("knowledge_section", knowledge=knowledge.strip()) + "\n" if knowledge else ""
        angle_section = fill("angle_section", angle=angle) + "\n" if angle else ""
        data_section = ""
        if self.rows:
            listed = "\n".join(f"- {r}" for r in self.rows)
            data_section = fill(self.templates["data_section"], item=self.card.item, rows=listed) + "\n"
        return fill(self.templates["code_user"], **self.common(), labeling_instruction=self.labeling_instruction(),
                     knowledge_section=knowledge_section, angle_section=angle_section,
                     data_section=data_section,
                     allowed_imports=", ".join(sorted(ALLOWED_MODULES)))

    def knowledge_system(self) -> str:
        return fill("knowledge_system")

    def knowledge_user(self, kind: str, examples: str = "") -> str:
        if kind not in KNOWLEDGE_TYPES:
            raise AlchemistError(f"unknown knowledge type '{kind}' (choose from {', '.join(KNOWLEDGE_TYPES)})")
        return fill(f"knowledge_{kind}", **self.common(), examples=examples)

    def refine_user(self, code: str, summary: str, mistakes: list) -> str:
        """A better version of `code`, shown rows it got wrong (text, gold class, its answer)."""
        listed = "\n".join(f"- {self.row_word}: {m.text}\n  correct: {m.gold}; its answer: {m.answer}"
                           for m in mistakes)
        return fill(self.templates["refine_user"], **self.common(), labeling_instruction=self.labeling_instruction(),
                    code=code.rstrip(), summary=summary, mistakes=listed,
                    allowed_imports=", ".join(sorted(ALLOWED_MODULES)))

    def repair_user(self, error: str, code: str = "", reply: str = "") -> str:
        if code:
            previous = f"Here it is:\n```python\n{code.rstrip()}\n```"
        else:
            previous = "Your reply was:\n<reply>\n" + reply.strip()[:3000] + "\n</reply>"
        return fill("repair_user", error=error, previous=previous, arg_name=self.card.arg_name)


def angles(path: Path = ANGLES) -> list[str]:
    """The per-program angles (prompts/angles.txt): one per line, blank and # lines skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise AlchemistError(f"{path}: cannot read the program angles ({e.strerror or e})") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def angle_for(index: int, listed: list[str]) -> str:
    """Program `index` (1-based) always gets the same angle, whatever order programs are written in."""
    return listed[(index - 1) % len(listed)] if listed else ""


def sample_rows(dataset: Dataset, n: int = PROMPT_ROWS, seed: int = 0) -> list[str]:
    """A fixed sample of n train rows, without their labels, one line each (never test rows)."""
    from alchemist.core.safe_text import clean

    train = dataset.get("train")
    if train is None or n <= 0:
        return []
    rows = [i for i in range(len(train)) if str(train.texts[i]).strip()]
    picked = sorted(random.Random(seed).sample(rows, min(n, len(rows))))
    limit = ROW_CHARS if train.program_rows is None else 2000  # a row of scores is shown whole
    return [clean(_row_text(train, i), limit) for i in picked]


def _row_text(split, i: int) -> str:
    """Row i as a prompt shows it: its text, or (image runs) the concept scores a program will see."""
    if split.program_rows is None:
        return split.texts[i]
    from alchemist.images.concepts import describe_scores

    return describe_scores(split.rows[i])


def shown_texts(split) -> list[str]:
    """A split's rows as prompt text (refinement's mistakes)."""
    return [_row_text(split, i) for i in range(len(split))]


def prompts_for(dataset: Dataset, description: str | None, prompt_rows: int) -> TaskPrompts:
    """The prompts of a run on this dataset: about text, or (image runs) about concept scores."""
    rows = sample_rows(dataset, prompt_rows)
    if dataset.modality == "image":
        return ImagePrompts(dataset.card, dataset.concepts or [], description, rows)
    return TaskPrompts(dataset.card, description, rows)


def pick_examples(dataset: Dataset, per_class: int = EXAMPLES_PER_CLASS, seed: int = 0) -> str:
    """Labeled examples from the user's train (then valid) rows — never test — as prompt text."""
    rng = random.Random(seed)
    card = dataset.card
    chosen: dict[int, list[str]] = {c: [] for c in range(card.n_classes)}
    for split_name in ("train", "valid"):
        split = dataset.get(split_name)
        if split is None:
            continue
        order = list(range(len(split)))
        rng.shuffle(order)
        for r in order:
            label = int(split.labels[r])
            text = split.texts[r].strip()
            if label >= 0 and text and len(chosen[label]) < per_class:
                chosen[label].append(text[:EXAMPLE_CHARS])
    if not any(chosen.values()):
        raise AlchemistError("the 'examples' knowledge type needs labeled rows in train or valid; "
                             "this dataset has none (choose rules, keywords or description)")
    lines = []
    for c, texts in chosen.items():
        for text in texts:
            lines.append(f"[{card.classes[c]}] {text}")
    return "\n".join(lines)


IMAGE_KNOWLEDGE_TYPES = ("rules", "description")  # keywords and examples are about text


class ImagePrompts(TaskPrompts):
    """An image task's prompts: programs read a dict of CLIP concept scores, not text. `rows` are a few
    train images' scores, as described by concepts.describe_scores."""

    templates = {"code_system": "image_code_system", "code_user": "image_code_user",
                 "data_section": "image_data_section", "refine_user": "image_refine_user"}
    row_word = "concept scores"
    angles_file = IMAGE_ANGLES

    def __init__(self, card: TaskCard, concepts: list[str], description: str | None = None,
                 rows: list[str] | None = None):
        super().__init__(card, description, rows)
        self.concepts = list(concepts)

    def common(self) -> dict[str, str]:
        import json

        return {**super().common(), "concept_list": "\n".join(f"- {json.dumps(c)}" for c in self.concepts)}

    def knowledge_system(self) -> str:
        return fill("image_knowledge_system")

    def knowledge_user(self, kind: str, examples: str = "") -> str:
        if kind not in IMAGE_KNOWLEDGE_TYPES:
            raise AlchemistError(f"knowledge type '{kind}' is for text; image runs take "
                                 f"{' or '.join(IMAGE_KNOWLEDGE_TYPES)}")
        return fill(f"image_knowledge_{kind}", **self.common())


def concepts_prompt(card: TaskCard, description: str | None, per_class: int) -> tuple[str, str]:
    """(system, user) asking the knowledge LLM for the concepts of an image task."""
    base = TaskPrompts(card, description)
    return fill("concepts_system"), fill("concepts_user", **base.common(), per_class=str(per_class))
