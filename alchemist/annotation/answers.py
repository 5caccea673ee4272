"""The answers file: one JSON object per line, appended and flushed the moment a person answers.

The first line says which data it belongs to (the dataset's name, its fingerprint and classes); then
`answer` (row id, a hash of the row's text, class name, pool, seconds taken), `skip` and `undo` lines.
Nothing is ever rewritten: replaying the lines gives the current answers (a later answer to a row
replaces an earlier one; an undo takes back the last answer or skip). A line cut short by a crash is
the last line and is ignored; anything else that does not parse is refused with its line number.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from alchemist.core.errors import AlchemistError
from alchemist.core.paths import project_home
from alchemist.core.safe_text import clean

VERSION = 1
POOLS = ("random", "chosen")


class AnswersError(AlchemistError):
    """An answers file that does not fit the data, or cannot be read or written."""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def fingerprint(ids: list[str], texts: list[str], classes: list[str]) -> str:
    """The data a file of answers belongs to: every train row's id and text, and the classes."""
    h = hashlib.sha256(json.dumps(classes).encode())
    for row_id, text in zip(ids, texts, strict=True):
        h.update(f"{row_id}\0{text_hash(text)}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]


def default_path(dataset_name: str) -> Path:
    """annotations/<dataset>.jsonl in the project folder (the name made safe for a file name)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", dataset_name).strip("._") or "data"
    return project_home() / "annotations" / f"{safe}.jsonl"


@dataclass
class Answer:
    row: str  # the row's id
    text: str  # hash of its text when answered
    label: str  # class name
    pool: str  # random | chosen
    seconds: float | None = None
    source: str = "person"  # or "imported"


@dataclass
class Answers:
    """The replayed file: current answers by row id, skipped rows, the order things happened in."""

    path: Path
    dataset: str
    fingerprint: str
    classes: list[str]
    answers: dict[str, Answer] = field(default_factory=dict)  # the current answer of each row
    skipped: set[str] = field(default_factory=set)
    history: list[tuple[str, str]] = field(default_factory=list)  # (kind, row id) of answers and skips, in order
    _earlier: dict[str, list[Answer]] = field(default_factory=dict, repr=False)  # answers an answer replaced

    def by_pool(self, pool: str) -> list[Answer]:
        return [a for a in self.answers.values() if a.pool == pool]

    def seen(self) -> set[str]:
        return set(self.answers) | self.skipped

    # --- writing: one line per event, flushed to disk before returning ---------------------------------
    def answer(self, row: str, text: str, label: str, pool: str, seconds: float | None = None,
               source: str = "person") -> None:
        if label not in self.classes:
            raise AnswersError(f"'{clean(label, 60)}' is not one of the classes ({', '.join(self.classes)})")
        a = Answer(row, text_hash(text), label, pool, None if seconds is None else round(seconds, 2), source)
        self._append({"kind": "answer", **a.__dict__})
        self._replay_event("answer", a)

    def skip(self, row: str, text: str) -> None:
        self._append({"kind": "skip", "row": row, "text": text_hash(text)})
        self._replay_event("skip", row)

    def undo(self) -> str | None:
        """Take back the last answer or skip; the row id it concerned (None when there is nothing to undo)."""
        if not self.history:
            return None
        self._append({"kind": "undo"})
        return self._replay_event("undo", None)

    def _append(self, record: dict) -> None:
        record["at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            cut = _cut_line(self.path)
            if cut:  # a crash left a line without its end: close it, and say it was cut, before going on
                line = "\n" + json.dumps({"kind": "cut", "line": cut}) + "\n" + line
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise AnswersError(f"cannot save the answer to {self.path}: {e.strerror or e}") from None

    def _replay_event(self, kind: str, value) -> str | None:
        if kind == "answer":
            if value.row in self.answers:
                self._earlier.setdefault(value.row, []).append(self.answers[value.row])
            self.answers[value.row] = value
            self.skipped.discard(value.row)
            self.history.append(("answer", value.row))
        elif kind == "skip":
            self.skipped.add(value)
            self.history.append(("skip", value))
        elif kind == "undo" and self.history:
            what, row = self.history.pop()
            if what == "skip":
                self.skipped.discard(row)
            elif self._earlier.get(row):  # an answer that replaced another: the other comes back
                self.answers[row] = self._earlier[row].pop()
            else:
                self.answers.pop(row, None)
            return row
        return None


def _cut_line(path: Path) -> int:
    """The number of the file's last line when a crash cut it short (no newline at its end), else 0."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() == 0:
            return 0
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return 0
        f.seek(0)
        return f.read().count(b"\n") + 1


def create(path: Path, dataset: str, fp: str, classes: list[str]) -> Answers:
    """A new answers file with its header line (refused if a file is already there)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AnswersError(f"cannot create the folder of {path}: {e.strerror or e}") from None
    header = {"kind": "header", "version": VERSION, "dataset": dataset, "fingerprint": fp, "classes": classes,
              "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    try:
        with open(path, "x", encoding="utf-8") as f:
            f.write(json.dumps(header, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
    except FileExistsError:
        return read(path)
    except OSError as e:
        raise AnswersError(f"cannot create {path}: {e.strerror or e}") from None
    return Answers(path, dataset, fp, list(classes))


def read(path: Path) -> Answers:
    """Replay a file; one line that cannot be read (other than a last line cut short) is refused."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        raise AnswersError(f"{path}: no such answers file") from None
    except (OSError, UnicodeError) as e:
        raise AnswersError(f"{path}: cannot be read ({getattr(e, 'strerror', None) or e})") from None
    complete = lines[:-1]  # the text after the last newline is a line cut short (or nothing)
    if not complete:
        raise AnswersError(f"{path}: empty, not an answers file")
    try:
        header = json.loads(complete[0])
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("kind") != "header" or not isinstance(header.get("classes"), list):
        raise AnswersError(f"{path} is not an answers file (made by annotate; its first line is not one's header)")
    cut = set()
    for line in complete[1:]:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("kind") == "cut" and isinstance(rec.get("line"), int):
            cut.add(rec["line"])
    out = Answers(path, str(header.get("dataset", "")), str(header.get("fingerprint", "")),
                  [str(c) for c in header["classes"]])
    for n, line in enumerate(complete[1:], start=2):
        if not line.strip() or n in cut:
            continue
        rec = _parse(path, n, line)
        kind = rec.get("kind")
        if kind == "answer":
            label, pool = rec.get("label"), rec.get("pool")
            if label not in out.classes:
                raise AnswersError(f"{path}, line {n}: row '{clean(rec.get('row'), 60)}' has label "
                                   f"'{clean(label, 60)}', not one of the classes ({', '.join(out.classes)})")
            if pool not in POOLS:
                raise AnswersError(f"{path}, line {n}: pool '{clean(pool, 30)}' is neither random nor chosen")
            out._replay_event("answer", Answer(str(rec.get("row")), str(rec.get("text")), label, pool,
                                               rec.get("seconds"), str(rec.get("source", "person"))))
        elif kind == "skip":
            out._replay_event("skip", str(rec.get("row")))
        elif kind == "undo":
            out._replay_event("undo", None)
        elif kind == "cut":
            pass
        else:
            raise AnswersError(f"{path}, line {n}: unknown record '{clean(kind, 30)}'")
    return out


def _parse(path: Path, n: int, line: str) -> dict:
    try:
        rec = json.loads(line)
    except ValueError:
        raise AnswersError(f"{path}, line {n}: not a JSON record (the file is damaged)") from None
    if not isinstance(rec, dict):
        raise AnswersError(f"{path}, line {n}: not a JSON object (the file is damaged)")
    return rec


def open_for(path: Path, dataset: str, ids: list[str], texts: list[str], classes: list[str]) -> Answers:
    """The answers file for this data: created when missing, else read and checked against the data."""
    fp = fingerprint(ids, texts, classes)
    if not path.exists():
        return create(path, dataset, fp, classes)
    answers = read(path)
    check(answers, ids, texts, classes)
    return answers


def check(answers: Answers, ids: list[str], texts: list[str], classes: list[str]) -> None:
    """Refuse answers that do not fit this data: other classes, a row not in it, a row whose text changed."""
    if answers.classes != list(classes):
        raise AnswersError(f"{answers.path} was answered with the classes {', '.join(answers.classes)}; this data has "
                           f"{', '.join(classes)} (another dataset? give another file with --answers)")
    by_id = dict(zip(ids, texts, strict=True))
    for a in answers.answers.values():
        if a.row not in by_id:
            raise AnswersError(f"{answers.path}: row '{clean(a.row, 60)}' was answered but is not in this data "
                               f"(another dataset, or rows removed? give another file with --answers)")
        if text_hash(by_id[a.row]) != a.text:
            raise AnswersError(f"{answers.path}: the text of row '{clean(a.row, 60)}' changed since it was answered; "
                               f"answer it again in a new file (--answers) or restore the data")


def import_csv(answers: Answers, csv_path: Path, ids: list[str], texts: list[str], pool: str,
               encoding: str = "utf-8") -> tuple[int, list[str]]:
    """Append a CSV of id,label (a header line is optional; labels are class names or ids 0..k-1). Every
    row is checked before anything is written: an unknown row or class is refused naming it. Returns how
    many were imported and notes for the user (numbers read as class ids, answers replaced, repeats)."""
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # a byte-order mark (Excel's UTF-8) is not part of the first id
    try:
        with open(csv_path, newline="", encoding=encoding) as f:
            rows = [r for r in csv.reader(f) if any(c.strip() for c in r)]
    except FileNotFoundError:
        raise AnswersError(f"{csv_path}: no such file") from None
    except (OSError, UnicodeError, csv.Error) as e:
        raise AnswersError(f"{csv_path}: cannot be read as CSV ({getattr(e, 'strerror', None) or e})") from None
    by_id = dict(zip(ids, texts, strict=True))
    if rows and len(rows[0]) >= 2 and rows[0][0].strip() not in by_id \
            and class_name(rows[0][1].strip(), answers.classes) is None:
        rows = rows[1:]  # a header line (id,label or any names of its own)
    if not rows:
        raise AnswersError(f"{csv_path}: no rows of id,label to import")
    parsed, numeric = [], False
    for n, r in enumerate(rows, start=1):
        if len(r) < 2:
            raise AnswersError(f"{csv_path}: row {n} has no label column (expected id,label)")
        row, label = r[0].strip(), r[1].strip()
        if row not in by_id:
            raise AnswersError(f"{csv_path}: row {n} names id '{clean(row, 60)}', which is not in the data")
        name = class_name(label, answers.classes)
        if name is None:
            raise AnswersError(f"{csv_path}: row {n} (id '{clean(row, 60)}') has label '{clean(label, 60)}', not one "
                               f"of the classes ({', '.join(answers.classes)}) or their ids")
        numeric = numeric or (label not in answers.classes and label.isdigit())
        parsed.append((row, name))
    replaced = sum(1 for row, name in dict(parsed).items() if row in answers.answers and answers.answers[row].label != name)
    repeats = len(parsed) - len(dict(parsed))
    for row, name in parsed:
        answers.answer(row, by_id[row], name, pool, source="imported")
    notes = []
    if numeric:
        notes.append("labels given as numbers were read as class ids counted from 0: "
                     + ", ".join(f"{i} = {c}" for i, c in enumerate(answers.classes))
                     + " (annotate's keys count from 1)")
    if replaced:
        notes.append(f"{replaced} of these rows had another answer before: the imported one replaces it "
                     "(undo in annotate takes the last change back)")
    if repeats:
        notes.append(f"{repeats} rows appear more than once in {csv_path.name}: the last of each was kept")
    return len(parsed), notes


def class_name(label: str, classes: list[str]) -> str | None:
    """The class a person meant: its name as is, in any case or spacing, or its id."""
    label = label.strip()
    if label in classes:
        return label
    folded = {c.strip().lower(): c for c in classes}
    if label.lower() in folded:
        return folded[label.lower()]
    if label.isdigit() and int(label) < len(classes):
        return classes[int(label)]
    return None
