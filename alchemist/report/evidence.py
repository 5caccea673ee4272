"""The workbench behind `main.py review`: a run folder's programs with how each did, one program's
evidence (its votes on train rows, the valid rows it gets wrong, where it disagrees with the label
model), turning programs off and on, and the scores before and after a re-apply.

Everything is read from what `apply` wrote (report.json, label_matrix.npz, labels.csv): no program
runs here, and no LLM is called. A program is turned off by renaming `lf_NN.py` to
`lf_NN.py.disabled` (apply reads `*.py` only), so the state is visible in the folder itself.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from alchemist.core.errors import AlchemistError
from alchemist.labeling.metrics import per_class

DISABLED = ".disabled"
SHOWN = 5  # rows of each kind of evidence


@dataclass
class ProgramRow:
    name: str
    path: Path
    enabled: bool
    result: dict = field(default_factory=dict)  # the program's row of the latest report ({} if not applied)


@dataclass
class RunView:
    run_dir: Path
    results: Path | None  # the newest results folder with a report
    report: dict | None
    programs: list[ProgramRow]

    def program(self, name: str) -> ProgramRow:
        return next(p for p in self.programs if p.name == name)


def _natural(path: Path) -> tuple:
    import re

    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name))


def latest_results(run_dir: Path) -> tuple[Path | None, dict | None]:
    """The newest results folder whose report finished (ok or no signal), and its report."""
    for folder in sorted((Path(run_dir) / "results").glob("*"), reverse=True):
        try:
            report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(report, dict) and report.get("status") in ("ok", "no signal"):
            return folder, report
    return None, None


def load_run(run_dir: Path) -> RunView:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise AlchemistError(f"{run_dir}: no such run folder")
    files = sorted([*run_dir.glob("*.py"), *run_dir.glob(f"*.py{DISABLED}")], key=_natural)
    if not files:
        raise AlchemistError(f"{run_dir}: no labeling programs (lf_*.py) here")
    results, report = latest_results(run_dir)
    rows = {p.get("name"): p for p in (report or {}).get("programs", []) if isinstance(p, dict)}
    programs = []
    for path in files:
        name = path.name.removesuffix(DISABLED).removesuffix(".py")
        programs.append(ProgramRow(name, path, not path.name.endswith(DISABLED), rows.get(name, {})))
    return RunView(run_dir, results, report, programs)


def set_enabled(view: RunView, name: str, enabled: bool) -> Path:
    """Turn a program on or off (renaming its file); returns the new path."""
    row = view.program(name)
    target = view.run_dir / (f"{name}.py" + ("" if enabled else DISABLED))
    if row.path != target:
        row.path.rename(target)
    row.path, row.enabled = target, enabled
    return target


# --- evidence ---------------------------------------------------------------------------------------------
@dataclass
class Evidence:
    votes: list[tuple[str, str]]  # (train text, its vote)
    mistakes: list[tuple[str, str, str]]  # (valid text, gold, its answer)
    disagreements: list[tuple[str, str, str]]  # (train text, its vote, the label model's label)
    note: str = ""


def _shown(row: dict) -> str:
    """A labels.csv row as shown in evidence: its text, or (image runs) its image's path."""
    return row.get("text") if "text" in row else row.get("image", "")


def _labels(results: Path) -> dict[str, list[dict]]:
    """labels.csv by split, in the label matrix's row order."""
    text = (results / "labels.csv").read_text(encoding="utf-8")
    by_split: dict[str, list[dict]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        by_split.setdefault(row["split"], []).append(row)
    return by_split


def evidence(view: RunView, name: str, k: int = SHOWN) -> Evidence:
    """What the latest apply saw this program do (empty with a note when it was not applied)."""
    if view.results is None:
        return Evidence([], [], [], "not applied yet: re-apply to see its votes")
    matrix = np.load(view.results / "label_matrix.npz")
    names = [str(n) for n in matrix["names"]]
    if name not in names:
        return Evidence([], [], [], "not in the latest apply (new, or turned off then): re-apply to see its votes")
    j = names.index(name)
    classes = view.report.get("classes", [])
    labels = _labels(view.results)

    def cls(i: int) -> str:
        return classes[i] if 0 <= i < len(classes) else str(i)

    train, rows = matrix["train"][:, j], labels.get("train", [])
    voted = [r for r in range(len(rows)) if train[r] >= 0]
    votes = [(_shown(rows[r]), cls(int(train[r]))) for r in voted[:k]]
    disagree = [(_shown(rows[r]), cls(int(train[r])), rows[r]["label_name"]) for r in voted
                if rows[r]["label"] not in ("", "-1") and int(rows[r]["label"]) != int(train[r])][:k]
    wrong = []
    if "valid" in matrix.files:
        valid, vrows = matrix["valid"][:, j], labels.get("valid", [])
        wrong = [(_shown(vrows[r]), cls(int(vrows[r]["gold"])), cls(int(valid[r]))) for r in range(len(vrows))
                 if valid[r] >= 0 and vrows[r]["gold"] != "" and int(vrows[r]["gold"]) != int(valid[r])][:k]
    return Evidence(votes, wrong, disagree)


def weakest_classes(view: RunView, n: int = 1) -> list[tuple[str, float]]:
    """The classes the label model does worst on valid (F1), never on test: where more programs help."""
    if view.results is None:
        return []
    rows = _labels(view.results).get("valid", [])
    gold = np.array([int(r["gold"]) if r["gold"] != "" else -1 for r in rows])
    pred = np.array([int(r["label"]) if r["label"] not in ("", None) else -1 for r in rows])
    classes = view.report.get("classes", [])
    found = per_class(gold, pred, classes) if len(gold) else None
    if not found:
        return []
    scored = sorted((v["f1"], c) for c, v in found["classes"].items())
    return [(c, f1) for f1, c in scored[:n]]


# --- before / after ----------------------------------------------------------------------------------------
def score_rows(before: dict | None, after: dict) -> list[tuple[str, object, object]]:
    """(what, before, after) for the run's scores and each program's status, coverage and valid accuracy."""
    def scores(report: dict | None) -> dict[str, object]:
        if not report:
            return {}
        lm, mv, dist = report.get("label_model", {}), report.get("majority_vote", {}), report.get("distilled", {})
        out = {"label model valid": lm.get("valid"), "label model test": lm.get("test"),
               "majority vote test": mv.get("test"), "distilled valid": dist.get("valid"),
               "distilled test": dist.get("test_mean"), "train coverage": report.get("coverage")}
        for p in report.get("programs", []):
            out[f"{p['name']}"] = (p.get("status"), p.get("coverage"), p.get("valid_accuracy"))
        return out

    old, new = scores(before), scores(after)
    keys = list(new) + [k for k in old if k not in new]
    return [(k, old.get(k), new.get(k)) for k in keys]
