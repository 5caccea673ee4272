"""Image datasets: a folder of train/valid/test class subfolders, or a CSV of image paths.

Folder layout: `ROOT/train/<class>/*.jpg` (also `valid/` or `val/`, and `test/`); class names are the
train subfolder names, sorted. CSV layout: one row per image with a column of image paths (relative
to the CSV's folder, or absolute), an optional label column, an optional `split` column
(train/valid/val/test, or Waterbirds' 0/1/2) and optional group columns (`group`, or several joined,
e.g. Waterbirds' `y,place`), which add worst-group accuracy to the report. An image's `text` in a
Split is its absolute path: that is what the distilled model reads and what labels.csv shows.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from alchemist.errors import DatasetError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
FOLDER_SPLITS = {"train": ("train",), "valid": ("valid", "val", "validation"), "test": ("test",)}
PATH_COLUMNS = ("image", "image_path", "img_filename", "img_path", "filepath", "file", "path", "filename")
SPLIT_VALUES = {"train": "train", "0": "train", "valid": "valid", "val": "valid", "validation": "valid",
                "1": "valid", "test": "test", "2": "test"}


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _class_dirs(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)


def split_folder(root: Path, split: str) -> Path | None:
    for name in FOLDER_SPLITS[split]:
        if (root / name).is_dir():
            return root / name
    return None


def is_image_folder(root: Path) -> bool:
    """A folder whose train/ holds class subfolders with at least one image."""
    train = split_folder(Path(root), "train") if Path(root).is_dir() else None
    if train is None:
        return False
    try:
        return any(is_image(f) for d in _class_dirs(train) for f in d.iterdir())
    except OSError:
        return False


def image_column(header: list[str], first: dict, wanted: str | None) -> str | None:
    """The column of image paths: `wanted` if its first value is an image path, else a usual name's."""
    names = ([wanted] if wanted in header else []) + [c for c in header if c.lower() in PATH_COLUMNS]
    for name in names:
        if is_image(Path(str(first.get(name) or "").strip())):
            return name
    return None


def csv_image_column(path: Path, wanted: str | None) -> str | None:
    """The image column of a CSV file, or None when it is not a CSV of image paths."""
    if not path.is_file() or path.name.lower().removesuffix(".gz")[-4:] != ".csv":
        return None
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(io.StringIO(f.read(1 << 16)))
            first = next(reader, None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return image_column(reader.fieldnames or [], first, wanted) if first else None


class ImageRows:
    """Rows of one split as read: ids, absolute paths, raw labels and groups."""

    def __init__(self, path: Path):
        self.path = path
        self.ids: list[str] = []
        self.paths: list[str] = []
        self.labels: list[object] = []
        self.groups: list[str] = []

    def add(self, row_id: str, image: Path, label: object, group: str = "") -> None:
        self.ids.append(row_id)
        self.paths.append(str(image))
        self.labels.append(label)
        self.groups.append(group)


def read_folder(root: Path) -> tuple[dict[str, ImageRows], list[str]]:
    """Splits of a class-folder dataset, and its classes (the train subfolders, sorted)."""
    train = split_folder(root, "train")
    classes = [d.name for d in _class_dirs(train)]
    if len(classes) < 2:
        raise DatasetError(f"{train}: found {len(classes)} class folder(s); an image dataset needs at least two "
                           "(train/<class>/<image>)")
    splits: dict[str, ImageRows] = {}
    for split in FOLDER_SPLITS:
        folder = split_folder(root, split)
        if folder is None:
            continue
        rows = ImageRows(folder)
        for d in _class_dirs(folder):
            if d.name not in classes:
                raise DatasetError(f"{d}: class folder '{d.name}' is not one of train's ({', '.join(classes)})")
            for image in sorted(f for f in d.rglob("*") if f.is_file() and is_image(f)):
                rows.add(str(image.relative_to(root)), image.resolve(), d.name)
        if not rows.paths:
            raise DatasetError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) in its class folders")
        splits[split] = rows
    return splits, classes


def read_csv(path: Path, column: str, label: str | None, group: str | None) -> dict[str, ImageRows]:
    """Splits of a CSV of image paths (all rows are train unless it has a `split` column)."""
    from alchemist.datasets import _read_all

    reader = csv.DictReader(io.StringIO(_read_all(path)))
    splits: dict[str, ImageRows] = {}
    group_cols = [g.strip() for g in group.split(",")] if group else []
    missing: list[str] = []
    try:
        for row in reader:
            if group_cols and not set(group_cols) <= set(row):
                group_cols = []  # no group column (the default name): no groups
            where = f"line {reader.line_num}"
            value = str(row.get("split") or "train").strip().lower()
            split = SPLIT_VALUES.get(value)
            if split is None:
                raise DatasetError(f"{path}: {where} has split {value!r} (use train, valid or test; or 0, 1, 2)")
            rel = str(row.get(column) or "").strip()
            image = (path.parent / rel).resolve() if rel else path.parent
            if not rel or not image.is_file():
                missing.append(rel or f"({where}: empty)")
                continue
            rows = splits.setdefault(split, ImageRows(path))
            group_value = "|".join(str(row.get(g) or "").strip() for g in group_cols)
            rows.add(str(row.get("id") or row.get("img_id") or rel), image, row.get(label) if label else None,
                     group_value)
    except csv.Error as e:
        raise DatasetError(f"{path}: malformed CSV at line {reader.line_num} ({e})") from None
    if missing:
        raise DatasetError(f"{path}: {len(missing)} image file(s) not found (paths are relative to "
                           f"{path.parent}), e.g. {', '.join(missing[:3])}")
    if "train" not in splits:
        raise DatasetError(f"{path}: no training images (rows with split train or 0)")
    return splits


def find_image_datasets(data_dir: Path) -> list[tuple[Path, str]]:
    """Image datasets in the data folder — class-folder datasets and CSVs of image paths one level down —
    with a line saying what each holds: what `main.py datasets` and the wizard list."""
    found: list[tuple[Path, str]] = []
    try:
        children = sorted(p for p in Path(data_dir).iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return found
    for folder in children:
        if is_image_folder(folder):
            train = split_folder(folder, "train")
            classes = [d.name for d in _class_dirs(train)]
            splits = [s for s in FOLDER_SPLITS if split_folder(folder, s)]
            found.append((folder, f"images in class folders ({', '.join(splits)}): {', '.join(classes[:8])}"
                                  + (", ..." if len(classes) > 8 else "")))
            continue
        for csv_path in sorted(folder.glob("*.csv")):
            column = csv_image_column(csv_path, None)
            if column:
                found.append((csv_path, f"a CSV of image paths (column {column})"))
    return found
