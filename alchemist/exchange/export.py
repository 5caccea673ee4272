"""`alchemist export`: a run's labels to where people review and train them — a Hugging Face dataset,
Label Studio tasks, an Argilla dataset, or a CSV — the whole split or the rows worth a reviewer's minutes
first. Written into a new folder that appears whole (or not at all); an existing one is kept unless
`overwrite`."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alchemist.core.errors import AlchemistError
from alchemist.exchange import argilla, hf, label_studio
from alchemist.exchange.run_labels import ONLY, SPLITS, RunLabels, load, pick, pool_of

TARGETS = ("hf", "label-studio", "argilla", "csv")
MARKER = "alchemist-export.json"  # in every export folder: --overwrite replaces only a folder that has it
REVIEW_TARGETS = ("label-studio", "argilla", "csv")  # where people review: train rows by default


@dataclass
class Exported:
    results: Path
    folder: Path
    rows: int
    files: list[str]
    pool: str
    note: str = ""


def default_split(target: str) -> str:
    return "train" if target in REVIEW_TARGETS else "all"


def export(run_dir: Path, target: str, out: Path | None = None, only: str = "all", limit: int | None = None,
           split: str | None = None, overwrite: bool = False, push: str | None = None) -> Exported:
    if target not in TARGETS:
        raise AlchemistError(f"unknown export target '{target}': one of {', '.join(TARGETS)}")
    if only not in ONLY:
        raise AlchemistError(f"--only {only}: one of {', '.join(ONLY)}")
    split = split or default_split(target)
    if split not in SPLITS:
        raise AlchemistError(f"--split {split}: one of {', '.join(SPLITS)}")
    if limit is not None and limit < 1:
        raise AlchemistError("--limit must be 1 or more")
    if push and target != "hf":
        raise AlchemistError("--push is for --to hf (a Hugging Face dataset)")
    run = load(run_dir)
    out = Path(out).expanduser() if out else run.results / "exports" / _default_name(target, only, split, limit)
    if out.exists() and not overwrite:
        raise AlchemistError(f"{out} exists: give another --out, or --overwrite to replace it")
    if out.exists() and not (out.is_dir() and (out / MARKER).is_file()):
        raise AlchemistError(f"{out} is not an earlier export (it has no {MARKER}): --overwrite only replaces "
                             "folders this command wrote; give another --out")
    rows = pick(run, only, split, limit)
    if split != "all" and not (run.frame["split"] == split).any():
        raise AlchemistError(f"this run has no {split} rows")
    if not len(rows):
        raise AlchemistError(f"no rows to export ({only} of {split}): "
                             + ("no row where the programs conflict" if only == "disagree" else "the split is empty"))
    pool = pool_of(only, split)
    with _new_folder(out, overwrite) as tmp:
        files, data = _write(run, target, rows, tmp, pool)
        _json(tmp / MARKER, {"run": run.run_id, "results": str(run.results), "to": target, "only": only,
                             "split": split, "rows": len(rows), "pool": pool or None})
    note = ""
    if push:
        note = f"pushed to {hf.push(data, push)}"
    return Exported(run.results, out, len(rows), files, pool, note)


def _default_name(target: str, only: str, split: str, limit: int | None) -> str:
    return f"{target}-{split}-{only}" + (f"-{limit}" if limit else "")


def _rows(run: RunLabels, rows) -> list[dict]:
    """The picked rows of labels.csv as plain values (confidence NaN where there is no label), in order."""
    picked = run.frame.iloc[rows]
    confidence = picked["confidence"].to_numpy(dtype=float)
    return [{"split": split, "id": str(row_id), "text": text, "label": int(label), "label_name": name,
             "confidence": float(conf), "covered": int(covered), "gold": "" if str(gold) == "" else gold,
             "label_source": source, "position": int(r)}
            for r, split, row_id, text, label, name, conf, covered, gold, source in zip(
                rows, picked["split"], picked["id"], picked["text"], picked["label"], picked["label_name"],
                confidence, picked["covered"], picked["gold"], picked["label_source"], strict=True)]


def _meta(run: RunLabels, row: dict, pool: str) -> dict:
    """Where a row is from, so a reviewer's answer finds its way back (no pool: valid and test rows, whose
    answers cannot come back)."""
    return {"alchemist_run": run.run_id, "alchemist_dataset": run.dataset, "alchemist_id": row["id"],
            "alchemist_split": row["split"], **({"alchemist_pool": pool} if row["split"] == "train" else {})}


def _write(run: RunLabels, target: str, rows, folder: Path, pool: str) -> tuple[list[str], object]:
    records = _rows(run, rows)
    if target == "hf":
        by_split: dict[str, list[dict]] = {}
        for r in records:
            by_split.setdefault(r["split"], []).append(r)
        data = hf.dataset_dict(by_split, run.classes)
        hf.save(data, folder)
        return sorted(os.listdir(folder)), data
    if target == "label-studio":
        tasks = [label_studio.task(r, run.votes_of(r["position"]), _meta(run, r, pool)) for r in records]
        _json(folder / "tasks.json", tasks)
        (folder / "label_config.xml").write_text(label_studio.label_config(run.classes), encoding="utf-8")
        return ["tasks.json", "label_config.xml"], None
    if target == "argilla":
        guidelines = (f"Labels of {run.dataset} by the programs of run {run.run_id}; the suggestion is the run's label, "
                      f"its score the {'calibrated ' if run.calibrated() else 'uncalibrated '}confidence.")
        _json(folder / "dataset.json", argilla.dataset_model(f"{run.dataset}-{run.run_id}", guidelines))
        _json(folder / "settings.json", argilla.settings(run.classes, guidelines))
        _json(folder / "records.json", [argilla.record(r, run.votes_of(r["position"]), _meta(run, r, pool))
                                        for r in records])
        return ["dataset.json", "settings.json", "records.json"], None
    _csv(folder / "labels.csv", run, records, pool)
    return ["labels.csv"], None


def _csv(path: Path, run: RunLabels, records: list[dict], pool: str) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["split", "id", "text", "label", "label_name", "confidence", "covered", "gold", "label_source",
                     "run", "pool", "review", *(f"vote:{n}" for n in run.names)])  # review: the reviewer's class
    for r in records:
        votes = run.votes_of(r["position"])
        writer.writerow([r["split"], r["id"], r["text"], r["label"], r["label_name"],
                         "" if math.isnan(r["confidence"]) else f"{r['confidence']:.4f}", r["covered"], r["gold"],
                         r["label_source"], run.run_id, pool if r["split"] == "train" else "", "",
                         *(votes.get(n, "") for n in run.names)])
    path.write_text(buf.getvalue(), encoding="utf-8")


def _json(path: Path, value) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")


class _new_folder:
    """A temporary folder beside `out` that becomes `out` when everything was written (an old `out`,
    when overwriting, is removed only then); on any failure nothing is left behind."""

    def __init__(self, out: Path, overwrite: bool):
        self.out, self.overwrite = out, overwrite

    def __enter__(self) -> Path:
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", dir=self.out.parent))
            umask = os.umask(0)
            os.umask(umask)
            self.tmp.chmod(0o777 & ~umask)  # as any folder the user makes (mkdtemp's is private)
        except OSError as e:
            raise AlchemistError(f"{self.out.parent}: cannot write here ({e.strerror or e})") from None
        return self.tmp

    def __exit__(self, kind, error, tb) -> None:
        if kind is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            if isinstance(error, OSError):
                raise AlchemistError(f"{self.out}: cannot be written ({error.strerror or error})") from None
            return
        old = None
        if self.out.exists() and self.overwrite:
            old = self.out.with_name(f".{self.out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.out, old)
        os.replace(self.tmp, self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
