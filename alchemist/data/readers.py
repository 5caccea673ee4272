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

SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet")
TABLES = (".csv", ".tsv", ".tab")  # read as delimited text
PARQUET = (".parquet", ".pq")
WORKBOOKS = (".xlsx", ".xlsm", ".xls", ".ods", ".numbers")


@dataclass
class Columns:
    """How to read a user's CSV / JSONL files."""

    text: str = "text"
    label: str | None = "label"
    group: str | None = None  # image CSVs: the group column(s), comma-separated (None: `group` if present)
    id: str | None = None  # the rows' own ids (None: a column named `id`, if any; else the row number)
    encoding: str = "utf-8"  # of CSV / TSV / JSONL files
    split: str = "split"  # a column saying which rows are train / valid / test, when a file has it


@dataclass
class RawSplit:
    path: Path
    ids: list[str]
    texts: list[str]
    labels: list[object]  # raw label values (int, str or None) before mapping to class ids
    weak: list[list[int]] | None = None
    parts: list[str] | None = None  # each row's value of the split column, when the file has one


# --- reading files --------------------------------------------------------------------------------
def open_text(path: Path, encoding: str = "utf-8") -> io.TextIOBase:
    encoding = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")  # utf-8-sig: a spreadsheet's byte-order mark is not text


def read_all(path: Path, encoding: str = "utf-8") -> str:
    try:
        with open_text(path, encoding) as f:
            return f.read()
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except LookupError:
        raise DatasetError(f"--encoding {encoding}: not an encoding Python knows (e.g. utf-8, cp1252, latin-1, "
                           "utf-16)") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise DatasetError(f"{path}: corrupt gzip file ({e or 'truncated'})") from None
    except UnicodeDecodeError as e:
        byte = e.object[e.start:e.start + 1].hex() if isinstance(e.object, (bytes, bytearray)) else "?"
        shown = "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        raise DatasetError(f"{path}: not {shown} text (byte 0x{byte} at position {e.start:,}); a file saved by "
                           "Excel or an older Windows program is often cp1252 or latin-1: pass --encoding cp1252 "
                           "(or latin-1, utf-16)") from None
    except UnicodeError as e:  # e.g. utf-16 without a byte-order mark, a codec that cannot decode at all
        raise DatasetError(f"{path}: cannot be read as {encoding} text ({e}); try --encoding utf-8, cp1252 or "
                           "latin-1") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot read ({e.strerror or e})") from None


def parse_json(text: str, path: Path, where: str = ""):
    """json.loads with every failure one line naming the file (and the line): bad JSON, absurd nesting."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        at = where or f"line {e.lineno}, column {e.colno}"
        raise DatasetError(f"{path}: not valid JSON ({at}: {e.msg})") from None
    except RecursionError:
        raise DatasetError(f"{path}: JSON nested too deeply{' (' + where + ')' if where else ''}") from None


def read_wrench(path: Path) -> RawSplit:
    data = parse_json(read_all(path), path)
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
    for lineno, line in enumerate(read_all(path, cols.encoding).splitlines(), 1):
        if not line.strip():
            continue
        row = parse_json(line, path, f"line {lineno}")
        if not isinstance(row, dict):
            raise DatasetError(f"{path}: line {lineno} is not a JSON object")
        add_row(raw, row, cols, f"line {lineno}")
    return raw


def read_csv_rows(path: Path, cols: Columns) -> RawSplit:
    """CSV, or tab-separated (.tsv / .tab) text, with a header row."""
    raw = RawSplit(path, [], [], [])
    tabs = path.name.removesuffix(".gz").endswith((".tsv", ".tab"))
    reader = csv.DictReader(io.StringIO(read_all(path, cols.encoding)), delimiter="\t" if tabs else ",")
    try:
        for row in reader:
            add_row(raw, row, cols, f"line {reader.line_num}")
    except csv.Error as e:
        raise DatasetError(f"{path}: malformed {'TSV' if tabs else 'CSV'} at line {reader.line_num} ({e})") from None
    if reader.fieldnames is None:
        raise DatasetError(f"{path}: empty {'TSV' if tabs else 'CSV'} file (no header row)")
    return raw


def read_parquet_rows(path: Path, cols: Columns) -> RawSplit:
    """A Parquet file, read whole (pyarrow); `--backend dask` reads a big one partition by partition."""
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except Exception as e:  # noqa: BLE001 - pyarrow and pandas raise many kinds: every one is "cannot read"
        raise DatasetError(f"{path}: cannot read it as Parquet ({type(e).__name__}: {str(e)[:200]})") from None
    raw = RawSplit(path, [], [], [])
    for number, row in enumerate(frame.to_dict("records"), 1):
        add_row(raw, row, cols, f"row {number}")
    return raw


def add_row(raw: RawSplit, row: dict, cols: Columns, where: str) -> None:
    if cols.text not in row:
        raise DatasetError(f"{raw.path}: {where} has no column '{cols.text}' "
                           f"(columns: {', '.join(map(str, row))}); choose one with --text-column")
    if cols.id is not None and cols.id not in row:
        raise DatasetError(f"{raw.path}: {where} has no id column '{cols.id}' (columns: "
                           f"{', '.join(map(str, row))}); choose one with --id-column")
    given = row.get(cols.id or "id")
    raw.ids.append(str(len(raw.ids)) if missing(given) or given == "" else cell_text(given))
    raw.texts.append(cell_text(row[cols.text]))
    label = row.get(cols.label) if cols.label else None
    raw.labels.append(None if missing(label) else label)
    if cols.split and cols.split in row:
        if raw.parts is None:
            raw.parts = [""] * (len(raw.ids) - 1)
        raw.parts.append(cell_text(row[cols.split]).strip())


def missing(value: object) -> bool:
    """None, NaN, pandas' NA or NaT: a cell with nothing in it (an empty row's text, an unlabeled row). A
    cell holding a list, an array or a mapping is not missing (it is read as its text)."""
    if value is None:
        return True
    if isinstance(value, (str, bytes, list, tuple, dict, set)) or hasattr(value, "__array__") and getattr(
            value, "ndim", 0):
        return False
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (ImportError, TypeError, ValueError):
        return value != value  # NaN


def cell_text(value: object) -> str:
    """A cell as text; a missing one is the empty string, as an empty row is everywhere else; bytes are
    read as UTF-8 (never shown as b'...')."""
    if missing(value):
        return ""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def read_texts(path: Path, text_column: str = "text", id_column: str | None = None,
               encoding: str = "utf-8") -> tuple[list[str], list[str]]:
    """(ids, texts) of a CSV / TSV / JSONL / Parquet / WRENCH file, labels ignored (for labeling new text)."""
    raw = read_split(Path(path), Columns(text=text_column, label=None, id=id_column, encoding=encoding))
    return raw.ids, raw.texts


def read_split(path: Path, cols: Columns) -> RawSplit:
    name = path.name.removesuffix(".gz").lower()
    if name.endswith(".jsonl"):
        return read_jsonl(path, cols)
    if name.endswith(TABLES):
        return read_csv_rows(path, cols)
    if name.endswith(PARQUET):
        return read_parquet_rows(path, cols)
    if name.endswith(WORKBOOKS):
        raise DatasetError(f"{path}: a spreadsheet workbook is not read; open it, save the sheet as CSV (UTF-8), "
                           "and pass the .csv file")
    if not name.endswith(".json"):
        raise DatasetError(f"{path}: not a kind of file read here (CSV, TSV, JSONL, Parquet, or WRENCH JSON; "
                           "any of them may be gzipped); for plain text, one row per line, save it as a CSV with "
                           "a `text` header")
    return read_wrench(path)


def read_label_json(path: Path) -> list[str]:
    data = parse_json(read_all(path), path)
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
    """The column names of a CSV / TSV file's header or a Parquet file's schema, or the keys of a JSONL file's
    first row ([] for WRENCH JSON or an unreadable file): what the wizard offers as the text and label columns."""
    name = path.name.removesuffix(".gz").lower()
    if name.endswith(PARQUET):
        try:
            import pyarrow.parquet as pq

            return [str(c) for c in pq.read_schema(path).names]
        except Exception:  # noqa: BLE001 - unreadable: nothing to offer
            return []
    try:
        with open_text(path) as f:
            first = f.readline()
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile, zlib.error):
        return []
    if name.endswith(TABLES):
        return next(csv.reader([first], delimiter="\t" if name.endswith((".tsv", ".tab")) else ","), [])
    if name.endswith(".jsonl"):
        try:
            row = json.loads(first)
        except (json.JSONDecodeError, RecursionError):
            return []
        return [str(k) for k in row] if isinstance(row, dict) else []
    return []
