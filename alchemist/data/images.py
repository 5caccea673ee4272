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

from alchemist.core.errors import DatasetError
from alchemist.data.readers import read_all

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
FOLDER_SPLITS = {"train": ("train",), "valid": ("valid", "val", "validation"), "test": ("test",)}
PATH_COLUMNS = ("image", "image_path", "img_filename", "img_path", "filepath", "file", "path", "filename")
SPLIT_VALUES = {"train": "train", "0": "train", "valid": "valid", "val": "valid", "validation": "valid",
                "1": "valid", "test": "test", "2": "test", "0.0": "train", "1.0": "valid", "2.0": "test"}
SCAN_ROWS = 50  # rows looked at to find the image column (the first may have an empty cell)


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _visible(path: Path, root: Path) -> bool:
    """Not hidden below root: macOS `._x.png`, `.ipynb_checkpoints/` and the like are not data."""
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def _images(folder: Path):
    """The image files below a folder (any depth), hidden ones left out, as they are found."""
    return (f for f in folder.rglob("*") if f.is_file() and is_image(f) and _visible(f, folder))


def images_in(folder: Path) -> list[Path]:
    return sorted(_images(folder))


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
        return any(next(_images(d), None) is not None for d in _class_dirs(train))
    except OSError:
        return False


def image_column(header: list[str], rows: list[dict], wanted: str | None) -> str | None:
    """The column of image paths: `wanted` if its first non-empty value is an image path, else a usual name's."""
    names = ([wanted] if wanted in header else []) + [c for c in header if c.lower() in PATH_COLUMNS]
    for name in names:
        value = next((str(r.get(name)).strip() for r in rows if str(r.get(name) or "").strip()), "")
        if is_image(Path(value)):
            return name
    return None


def csv_image_column(path: Path, wanted: str | None) -> str | None:
    """The image column of a CSV file, or None when it is not a CSV of image paths."""
    if not path.is_file() or path.name.lower().removesuffix(".gz")[-4:] != ".csv":
        return None
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:  # -sig: a spreadsheet's byte-order mark
            reader = csv.DictReader(io.StringIO(f.read(1 << 16)))
            rows = [row for _, row in zip(range(SCAN_ROWS), reader)]
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return image_column(reader.fieldnames or [], rows, wanted) if rows else None


def csv_in_folder(folder: Path) -> Path | None:
    """A dataset folder holding one CSV of image paths (Waterbirds: metadata.csv beside the images)."""
    found = [p for p in sorted(Path(folder).glob("*.csv")) if csv_image_column(p, None)] if Path(folder).is_dir() else []
    return found[0] if len(found) == 1 else None


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
    empty = [d.name for d in _class_dirs(train) if next(_images(d), None) is None]
    if empty:  # a class is a folder name: an empty one would still take a class id and shift the others
        raise DatasetError(f"{train}: class folder(s) {', '.join(empty)} hold no images; remove them or add images "
                           "(class ids follow the folder names)")
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
            for image in images_in(d):
                rows.add(str(image.relative_to(root)), image.resolve(), d.name)
        if not rows.paths:
            raise DatasetError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) in its class folders")
        splits[split] = rows
    return splits, classes


def read_csv(path: Path, column: str, label: str | None, group: str | None) -> dict[str, ImageRows]:
    """Splits of a CSV of image paths (all rows are train unless it has a `split` column)."""

    reader = csv.DictReader(io.StringIO(read_all(path)))
    header = reader.fieldnames or []
    group_cols = [g.strip() for g in group.split(",") if g.strip()] if group else (
        ["group"] if "group" in header else [])  # asked for: must be there; else `group` when present
    if set(group_cols) - set(header):
        raise DatasetError(f"{path}: no column {', '.join(sorted(set(group_cols) - set(header)))} for groups "
                           f"(columns: {', '.join(header)})")
    split_col = next((c for c in header if c.strip().lower() == "split"), None)
    splits: dict[str, ImageRows] = {}
    missing: list[str] = []
    try:
        for row in reader:
            where = f"line {reader.line_num}"
            value = str(row.get(split_col) or "").strip().lower() if split_col else "train"
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


def check_groups_wanted(root: Path, group: str | None) -> None:
    """--group-column on class folders: they have no columns; say so rather than ignore it."""
    if group and Path(root).is_dir():
        raise DatasetError(f"{root}: --group-column needs a CSV of image paths with that column; class folders "
                           "have no groups")


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
