"""A finished run's labels as the exports read them: labels.csv, the programs' votes (label_matrix.npz),
the report; and which rows to send a reviewer (`--only`, `--limit`, `--split`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alchemist.core.errors import AlchemistError
from alchemist.core.safe_text import clean
from alchemist.report.evidence import latest_results

ONLY = ("all", "uncertain", "disagree")
SPLITS = ("train", "valid", "test", "all")
ORDER_SEED = 0  # --only all: rows in one fixed random order, so any prefix a reviewer finishes is a random sample


def results_folder(path: Path) -> Path:
    """A results folder (report.json and labels.csv), or a run folder's newest finished one."""
    path = Path(path).expanduser()
    if not path.exists():
        raise AlchemistError(f"{path}: no such folder")
    if (path / "report.json").is_file():
        return path
    found, _ = latest_results(path)
    if found is None:
        raise AlchemistError(f"{path}: no results here (a results folder holds report.json and labels.csv: "
                             "RUN_DIR/results/<time>/, once a run or apply has finished)")
    return found


@dataclass
class RunLabels:
    results: Path
    report: dict
    frame: object  # pandas DataFrame: labels.csv
    classes: list[str]
    names: list[str]  # the programs whose votes are in `votes`
    votes: np.ndarray | None  # (rows of frame, programs): class ids, -1 abstain; None when not saved

    @property
    def run_id(self) -> str:
        return self.results.name

    @property
    def dataset(self) -> str:
        return str(self.report.get("dataset", ""))

    def calibrated(self) -> bool:
        cal = self.report.get("calibration") or {}
        return bool((cal.get("label_model") or {}).get("calibrated"))

    def votes_of(self, row: int) -> dict[str, str]:
        """A row's votes by program (class names; programs that abstained are left out)."""
        if self.votes is None:
            return {}
        return {n: self.classes[v] for n, v in zip(self.names, self.votes[row], strict=True) if 0 <= v < len(self.classes)}


def load(path: Path) -> RunLabels:
    """The run's labels, checked: a run without labels (failed, or labels kept by row number) is an error."""
    import pandas as pd

    results = results_folder(path)
    try:
        report = json.loads((results / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise AlchemistError(f"{results}/report.json cannot be read ({e})") from None
    if not isinstance(report, dict) or report.get("status") not in ("ok", "no signal"):
        raise AlchemistError(f"{results}: this run did not finish (status {clean(report.get('status'), 40)}): "
                             "no labels to export")
    labels = results / "labels.csv"
    if not labels.is_file():
        raise AlchemistError(f"{results}: no labels.csv (the run stopped before labeling)")
    frame = pd.read_csv(labels, dtype={"id": str, "text": str, "label_name": str, "label_source": str},
                        keep_default_na=False, na_values={"confidence": [""], "raw_confidence": [""]})
    if "text" not in frame.columns:
        raise AlchemistError(f"{labels} gives row numbers without their text (data read by partitions with Dask, "
                             "or an image run): export needs each row's text; apply without --backend dask to export")
    classes = report.get("classes")
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise AlchemistError(f"{results}/report.json names no classes")
    names, votes = _votes(results, frame)
    return RunLabels(results, report, frame, list(classes), names, votes)


def _votes(results: Path, frame) -> tuple[list[str], np.ndarray | None]:
    """The votes in labels.csv's row order (splits in the order they appear); None when they do not fit."""
    try:
        with np.load(results / "label_matrix.npz", allow_pickle=False) as z:
            names = [str(n) for n in z["names"]]
            parts = [z[s] for s in dict.fromkeys(frame["split"]) if s in z.files]
    except (OSError, ValueError, KeyError):
        return [], None
    if not parts:
        return [], None
    votes = np.vstack(parts).astype(np.int64)
    return (names, votes) if votes.shape == (len(frame), len(names)) else ([], None)


def pick(run: RunLabels, only: str = "all", split: str = "train", limit: int | None = None) -> np.ndarray:
    """The rows (positions in labels.csv) a reviewer should see first:
    all: every row of the split in one fixed random order (any prefix is a random sample);
    uncertain: the least confident labels first (rows with no label at all first of them);
    disagree: rows where the programs' votes conflict, the most divided first."""
    frame = run.frame
    rows = np.arange(len(frame)) if split == "all" else np.flatnonzero(frame["split"].to_numpy() == split)
    if only == "all":
        rows = rows[np.random.default_rng(ORDER_SEED).permutation(len(rows))] if split != "all" else rows
    elif only == "uncertain":
        confidence = frame["confidence"].to_numpy(dtype=float)[rows]
        rows = rows[np.argsort(np.nan_to_num(confidence, nan=-1.0), kind="stable")]
    else:
        if run.votes is None:
            raise AlchemistError(f"{run.results}: the programs' votes (label_matrix.npz) are missing or do not fit "
                                 "labels.csv: --only disagree cannot tell where they conflict")
        split_votes = run.votes[rows]
        divided = np.array([_divided(v, len(run.classes)) for v in split_votes])
        keep = divided > 0
        rows, divided = rows[keep], divided[keep]
        confidence = np.nan_to_num(frame["confidence"].to_numpy(dtype=float)[rows], nan=-1.0)
        rows = rows[np.lexsort((confidence, -divided))]
    return rows[:limit] if limit else rows


def _divided(votes: np.ndarray, n_classes: int) -> float:
    """The share of a row's votes that are not for its most voted class (0: no conflict)."""
    cast = votes[(votes >= 0) & (votes < n_classes)]
    if len(cast) < 2:
        return 0.0
    return 1.0 - np.bincount(cast, minlength=n_classes).max() / len(cast)


def pool_of(only: str, split: str) -> str:
    """Which annotate pool a reviewer's answers to these rows belong to: a random sample of train rows can
    score the run (random); rows picked for being hard or conflicting would bias scores (chosen); answers to
    valid or test rows cannot come back at all ("")."""
    if split not in ("train", "all"):
        return ""
    return "random" if only == "all" and split == "train" else "chosen"
