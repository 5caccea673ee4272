"""Reading data files: WRENCH JSON (plain or gzipped), JSONL and CSV, into raw rows.

Every problem is a one-line `DatasetError` naming the file. `datasets.py` turns raw rows into a
`Dataset` (classes, gold labels, splits); `images.py` reads image datasets with the same text reader.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

from alchemist.core.errors import DatasetError

SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".csv", ".csv.gz")


@dataclass
class Columns:
    """How to read a user's CSV / JSONL files."""

    text: str = "text"
    label: str | None = "label"
    group: str | None = None  # image CSVs: the group column(s), comma-separated (None: `group` if present)


@dataclass
class RawSplit:
    path: Path
    ids: list[str]
    texts: list[str]
    labels: list[object]  # raw label values (int, str or None) before mapping to class ids
    weak: list[list[int]] | None = None


# --- reading files --------------------------------------------------------------------------------
def open_text(path: Path) -> io.TextIOBase:
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")  # -sig: a spreadsheet's byte-order mark is not text


def read_all(path: Path) -> str:
    try:
        with open_text(path) as f:
            return f.read()
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise DatasetError(f"{path}: corrupt gzip file ({e or 'truncated'})") from None
    except UnicodeDecodeError as e:
        raise DatasetError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot read ({e.strerror or e})") from None


def read_wrench(path: Path) -> RawSplit:
    try:
        data = json.loads(read_all(path))
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a JSON object of rows keyed by id (WRENCH layout)")
    raw = RawSplit(path, [], [], [], [])
    for key, row in data.items():
        if not isinstance(row, dict) or not isinstance(row.get("data"), dict):
            raise DatasetError(f"{path}: row '{key}' has no 'data' object")
        text = row["data"].get("text")
        if not isinstance(text, str):
            raise DatasetError(f"{path}: row '{key}' has no 'data.text' string")
        weak = row.get("weak_labels", [])
        if not isinstance(weak, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in weak):
            raise DatasetError(f"{path}: row '{key}' has 'weak_labels' that are not a list of integers")
        raw.ids.append(str(key))
        raw.texts.append(text)
        raw.labels.append(row.get("label"))
        raw.weak.append(weak)
    return raw


def read_jsonl(path: Path, cols: Columns) -> RawSplit:
    raw = RawSplit(path, [], [], [])
    for lineno, line in enumerate(read_all(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise DatasetError(f"{path}: line {lineno} is not valid JSON ({e.msg})") from None
        if not isinstance(row, dict):
            raise DatasetError(f"{path}: line {lineno} is not a JSON object")
        add_row(raw, row, cols, f"line {lineno}", str(row.get("id", len(raw.ids))))
    return raw


def read_csv_rows(path: Path, cols: Columns) -> RawSplit:
    raw = RawSplit(path, [], [], [])
    reader = csv.DictReader(io.StringIO(read_all(path)))
    try:
        for row in reader:
            add_row(raw, row, cols, f"line {reader.line_num}", str(row.get("id") or len(raw.ids)))
    except csv.Error as e:
        raise DatasetError(f"{path}: malformed CSV at line {reader.line_num} ({e})") from None
    if reader.fieldnames is None:
        raise DatasetError(f"{path}: empty CSV file (no header row)")
    return raw


def add_row(raw: RawSplit, row: dict, cols: Columns, where: str, row_id: str) -> None:
    if cols.text not in row:
        raise DatasetError(f"{raw.path}: {where} has no column '{cols.text}' "
                           f"(columns: {', '.join(map(str, row))}); choose one with --text-column")
    text = row[cols.text]
    raw.ids.append(row_id)
    raw.texts.append("" if text is None else str(text))
    raw.labels.append(row.get(cols.label) if cols.label else None)


def read_texts(path: Path, text_column: str = "text") -> tuple[list[str], list[str]]:
    """(ids, texts) of a CSV / JSONL / WRENCH file, labels ignored (for labeling new text)."""
    raw = read_split(Path(path), Columns(text=text_column, label=None))
    return raw.ids, raw.texts


def read_split(path: Path, cols: Columns) -> RawSplit:
    name = path.name.removesuffix(".gz")
    if name.endswith(".jsonl"):
        return read_jsonl(path, cols)
    if name.endswith(".csv"):
        return read_csv_rows(path, cols)
    return read_wrench(path)


def read_label_json(path: Path) -> list[str]:
    try:
        data = json.loads(read_all(path))
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if (not isinstance(data, dict) or not data
            or sorted(data) != sorted(str(i) for i in range(len(data)))
            or not all(isinstance(v, str) for v in data.values())):
        raise DatasetError(f"{path}: expected {{\"0\": \"class name\", \"1\": ...}} with ids 0..k-1")
    return [data[str(i)] for i in range(len(data))]


def find_split_file(folder: Path, split: str) -> Path | None:
    for suffix in SUFFIXES:
        path = folder / f"{split}{suffix}"
        if path.is_file():
            return path
    return None


def columns_of(path: Path) -> list[str]:
    """The column names of a CSV file's header, or the keys of a JSONL file's first row ([] for WRENCH
    JSON or an unreadable file): what the wizard offers as the text and label columns."""
    name = path.name.removesuffix(".gz")
    try:
        with open_text(path) as f:
            first = f.readline()
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile, zlib.error):
        return []
    if name.endswith(".csv"):
        return next(csv.reader([first]), [])
    if name.endswith(".jsonl"):
        try:
            row = json.loads(first)
        except json.JSONDecodeError:
            return []
        return [str(k) for k in row] if isinstance(row, dict) else []
    return []
