"""What a run writes besides report.json: the label of every row (labels.csv), and a row per program
for the report's table. Everything program-derived is cleaned where the report is built (page_data.py)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from alchemist.core.files import atomic_write_text
from alchemist.core.progress import NullProgress, Progress
from alchemist.core.safe_text import clean
from alchemist.data.datasets import Dataset
from alchemist.data.tasks import TaskCard
from alchemist.labeling.analysis import matrix_stats
from alchemist.labeling.labels import Labels
from alchemist.labeling.vetting import Verdict
from alchemist.programs.program_files import Program
from alchemist.programs.votes import Votes
from alchemist.report.page_data import source_text


def program_rows(dataset: Dataset, votes: Votes, verdicts: list[Verdict],
                 programs: list[Program] | None = None) -> tuple[list[dict], dict]:
    """One row per program for the report, and the totals; `programs` give the sources (human votes have none)."""
    L = votes.matrices["train"]
    sources = {p.name: p.source for p in programs or []}
    stats = matrix_stats(L[:, votes.usable], dataset.card.n_classes) if votes.usable else None
    rows = []
    usable_pos = {i: k for k, i in enumerate(votes.usable)}
    for i, name in enumerate(votes.names):
        run = votes.runs[i] if votes.runs else None
        k = usable_pos.get(i)
        rows.append({
            # whatever a program or its worker made of its reason or samples is cleaned before it is stored
            "name": clean(name, 200), "status": votes.statuses[i], "reason": clean(votes.reasons[i], 1000),
            "coverage": float((L[:, i] >= 0).mean()) if len(L) else 0.0,  # also of a program left out
            "overlap": float(stats.overlap[k]) if k is not None else 0.0,
            "conflict": float(stats.conflict[k]) if k is not None else 0.0,
            "valid_accuracy": verdicts[i].valid_accuracy if verdicts else None,
            "valid_support": verdicts[i].valid_support if verdicts else 0,
            "valid_chance": verdicts[i].chance if verdicts else None,
            "errors": dict(run.errors) if run else {},
            "error_samples": [clean(x, 300) for x in run.samples] if run else [],
            "faults": run.crashes if run else 0,
            "from_cache": name in votes.cached,
            "source": source_text(sources.get(name)),
        })
    overall = {"coverage": stats.total_coverage if stats else 0.0,
               "overlap": stats.total_overlap if stats else 0.0,
               "conflict": stats.total_conflict if stats else 0.0}
    return rows, overall


def write_labels(out: Path, dataset: Dataset, labels: Labels, progress: Progress | None = None) -> None:
    """labels.csv: every row of every split with its label, confidence (calibrated on valid's gold rows when
    it could be; raw_confidence is the model's own top probability), whether a program voted, gold, and
    where the label came from (the programs' label model, or the distilled model for rows none voted on)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["split", "id", "image" if dataset.modality == "image" else "text", "label", "label_name",
                     "confidence", "covered", "gold", "label_source", "raw_confidence"])
    classes = dataset.card.classes
    total = sum(len(s) for s in dataset.splits.values())
    with (progress or NullProgress()).stage("Writing labels.csv", total=total, unit="rows") as stage:
        for name, split in dataset.splits.items():
            person = dataset.train_gold if name == "train" else None
            label, confidence, source = labels.final(name, len(split), person)
            raw = labels.final(name, len(split), person, calibrated=False)[1]
            covered = labels.covered.get(name, np.zeros(len(split), bool))
            for r in range(len(split)):
                lab, gold = int(label[r]), int(split.labels[r])
                writer.writerow([name, split.ids[r], split.texts[r], lab, classes[lab] if lab >= 0 else "",
                                 f"{confidence[r]:.4f}" if lab >= 0 else "", int(covered[r]),
                                 gold if gold >= 0 else "", source[r], f"{raw[r]:.4f}" if lab >= 0 else ""])
            stage.advance(len(split))
    atomic_write_text(out / "labels.csv", buf.getvalue())


def write_row_labels(out: Path, card: TaskCard, labels: Labels, n_rows: int) -> None:
    """labels.csv by row number, for data read by Dask (the texts stay in the user's file)."""
    probs = labels.probs.get("train")
    covered = labels.covered.get("train", np.zeros(n_rows, bool))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["row", "label", "label_name", "confidence", "covered"])
    for r in range(n_rows):
        hit = probs is not None and bool(covered[r])
        lab = int(probs[r].argmax()) if hit else -1
        writer.writerow([r, lab, card.classes[lab] if hit else "", f"{probs[r].max():.4f}" if hit else "",
                         int(hit)])
    atomic_write_text(out / "labels.csv", buf.getvalue())
