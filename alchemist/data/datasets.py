"""Datasets: the WRENCH layout (plain or gzipped JSON splits), and a user's CSV or JSONL files (read by
readers.py), or image folders and CSVs of image paths (images.py), as a `Dataset` of splits.

A dataset is found by built-in name in the data folder (`--data-dir`, `ALCHEMIST_DATA_DIR`,
`config.json`), or by path. Every problem is a one-line `DatasetError` naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from alchemist.core.errors import DatasetError
from alchemist.core.paths import DEMO, command
from alchemist.data.images import (
    check_groups_wanted,
    csv_image_column,
    csv_in_folder,
    is_image_folder,
    read_csv,
    read_folder,
)
from alchemist.data.readers import Columns, RawSplit, add_row, find_split_file, read_label_json, read_split
from alchemist.data.tasks import TaskCard, builtin_card, card_for_classes, is_builtin, load_card_file

SPLITS = ("train", "valid", "test")
BUNDLED = {"demo": DEMO}  # datasets shipped inside the package, by name
UNKNOWN = -1  # label of a row without a gold label


@dataclass
class Split:
    name: str
    path: Path
    ids: list[str]
    texts: list[str]
    labels: np.ndarray  # int64 class ids, UNKNOWN where the row has no gold label
    weak_labels: np.ndarray | None = None  # (n, m) int8 votes of the dataset's own programs
    groups: list[str] | None = None  # a group per row (e.g. Waterbirds' label x background): worst-group accuracy
    program_rows: object = None  # what programs are called with when it is not the text (image runs: ScoreRows)

    def __repr__(self) -> str:  # a notebook shows this: a summary, never every row
        return f"Split({self.name!r}, {len(self):,} rows, {int(self.labeled.sum()):,} with gold labels)"

    @property
    def rows(self):
        """What a labeling program gets, row by row: the texts, or (image runs) dicts of concept scores."""
        return self.texts if self.program_rows is None else self.program_rows

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def labeled(self) -> np.ndarray:
        return self.labels != UNKNOWN

    @property
    def has_labels(self) -> bool:
        return bool(self.labeled.any())


@dataclass
class Dataset:
    name: str
    card: TaskCard
    root: Path
    splits: dict[str, Split] = field(default_factory=dict)
    modality: str = "text"  # or "image": a row's text is its image's path
    concepts: list[str] | None = None  # image runs: the concepts programs' inputs are scored against
    notes: list[str] = field(default_factory=list)  # what was done while reading it (said before any spending)
    train_gold: np.ndarray | None = None  # a person's answers to chosen train rows (-1 elsewhere): training only
    gold_rows: dict | None = None  # where the valid split's gold labels came from, when not from the data

    def get(self, split: str) -> Split | None:
        return self.splits.get(split)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name} {len(s):,}" for name, s in self.splits.items())
        return f"Dataset({self.name!r}, classes={self.card.classes}, {sizes}" + (
            f", {self.modality}" if self.modality != "text" else "") + ")"

    @property
    def train(self) -> Split:
        return self.splits["train"]


# --- labels and cards -----------------------------------------------------------------------------
def _map_label(value: object, card: TaskCard, path: Path, row_id: str) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return UNKNOWN
    if isinstance(value, bool):
        raise DatasetError(f"{path}: row '{row_id}' has label {value!r}, not a class id or name")
    if isinstance(value, str):
        text = value.strip()
        names = {c.lower(): i for i, c in enumerate(card.classes)}
        if text.lower() in names:
            return names[text.lower()]
        try:
            value = int(text)
        except ValueError:
            raise DatasetError(f"{path}: row '{row_id}' has label {text!r}, which is not a class "
                               f"({', '.join(card.classes)})") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not 0 <= value < card.n_classes:
        raise DatasetError(f"{path}: row '{row_id}' has label {value!r}, outside the classes "
                           f"0..{card.n_classes - 1} ({', '.join(card.classes)})")
    return value


def _infer_classes(raws: list[RawSplit], notes: list[str] | None = None) -> list[str] | None:
    """The classes the labels name. Spellings that differ only in case or surrounding spaces ('ham', 'HAM ')
    are one class, named by its most frequent spelling; `notes` gets a sentence saying so."""
    counts: dict[str, dict[str, int]] = {}
    for r in raws:
        for v in r.labels:
            if v is None or isinstance(v, bool) or not str(v).strip():
                continue
            spellings = counts.setdefault(str(v).strip().lower(), {})
            spellings[str(v)] = spellings.get(str(v), 0) + 1
    if not counts:
        return None
    names = {k: max(s, key=lambda x: (s[x], x == x.strip(), x)).strip() for k, s in counts.items()}
    if all(v.lstrip("-").isdigit() for v in names.values()):
        top = max(int(v) for v in names.values())
        if min(int(v) for v in names.values()) < 0:
            raise DatasetError(f"{raws[0].path}: negative label ids; give class names with --classes")
        return [str(i) for i in range(max(top + 1, 2))]
    merged = [f"{', '.join(repr(x) for x in sorted(s))} as '{names[k]}'" for k, s in sorted(counts.items())
              if len(s) > 1]
    if merged and notes is not None:
        notes.append(f"{raws[0].path.name}: labels that differ only in case or spaces are one class: "
                     + "; ".join(merged))
    return sorted(names.values(), key=str.lower)


def _check_card_vs_label_json(card: TaskCard, names: list[str], path: Path) -> None:
    if [n.lower() for n in names] != [c.lower() for c in card.classes]:
        raise DatasetError(f"{path}: classes {names} do not match the task card's {card.classes}")


# --- finding datasets -----------------------------------------------------------------------------
def builtin_location(name: str, data_dir: Path | None) -> Path | None:
    """Where a built-in dataset's folder is, if it has a train split on disk."""
    for folder in ([data_dir / name] if data_dir else []) + ([BUNDLED[name]] if name in BUNDLED else []):
        if find_split_file(folder, "train") is not None:
            return folder
    return None


def presence(name: str, data_dir: Path) -> tuple[Path | None, str]:
    """(folder, status) of a built-in task: said the same way by `main.py datasets` and the wizard."""
    root = builtin_location(name, data_dir)
    if root is not None:
        present = [s for s in SPLITS if find_split_file(root, s)]
        return root, f"yes: {', '.join(present)} ({root})"
    present = [s for s in SPLITS if find_split_file(data_dir / name, s)]
    if present:
        return None, f"partial: {', '.join(present)} in {data_dir / name} — no train split"
    return None, f"missing from {data_dir}"


def _resolve_root(name: str, data_dir: Path | None) -> tuple[Path, TaskCard | None]:
    if is_builtin(name):
        card = builtin_card(name)
        root = builtin_location(name, data_dir)
        if root is None:
            where = data_dir / name if data_dir else Path(name)
            hint = next((p.name for p in (where / "PARTIAL.md", where / "NOT_AVAILABLE.md") if p.is_file()), None)
            raise DatasetError(f"{where}: no train split (train.json or train.json.gz) for '{name}'"
                               + (f"; see {where / hint}" if hint else "")
                               + f"; `{command()} datasets` says where to get it")
        return root, card
    path = Path(name).expanduser()
    if path.exists():
        return path, None
    if name in BUNDLED:
        return BUNDLED[name], None
    if data_dir and (data_dir / name).exists():  # a folder, or a file in it (e.g. waterbirds/metadata.csv)
        return data_dir / name, None
    raise DatasetError(f"unknown dataset '{name}': not a built-in task and no such file or folder "
                       f"(`{command()} datasets` lists the built-in tasks)")


def load_dataset(name: str, data_dir: Path | None = None, columns: Columns | None = None,
                 classes: list[str] | None = None, card_path: Path | None = None) -> Dataset:
    """Load a built-in task by name, or a user's file / folder by path."""
    cols = columns or Columns()
    root, card = _resolve_root(name, data_dir)
    if card is None and (is_image_folder(root) or csv_image_column(root, cols.text)):
        return load_images(root, cols, classes, card_path)
    if card is None and root.is_dir() and find_split_file(root, "train") is None and (found := csv_in_folder(root)):
        return load_images(found, cols, classes, card_path)  # e.g. Waterbirds: metadata.csv beside the images
    split_note = ""
    if root.is_file():
        files = {"train": root}
        folder = root.parent
    else:
        files = {s: p for s in SPLITS if (p := find_split_file(root, s)) is not None}
        folder = root
        if "train" not in files:
            raise DatasetError(f"{root}: no train split (expected train.json, train.json.gz, "
                               "train.jsonl or train.csv)")
    raws = {s: read_split(p, cols) for s, p in files.items()}
    for raw in raws.values():
        if not raw.texts:  # caught here, before anything is spent on an empty file
            raise DatasetError(f"{raw.path}: no rows (only a header?)")
    if root.is_file() and raws["train"].parts is not None:
        raws, split_note = partition(raws["train"], cols.split)
    notes: list[str] = [split_note] if split_note else []
    card = _pick_card(card, card_path, classes, folder, root, raws, notes)
    splits = {s: _to_split(s, raw, card) for s, raw in raws.items()}
    _check_weak_widths(splits)
    return Dataset(name=card.name, card=card, root=root, splits=splits, notes=notes)


SPLIT_NAMES = {"train": "train", "training": "train", "valid": "valid", "val": "valid", "validation": "valid",
               "dev": "valid", "test": "test", "testing": "test"}


def partition(raw: RawSplit, column: str) -> tuple[dict[str, RawSplit], str]:
    """One file's rows into the splits its split column names (train/training, valid/val/validation/dev,
    test/testing, any case); a row with another value or none is a one-line error naming it."""
    rows: dict[str, list[int]] = {}
    for i, value in enumerate(raw.parts or []):
        name = SPLIT_NAMES.get(value.lower())
        if name is None:
            raise DatasetError(f"{raw.path}: row '{raw.ids[i]}' has {column} {value!r}, not one of train, valid, "
                               f"test (or training, val, validation, dev, testing)")
        rows.setdefault(name, []).append(i)
    if "train" not in rows:
        raise DatasetError(f"{raw.path}: its {column} column names no train row")
    out = {name: RawSplit(raw.path, [raw.ids[i] for i in idx], [raw.texts[i] for i in idx],
                          [raw.labels[i] for i in idx]) for name, idx in sorted(rows.items(), key=lambda kv: SPLITS.index(kv[0]))}
    sizes = ", ".join(f"{len(v.ids):,} {k}" for k, v in out.items())
    return out, f"{raw.path.name}: its '{column}' column puts the rows in splits ({sizes})"


def own_name(root: Path) -> str:
    """A user's data is named after its file or folder; a name a built-in task has gets "-own" added, so its
    runs are never filed or priced as the built-in's."""
    name = root.name.split(".")[0] or "data"
    return f"{name}-own" if is_builtin(name) or name in BUNDLED else name


def _pick_card(card: TaskCard | None, card_path: Path | None, classes: list[str] | None,
               folder: Path, root: Path, raws: dict[str, RawSplit], notes: list[str] | None = None) -> TaskCard:
    label_json = folder / "label.json"
    names = read_label_json(label_json) if label_json.is_file() else None
    if card_path is not None:
        card = load_card_file(card_path)
    elif card is None and (folder / "task.json").is_file():
        card = load_card_file(folder / "task.json")
    if card is None:
        chosen = classes or names or _infer_classes(list(raws.values()), notes)
        if not chosen:
            raise DatasetError(f"{root}: no labels (is the label column right? --label-column), label.json or task "
                               "card to learn the classes from; give them with --classes (e.g. --classes ham,spam)")
        card = card_for_classes(own_name(root), chosen)
    elif classes and [c.lower() for c in classes] != [c.lower() for c in card.classes]:
        raise DatasetError(f"--classes {classes} do not match the task card's {card.classes}")
    if names is not None:
        _check_card_vs_label_json(card, names, label_json)
    return card


def _to_split(name: str, raw: RawSplit, card: TaskCard) -> Split:
    labels = np.array([_map_label(v, card, raw.path, i) for v, i in zip(raw.labels, raw.ids, strict=True)], dtype=np.int64)
    weak = None
    if raw.weak and any(raw.weak):
        widths = {len(w) for w in raw.weak}
        if len(widths) != 1:
            raise DatasetError(f"{raw.path}: rows have different numbers of weak_labels ({sorted(widths)})")
        weak = np.array(raw.weak, dtype=np.int64)
        bad = (weak < -1) | (weak >= card.n_classes)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise DatasetError(f"{raw.path}: row '{raw.ids[row]}' has a weak label outside -1..{card.n_classes - 1}")
        weak = weak.astype(np.int8)
    return Split(name=name, path=raw.path, ids=raw.ids, texts=raw.texts, labels=labels, weak_labels=weak)


def _check_weak_widths(splits: dict[str, Split]) -> None:
    widths = {s.name: s.weak_labels.shape[1] for s in splits.values() if s.weak_labels is not None}
    if len(set(widths.values())) > 1:
        raise DatasetError(f"splits disagree on the number of weak_labels: {widths}")


def require_text(dataset: Dataset, what: str) -> Dataset:
    """Text-only work (zero-shot labeling and its estimate) refuses images with one line, before any cost."""
    if dataset.modality == "image":
        raise DatasetError(f"{dataset.root}: {what} labels text; a text LLM cannot see images — for images use "
                           f"`{command()} run` (programs over CLIP concept scores, docs/images.md)")
    return dataset


def load_images(root: Path, cols: Columns, classes: list[str] | None = None,
                card_path: Path | None = None) -> Dataset:
    """An image dataset (see images.py): class folders, or a CSV of image paths."""
    from dataclasses import replace

    if root.is_dir():
        check_groups_wanted(root, cols.group)
        found, folder_classes = read_folder(root)
        classes = classes or folder_classes
        folder, name = root, root.name
    else:
        column = csv_image_column(root, cols.text)
        found = read_csv(root, column, cols.label, cols.group)
        folder, name = root.parent, root.parent.name or root.stem
    raws = {s: RawSplit(r.path, r.ids, r.paths, r.labels) for s, r in found.items()}
    card = _pick_card(None, card_path, classes, folder, Path(name), raws)
    if card.item == "text":
        card = replace(card, item="image", arg_name="x")
    splits = {}
    for s, raw in raws.items():
        split = _to_split(s, raw, card)
        split.groups = found[s].groups if any(found[s].groups) else None
        splits[s] = split
    return Dataset(name=card.name, card=card, root=root, splits=splits, modality="image")


def subset(split: Split, rows, name: str | None = None) -> Split:
    """The split's rows at these positions (in the order given)."""
    rows = np.asarray(rows, dtype=int)
    return Split(name=name or split.name, path=split.path, ids=[split.ids[r] for r in rows],
                 texts=[split.texts[r] for r in rows], labels=split.labels[rows],
                 weak_labels=None if split.weak_labels is None else split.weak_labels[rows],
                 groups=None if split.groups is None else [split.groups[r] for r in rows],
                 program_rows=None if split.program_rows is None else split.program_rows.take(rows))


def sample_splits(dataset: Dataset, limit: int | None, seed: int = 0) -> Dataset:
    """The same dataset with at most `limit` rows per split (a fixed random sample, order kept)."""
    if limit is None:
        return dataset
    rng = np.random.default_rng(seed)
    splits = {name: split if len(split) <= limit else
              subset(split, np.sort(rng.choice(len(split), size=limit, replace=False)))
              for name, split in dataset.splits.items()}
    return Dataset(name=dataset.name, card=dataset.card, root=dataset.root, splits=splits, modality=dataset.modality,
                   concepts=dataset.concepts)


@dataclass
class EvalSplit:
    """How much of a labeled file without valid/test splits is held out to score the run (config.json)."""

    valid: float = 0.15
    test: float = 0.15
    seed: int = 0


MIN_ROWS_TO_SPLIT = 20  # fewer labeled rows than this: holding some out would leave too little for anything


def split_for_evaluation(dataset: Dataset, plan: EvalSplit) -> tuple[Dataset, str]:
    """Labeled train rows but no valid and/or test split: hold the missing ones out of train, stratified
    by class with a fixed seed, so the run is scored. Returns the dataset and a sentence saying what was
    done ("" when nothing was)."""
    missing = [s for s in ("valid", "test") if s not in dataset.splits]
    train = dataset.train
    labeled = int(train.labeled.sum())
    if not missing or labeled == 0:
        return dataset, ""
    if labeled < MIN_ROWS_TO_SPLIT:
        return dataset, (f"only {labeled} labeled rows: too few to hold out a {' or '.join(missing)} split, "
                         "so the run has no " + " and no ".join(f"{s} scores" for s in missing))
    fraction = {"valid": plan.valid, "test": plan.test}
    rng = np.random.default_rng(plan.seed)
    taken: dict[str, list[int]] = {s: [] for s in missing}
    for c in np.unique(train.labels[train.labeled]):
        rows = rng.permutation(np.flatnonzero(train.labels == c))
        start = 0
        for s in missing:
            n = int(round(len(rows) * fraction[s]))
            taken[s] += rows[start:start + n].tolist()
            start += n
    held = {r for rows in taken.values() for r in rows}
    splits = {"train": subset(train, [r for r in range(len(train)) if r not in held]),
              **{s: v for s, v in dataset.splits.items() if s != "train"},
              **{s: subset(train, sorted(rows), s) for s, rows in taken.items()}}
    sizes = ", ".join(f"{len(taken[s])} {s}" for s in missing)
    note = (f"{train.path.name} has no {' or '.join(missing)} split: {sizes} labeled rows are held out of train "
            f"to score the run (stratified by class, seed {plan.seed}; the sizes are config.json's "
            f"own_split_valid / own_split_test)")
    return Dataset(name=dataset.name, card=dataset.card, root=dataset.root,
                   splits={s: splits[s] for s in SPLITS if s in splits}, modality=dataset.modality,
                   concepts=dataset.concepts), note




def dataset_from_frame(frame, name: str = "data", text_column: str = "text", label_column: str | None = "label",
                       classes: list[str] | None = None, split_column: str = "split",
                       card: TaskCard | None = None, id_column: str | None = None) -> Dataset:
    """A pandas DataFrame as a Dataset (the notebook's way in): a text column, an optional label column
    (class names or ids; blank = unlabeled), and an optional `split` column (train/valid/test); without
    one, every row is train (split_for_evaluation can hold labeled rows out)."""
    if text_column not in frame.columns:
        raise DatasetError(f"the DataFrame has no column '{text_column}' (columns: "
                           f"{', '.join(map(str, frame.columns))}); give text_column=")
    if label_column is not None and label_column not in frame.columns:
        label_column = None if label_column == "label" else label_column  # no labels is fine, a wrong name is not
        if label_column is not None:
            raise DatasetError(f"the DataFrame has no label column '{label_column}'")
    where = Path(f"<DataFrame {name}>")
    cols = Columns(text=text_column, label=label_column, id=id_column, split=split_column)
    raw = RawSplit(where, [], [], [])
    for number, row in enumerate(frame.to_dict("records"), 1):
        add_row(raw, row, cols, f"row {number}")
    notes: list[str] = []
    raws, split_note = partition(raw, split_column) if raw.parts is not None else ({"train": raw}, "")
    if split_note:
        notes.append(split_note)
    if card is None:
        chosen = classes or _infer_classes(list(raws.values()), notes)
        if not chosen:
            raise DatasetError("the DataFrame has no labels to learn the classes from: give classes=[...]")
        card = card_for_classes(name, chosen)
    splits = {s: _to_split(s, raw, card) for s, raw in raws.items()}
    return Dataset(name=card.name, card=card, root=where, splits=splits, notes=notes)
