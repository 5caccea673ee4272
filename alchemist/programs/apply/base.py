"""What every applier shares (as Snorkel's `labeling/apply/` shares one base): the column cache, the
one status rule, and assembling each program's column into the run's votes. Subclasses only say where
the sandboxed evaluation runs (`_run`): on this machine, or inside Dask workers.

Programs the gate rejected get a column of abstains and keep their status; columns of unchanged
programs on unchanged data come from the column cache, so after editing one program only that one runs
again; a program that failed on every row, crashed too often or ran past its budget is reported with
the reason, and its column is all abstains.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from alchemist.core.progress import NullProgress, Progress, plural
from alchemist.core.safe_text import clean
from alchemist.programs.column_cache import ColumnCache, data_fingerprint
from alchemist.programs.program_files import Program
from alchemist.programs.votes import Votes
from alchemist.sandbox import ApplyResult, ProgramRun, ProgramSource, SandboxLimits
from alchemist.sandbox.rows import join_rows, take


def program_status(run: ProgramRun, n_rows: int) -> tuple[str, str]:
    """(status, reason) of a program after it was applied: the same rule on every backend."""
    if run.load_error:  # what a worker says is the program's: cleaned before it is stored anywhere
        return "failed", clean(f"failed to load: {run.load_error}", 1000)
    if run.disabled_reason:
        return "disabled", clean(run.disabled_reason, 1000)
    if n_rows and sum(run.errors.values()) >= n_rows:
        sample = run.samples[0] if run.samples else ""
        return "failed", clean(f"failed on every row; e.g. {sample}", 1000)
    return "ok", ""


def split_rows(splits: dict[str, Sequence]) -> tuple[Sequence, dict[str, int]]:
    """Every split's rows as one sequence (texts, or concept-score rows), and each split's size."""
    return join_rows(list(splits.values())), {name: len(rows) for name, rows in splits.items()}


class ProgramApplier:
    """Apply labeling programs to rows in the sandbox; `apply` returns the votes of every program."""

    backend = "base"

    def __init__(self, n_classes: int, limits: SandboxLimits | None = None, cache_folder: Path | None = None):
        self.n_classes = n_classes
        self.limits = limits or SandboxLimits()
        self.cache = ColumnCache(cache_folder) if cache_folder is not None else None

    def _run(self, sources: list[ProgramSource], rows: Sequence, tick: Callable[[int], None]) -> ApplyResult:
        """Run the programs over the rows in the sandbox (subclasses: where)."""
        raise NotImplementedError

    def run_sources(self, sources: list[ProgramSource], rows: Sequence,
                    tick: Callable[[int], None] | None = None) -> ApplyResult:
        """The raw sandboxed evaluation, no cache and no statuses (refinement's checks on valid)."""
        return self._run(list(sources), rows, tick or (lambda n: None))

    def apply(self, programs: list[Program], splits: dict[str, Sequence], progress: Progress | None = None) -> Votes:
        """Votes of `programs` on every split's rows. The rows reach the programs in one random order per
        apply (the same for every program), undone when the votes are recorded: a program cannot count its
        calls to tell train rows from valid ones and behave well only where it is judged."""
        progress = progress or NullProgress()
        rows, sizes = split_rows(splits)
        ok = [p for p in programs if p.status == "ok"]
        fingerprint = data_fingerprint(rows, self.n_classes, self.limits) if self.cache else ""
        found = {p.name: hit for p in ok if self.cache and (hit := self.cache.get(p.source, fingerprint, len(rows)))}
        todo = [p for p in ok if p.name not in found]
        result = None
        if todo:
            title = (f"Applying {plural(len(todo), 'program')}" + self._where()
                     + (f" ({len(found)} more from the column cache)" if found else ""))
            order = np.random.default_rng().permutation(len(rows))  # fresh entropy: not guessable by a program
            with progress.stage(title, total=len(rows)) as stage:
                result = self._run([p.as_source() for p in todo], take(rows, order), stage.advance)
            unshuffled = np.empty_like(result.matrix)
            unshuffled[order] = result.matrix
            result.matrix = unshuffled
            for run in result.runs:  # error samples name the row the user knows
                run.samples = [_unshuffled_sample(sample, order) for sample in run.samples]
        fresh = {p.name: (result.matrix[:, k], result.runs[k]) for k, p in enumerate(todo)} if result else {}
        if self.cache:
            for p in todo:
                self.cache.put(p.source, fingerprint, *fresh[p.name])
        note = ""
        if found:
            note = (f"{len(found)} column(s) came from the column cache" if todo else
                    "not used this time: every column came from the column cache (computed earlier in the sandbox)")
        return assemble(programs, {**found, **fresh}, sizes, result.layers if result else {}, note, sorted(found))

    def _where(self) -> str:
        return ""


def _unshuffled_sample(sample: str, order: np.ndarray) -> str:
    head, sep, rest = sample.partition(": ")
    if sep and head.startswith("row ") and head[4:].isdigit() and int(head[4:]) < len(order):
        return f"row {int(order[int(head[4:])])}: {rest}"
    return sample


def assemble(programs: list[Program], columns: dict[str, tuple[np.ndarray, ProgramRun]], sizes: dict[str, int],
             layers: dict, note: str = "", cached: list[str] | None = None) -> Votes:
    """The votes of every program, split by split: a column per program (abstains where it did not run)."""
    n_rows = sum(sizes.values())
    matrix = np.full((n_rows, len(programs)), -1, dtype=np.int8)
    runs: list[ProgramRun | None] = [None] * len(programs)
    statuses, reasons = [p.status for p in programs], [p.reason for p in programs]
    for i, p in enumerate(programs):
        if p.name in columns:
            matrix[:, i], runs[i] = columns[p.name]
            statuses[i], reasons[i] = program_status(runs[i], n_rows)
    matrices, offset = {}, 0
    for name, size in sizes.items():
        matrices[name] = matrix[offset:offset + size]
        offset += size
    return Votes([p.name for p in programs], statuses, reasons, matrices, runs, layers, note, cached or [])
