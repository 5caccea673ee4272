"""Converting a downloaded source to the WRENCH layout (train/valid/test/label.json) for
`datasets --download` (alchemist/download.py).

Each source format in alchemist/dataset_sources.json has its reader here — WRENCH files taken as they are,
the Financial PhraseBank zip, JSON (records, JSON lines, columns), Parquet, CSV — turning records into rows
of (text, class id, kept fields). A source without a valid or test split gets the documented one held out,
stratified by class with the table's seed, so the split is the same on every machine. Kept apart from the
orchestration so a new format is one reader here; pyarrow and scikit-learn are imported only when used.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from alchemist.core.errors import DatasetError
from alchemist.core.files import atomic_write_json, atomic_write_text
from alchemist.data.datasets import SPLITS
from alchemist.data.download.sources import Source
from alchemist.data.tasks import TaskCard

Row = tuple[str, int, dict]  # (text, class id, extra data fields kept from the source)
Found = dict[str, list[tuple[Path, str]]]  # role -> [(local file, the name errors give it)]


def build(src: Source, card: TaskCard, files: Found, folder: Path) -> dict[str, str]:
    """Write train/valid/test/label.json into `folder`; returns {file name: the name errors give it}."""
    folder.mkdir(parents=True)
    if src.read["format"] == "wrench":
        return _take_wrench(files, folder)
    parts = {role: [row for path, shown in found for row in _read_rows(src, path, shown)]
             for role, found in files.items()}
    origin = " + ".join(shown for found in files.values() for _, shown in found)
    shown = {}
    for split, rows in _split(src, parts).items():
        _write_split(folder / f"{split}.json", rows)
        shown[f"{split}.json"] = f"{src.name} {split} split (converted from {origin})"
    atomic_write_json(folder / "label.json", {str(i): c for i, c in enumerate(card.classes)})
    return shown


def _take_wrench(files: Found, folder: Path) -> dict[str, str]:
    shown = {}
    for role, found in files.items():
        if len(found) != 1:
            raise DatasetError(f"{role}: expected one file, found {len(found)}")
        path, name = found[0]
        shutil.move(path, folder / f"{role}.json")  # kept byte for byte once checked
        shown[f"{role}.json"] = name
    return shown


def _read_rows(src: Source, path: Path, shown: str) -> list[Row]:
    readers = {"phrasebank": _phrasebank_records, "json_records": _json_records, "parquet": _parquet_records,
               "csv": _csv_records}
    records = readers[src.read["format"]](src.read, path, shown)
    return [_to_row(src, record, shown, i) for i, record in enumerate(records, 1)]


def _to_row(src: Source, record: dict, shown: str, number: int) -> Row:
    text_field, label_field = src.read.get("text", "text"), src.read.get("label", "label")
    for name in (text_field, label_field):
        if name not in record:
            raise DatasetError(f"{shown}: record {number} has no '{name}' field "
                               f"(fields: {', '.join(map(str, record))})")
    value = record[label_field]
    key = _label_key(value)
    if key not in (src.labels or {}):
        raise DatasetError(f"{shown}: record {number} has label {value!r}, not one of "
                           f"{', '.join(src.labels or {})}")
    text = record[text_field]
    extra = {k: record[k] for k in src.read.get("keep", []) if k in record}
    return ("" if text is None else str(text)), src.labels[key], extra


def _label_key(value: object) -> str:
    """A source label as the table's keys spell it: 1, 1.0 and "1" are all "1"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _phrasebank_records(read: dict, path: Path, shown: str) -> list[dict]:
    """Financial PhraseBank: a zip of `sentence@label` lines in Latin-1."""
    import zipfile

    member = read["member"]
    try:
        with zipfile.ZipFile(path) as archive:
            data = archive.read(member)
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise DatasetError(f"{shown}: not a readable zip file, truncated or corrupt ({e})") from None
    except KeyError:
        raise DatasetError(f"{shown}: the zip has no {member}") from None
    records = []
    for number, line in enumerate(data.decode(read.get("encoding", "latin-1")).splitlines(), 1):
        if line.strip():
            text, at, label = line.rpartition("@")
            if not at:
                raise DatasetError(f"{shown}: {member} line {number} has no '@label'")
            records.append({"text": text.strip(), "label": label.strip()})
    return records


def read_text(path: Path, shown: str, encoding: str) -> str:
    try:
        return path.read_bytes().decode(encoding)
    except UnicodeDecodeError as e:
        raise DatasetError(f"{shown}: not {encoding} text (byte {e.start})") from None


def _json_records(read: dict, path: Path, shown: str) -> list[dict]:
    """A JSON array of records, JSON lines, or a column-wise object (the shapes a Hub JSON file takes)."""
    text = read_text(path, shown, "utf-8-sig")
    try:
        data = json.loads(text) if text.lstrip().startswith("[") else _json_lines(text)
    except json.JSONDecodeError as e:
        raise DatasetError(f"{shown}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}) — "
                           "truncated or corrupt") from None
    if isinstance(data, dict):
        data = _columns_to_records(data, shown)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DatasetError(f"{shown}: expected JSON records (objects), one per review")
    return data


def _json_lines(text: str) -> list | dict:
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        try:
            return [json.loads(line) for line in lines]
        except json.JSONDecodeError:
            pass  # not JSON lines: one object over many lines, parsed whole below
    return json.loads(text)


def _columns_to_records(data: dict, shown: str) -> list[dict]:
    """{"col": [v, ...]} or pandas' {"col": {"row": v}} into records."""
    if isinstance(data.get("data"), list):
        return data["data"]
    columns = {k: (list(v.values()) if isinstance(v, dict) else v) for k, v in data.items()}
    lengths = {len(v) for v in columns.values() if isinstance(v, list)}
    if len(lengths) != 1 or not all(isinstance(v, list) for v in columns.values()):
        raise DatasetError(f"{shown}: a JSON object that is neither records nor columns of equal length")
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def _parquet_records(read: dict, path: Path, shown: str) -> list[dict]:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pylist()
    except Exception as e:  # pyarrow's ArrowInvalid and friends: the file is not whole
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DatasetError(f"{shown}: not a readable Parquet file, truncated or corrupt ({first[:200]})") from None


def _csv_records(read: dict, path: Path, shown: str) -> list[dict]:
    csv.field_size_limit(2**31 - 1)  # full-text articles (cancer) are longer than csv's 128 kB default
    reader = csv.DictReader(io.StringIO(read_text(path, shown, read.get("encoding", "utf-8"))))
    try:
        return list(reader)
    except csv.Error as e:
        raise DatasetError(f"{shown}: malformed CSV at line {reader.line_num} ({e})") from None


def _split(src: Source, parts: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """The documented splits: test held out of `all` when the source has no test split, then valid held
    out of train — each stratified by class with the table's seed, each part in source order."""
    spec = src.split or {}
    seed = int(spec.get("seed", 0))
    out = {s: parts[s] for s in SPLITS if s in parts}
    if "all" in parts:
        out["train"], out["test"] = _hold_out(parts["all"], spec["test"], seed, src.name)
    if "valid" not in out:
        out["train"], out["valid"] = _hold_out(out["train"], spec["valid"], seed, src.name)
    return {s: out[s] for s in SPLITS}


def _hold_out(rows: list[Row], fraction: float, seed: int, name: str) -> tuple[list[Row], list[Row]]:
    """scikit-learn's train_test_split (pinned in requirements.txt), so a split is the same on every machine."""
    from sklearn.model_selection import train_test_split

    try:
        keep, held = train_test_split(list(range(len(rows))), test_size=fraction, random_state=seed,
                                      stratify=[r[1] for r in rows])
    except ValueError as e:
        raise DatasetError(f"{name}: cannot split {len(rows)} rows by class ({e})") from None
    return [rows[i] for i in sorted(keep)], [rows[i] for i in sorted(held)]


def _write_split(path: Path, rows: list[Row]) -> None:
    data = {str(i): {"label": label, "data": {"text": text, **extra}, "weak_labels": []}
            for i, (text, label, extra) in enumerate(rows)}
    atomic_write_text(path, json.dumps(data, ensure_ascii=False) + "\n")


