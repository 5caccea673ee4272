"""`alchemist import-labels RUN_DIR FILE`: a reviewer's answers (a Label Studio JSON export, an Argilla
export, or a CSV of id,label) become gold labels of the run's data, in the same answers file `annotate`
writes. Rows reviewed from a random sample of train (exported with --only all) go to the random pool,
which the next apply uses as its valid split (scores, vetting, the label-model choice, calibration);
rows picked because they were uncertain or disputed go to the chosen pool (training and refinement's
mistakes only: scoring on them would be biased). Everything is checked before anything is written."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from alchemist.annotation.answers import POOLS, Answers, class_name, default_path, open_for
from alchemist.core.errors import AlchemistError
from alchemist.core.safe_text import clean
from alchemist.exchange import argilla, label_studio
from alchemist.exchange.run_labels import RunLabels, load

SOURCE = "review"


@dataclass
class Imported:
    answers: Path
    by_pool: dict[str, int] = field(default_factory=dict)
    corrected: int = 0  # answers that differ from the run's label
    replaced: int = 0  # rows that had another answer before
    notes: list[str] = field(default_factory=list)


def read_reviewed(path: Path, run: RunLabels, pool: str | None, notes: list[str]) -> list[tuple]:
    """(row id, class name, pool, where, split or None) of every answered row in the file, checked against
    the run."""
    path = Path(path).expanduser()
    if not path.exists():
        raise AlchemistError(f"{path}: no such file")
    if path.is_dir():  # an Argilla dataset folder (to_disk layout)
        if not (path / "records.json").is_file():
            raise AlchemistError(f"{path}: a folder without records.json (give an Argilla dataset folder, or the "
                                 "exported .json or .csv file)")
        path = path / "records.json"
    name = path.name.lower()
    if name.endswith(".csv"):
        return _from_csv(path, run, pool)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeError, ValueError) as e:
        raise AlchemistError(f"{path}: not a JSON export ({e})") from None
    if isinstance(data, dict):
        data = data.get("records") or data.get("tasks") or [data]
    if not isinstance(data, list):
        raise AlchemistError(f"{path}: not a list of tasks or records")
    argilla_like = any(isinstance(r, dict) and ("fields" in r or f"{argilla.QUESTION}.responses" in r) for r in data)
    found = argilla.reviewed(data, str(path)) if argilla_like else label_studio.reviewed(data, str(path))
    kind = "record" if argilla_like else "task"
    out = []
    disputed = 0
    for meta, label, n, conflict in found:
        where = f"{path.name} {kind} {n}"
        disputed += conflict
        _same_run(run, meta.get("alchemist_run"), where)
        row = meta.get("alchemist_id")
        if row is None:
            raise AlchemistError(f"{where} has no alchemist_id: it was not exported by `alchemist export`")
        out.append((str(row), label, pool or str(meta.get("alchemist_pool") or "chosen"), where,
                    meta.get("alchemist_split")))
    if not out:
        raise AlchemistError(f"{path}: no reviewed rows in it (no submitted annotation or response)")
    if disputed:
        notes.append(f"{disputed} {kind}s have answers that disagree: the newest answer of each was taken")
    return out


def _same_run(run: RunLabels, theirs: object, where: str) -> None:
    """An export of this run: these results, or earlier results of the same run folder (a re-apply since)."""
    if theirs is None or str(theirs) == run.run_id:
        return
    if (run.results.parent / str(theirs) / "report.json").is_file():
        return
    raise AlchemistError(f"{where} was exported from results {clean(theirs, 60)}, which this run ({run.results.parent}) "
                         "does not have (another run's file? import it into that run)")


def _from_csv(path: Path, run: RunLabels, pool: str | None) -> list[tuple]:
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            columns = {h.strip() for h in reader.fieldnames or []}
    except (OSError, UnicodeError, csv.Error) as e:
        raise AlchemistError(f"{path}: cannot be read as CSV ({e})") from None
    if "id" not in columns or not columns & {"review", "label", "label_name"}:
        raise AlchemistError(f"{path}: expected a header with an id column and a review, label or label_name column")
    if not rows:
        raise AlchemistError(f"{path}: a header but no rows")
    # an export of ours: the reviewer's class is in `review` (label/label_name are the run's); else id,label
    column = "review" if "review" in columns else "label_name" if "label_name" in columns else "label"
    out = []
    for n, r in enumerate(rows, start=2):
        where = f"{path.name} line {n}"
        _same_run(run, r.get("run") or None, where)
        label = (r.get(column) or "").strip()
        if not label:
            continue  # a row the reviewer left empty
        out.append((r["id"].strip(), label, pool or r.get("pool") or "random", where, r.get("split") or None))
    if not out:
        raise AlchemistError(f"{path}: no reviewed rows in it (the {column} column is empty)")
    return out


def import_labels(run_dir: Path, file: Path, dataset, answers_path: Path | None = None,
                  pool: str | None = None) -> Imported:
    """Check every reviewed row (a row of the run's train data, a known class, a known pool), then append
    them all to the answers file. `dataset`: the run's data as read (before answers moved rows)."""
    if pool is not None and pool not in POOLS:
        raise AlchemistError(f"--pool {pool}: one of {', '.join(POOLS)}")
    run = load(run_dir)
    notes: list[str] = []
    found = read_reviewed(file, run, pool, notes)
    classes = dataset.card.classes
    if list(classes) != run.classes:
        raise AlchemistError(f"the run's classes ({', '.join(run.classes)}) are not the data's "
                             f"({', '.join(classes)}): the data changed since the run")
    train = dataset.train
    text_of = dict(zip(train.ids, train.texts, strict=True))
    frame = run.frame
    run_rows = {(sp, i): (t, lab) for sp, i, t, lab in zip(frame["split"], frame["id"], frame["text"],
                                                            frame["label_name"], strict=True)}
    checked = []
    for row, label, row_pool, where, split in found:
        if split == "test":
            raise AlchemistError(f"{where}: row '{clean(row, 60)}' is in the run's test split: test labels are only "
                                 "ever scored, never learned from")
        if split == "valid" and run_rows.get(("valid", row), ("",))[0] != text_of.get(row):
            raise AlchemistError(f"{where}: row '{clean(row, 60)}' is in the data's valid split, which has gold labels "
                                 "already: reviewed labels go to train rows")
        if row not in text_of:
            raise AlchemistError(f"{where}: row '{clean(row, 60)}' is not a train row of {dataset.name}")
        name = class_name(label, classes)
        if name is None:
            raise AlchemistError(f"{where} (row '{clean(row, 60)}'): label '{clean(label, 60)}' is not one of the "
                                 f"classes ({', '.join(classes)})")
        if row_pool not in POOLS:
            raise AlchemistError(f"{where}: pool '{clean(row_pool, 30)}' is not one of {', '.join(POOLS)}")
        checked.append((row, name, row_pool, run_rows.get((split or "train", row), ("", ""))[1]))
    path = Path(answers_path).expanduser() if answers_path else default_path(dataset.name)
    answers: Answers = open_for(path, dataset.name, train.ids, train.texts, classes)
    result = Imported(path, notes=notes)
    latest = {row: (name, p, theirs) for row, name, p, theirs in checked}
    already = 0
    for row, (name, p, theirs) in latest.items():
        before = answers.answers.get(row)
        if before is not None and (before.label, before.pool) == (name, p):
            already += 1  # the same answer imported before: nothing to add
            continue
        if before is not None and before.label != name:
            result.replaced += 1
        answers.answer(row, text_of[row], name, p, source=SOURCE)
        result.by_pool[p] = result.by_pool.get(p, 0) + 1
        result.corrected += int(theirs != name)
    if already:
        result.notes.append(f"{already} rows had this very answer already (imported before): left as they are")
    if len(latest) < len(checked):
        result.notes.append(f"{len(checked) - len(latest)} rows were answered more than once: the last answer of each "
                            "was kept")
    if result.replaced:
        result.notes.append(f"{result.replaced} rows had another answer before: the reviewed one replaces it "
                            "(annotate's undo takes the last change back)")
    return result
