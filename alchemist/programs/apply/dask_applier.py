"""The Dask backend: the same sandboxed evaluation inside Dask workers, over partitions of the data.

Each task runs a `SandboxApplier` on one partition (so every program still runs in a locked-down
`python -I` worker process, started by the Dask worker), and returns an int8 block plus plain fault
counts. Blocks are gathered in partition order into the same label matrix the local applier builds;
faults are added up across partitions and a program past the fault limit is disabled everywhere.
A `LocalCluster` is started when no scheduler address is given. (Snorkel's own Dask appliers fail
with current dask; nothing here uses them.)
"""

from __future__ import annotations

import glob
import os
import re
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from alchemist.core.errors import AlchemistError
from alchemist.core.progress import NullProgress, Progress, plural
from alchemist.data.readers import cell_text
from alchemist.programs.apply.base import ProgramApplier, assemble
from alchemist.programs.program_files import Program
from alchemist.programs.votes import Votes
from alchemist.sandbox import ApplyResult, ProgramRun, ProgramSource, SandboxApplier, SandboxLimits
from alchemist.sandbox.rows import take

DEFAULT_PARTITION_ROWS = 50_000
LAZY_SUFFIXES = (".parquet", ".pq", ".csv")


def _apply_block(texts: list[str], sources: list[tuple[str, str]], n_classes: int, limits: dict) -> dict:
    """Runs inside a Dask worker: one partition through the sandbox, one worker process."""
    lim = SandboxLimits(**{**limits, "workers": 1})
    result = SandboxApplier([ProgramSource(n, s) for n, s in sources], n_classes, lim).apply(texts)
    return {"matrix": result.matrix, "layers": result.layers,
            "runs": [{"errors": dict(r.errors), "samples": r.samples, "crashes": r.crashes,
                      "load_error": r.load_error, "disabled_reason": r.disabled_reason,
                      "last_fault": r.last_fault, "seconds": r.seconds} for r in result.runs]}


def _apply_frame_block(frame, text_column: str, sources, n_classes: int, limits: dict) -> dict:
    texts = [cell_text(t) for t in frame[text_column].tolist()]  # None, NaN, pd.NA -> ""
    return _apply_block(texts, sources, n_classes, limits)


@contextmanager
def dask_client(scheduler: str | None, n_workers: int):
    """A client for the given scheduler address, or for a LocalCluster with one process per core."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise AlchemistError("the dask backend needs dask and distributed (pip install -r requirements.txt)") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="5s")
        except (OSError, TimeoutError) as e:
            raise AlchemistError(f"cannot reach the Dask scheduler at {scheduler} ({e})") from None
        try:
            yield client
        finally:
            client.close()
        return
    cluster, security = _private_cluster(LocalCluster, n_workers)
    client = Client(cluster, security=security)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


SECRET_NAMES = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.I)


def _private_cluster(local_cluster, n_workers: int):
    """A LocalCluster only this process can use: mutual TLS with certificates made for this run and kept in
    memory (another local user cannot connect, let alone submit a function), on 127.0.0.1, no dashboard;
    its worker processes start without the API keys and other secrets in this process's environment."""
    try:
        from distributed import Security
        security = Security.temporary()
    except ImportError:
        raise AlchemistError("the dask backend's private cluster needs cryptography (pip install -r "
                             "requirements.txt)") from None
    import dask

    # The scheduler always opens an HTTP server: no routes on it (no dashboard, no API), a random local port.
    with _without_secrets(), dask.config.set({"distributed.scheduler.http.routes": [],
                                              "distributed.worker.http.routes": []}):
        cluster = local_cluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                protocol="tls://", security=security, dashboard_address="127.0.0.1:0",
                                worker_dashboard_address=None)
    return cluster, security


@contextmanager
def _without_secrets():
    """os.environ without variables whose names say they hold a secret, while worker processes start."""
    hidden = {k: v for k, v in os.environ.items() if SECRET_NAMES.search(k)}
    for k in hidden:
        del os.environ[k]
    try:
        yield
    finally:
        os.environ.update(hidden)


def merge_runs(blocks: list[dict], n_programs: int, max_faults: int) -> list[ProgramRun]:
    runs = [ProgramRun() for _ in range(n_programs)]
    for block in blocks:
        for run, part in zip(runs, block["runs"], strict=True):
            run.errors.update(part["errors"])
            run.samples = (run.samples + part["samples"])[:3]
            run.crashes += part["crashes"]
            run.seconds += part.get("seconds", 0.0)
            run.last_fault = part["last_fault"] or run.last_fault
            run.load_error = run.load_error or part["load_error"]
            if part["disabled_reason"] and not run.disabled_reason:
                run.disabled_reason = part["disabled_reason"]
    for run in runs:
        if run.crashes >= max_faults and not run.disabled_reason:
            run.disabled_reason = f"disabled after {run.crashes} faults; last: {run.last_fault}"
    return runs


class DaskApplier(ProgramApplier):
    """The sandboxed evaluation inside Dask workers, a partition per task (base.py does the rest)."""

    backend = "dask"

    def __init__(self, n_classes: int, limits: SandboxLimits | None = None, cache_folder: Path | None = None,
                 scheduler: str | None = None, partition_rows: int = DEFAULT_PARTITION_ROWS):
        super().__init__(n_classes, limits, cache_folder)
        self.scheduler = scheduler
        self.partition_rows = max(1, partition_rows)

    def _where(self) -> str:
        return " with Dask"

    def _limits(self, part_rows: int, total_rows: int) -> dict:
        """One worker per task; each partition gets its share of every program's time budget (at
        least 5 s, so that loading a program in a tiny partition never uses it all up)."""
        share = max(5.0, self.limits.program_budget_s(total_rows) * part_rows / max(1, total_rows))
        return asdict(replace(self.limits, workers=1, budget_s=share))

    def _finish(self, blocks: list[dict], n_rows: int, n_programs: int) -> ApplyResult:
        matrix = (np.concatenate([b["matrix"] for b in blocks]) if blocks
                  else np.full((n_rows, n_programs), -1, np.int8))
        runs = merge_runs(blocks, n_programs, self.limits.max_faults)
        for i, run in enumerate(runs):
            if not run.usable:  # as locally: a disabled program contributes nothing anywhere
                matrix[:, i] = -1
        layers = dict(blocks[0]["layers"]) if blocks else {}
        layers["backend"] = f"dask ({self.scheduler or 'LocalCluster'}), {len(blocks)} partitions"
        return ApplyResult(matrix=matrix, runs=runs, layers=layers)

    @staticmethod
    def _gather(futures, sizes: list[int], tick: Callable[[int], None]) -> list[dict]:
        from dask.distributed import as_completed

        index = {f.key: i for i, f in enumerate(futures)}
        blocks: list[dict | None] = [None] * len(futures)
        for future in as_completed(futures):
            i = index[future.key]
            blocks[i] = future.result()
            tick(sizes[i])
        return blocks  # in partition order, whatever order they finished in

    def _run(self, sources: list[ProgramSource], rows: Sequence, tick: Callable[[int], None]) -> ApplyResult:
        step = self.partition_rows  # texts slice into lists, ScoreRows (image runs) into ScoreRows
        parts = [take(rows, range(i, min(len(rows), i + step))) for i in range(0, len(rows), step)]
        pairs = [(s.name, s.source) for s in sources]
        with dask_client(self.scheduler, self.limits.n_workers()) as client:
            futures = [client.submit(_apply_block, part, pairs, self.n_classes,
                                     self._limits(len(part), len(rows)), pure=False) for part in parts]
            blocks = self._gather(futures, [len(p) for p in parts], tick)
        return self._finish(blocks, len(rows), len(sources))

    def apply_frame(self, programs: list[Program], frame, text_column: str,
                    progress: Progress | None = None) -> Votes:
        """Votes of a Dask DataFrame too big for memory (one split, train): each partition is read and
        labeled inside a worker; no column cache (the texts are never in this process)."""
        import dask

        ok = [p for p in programs if p.status == "ok"]
        pairs = [(p.name, p.source) for p in ok]
        parts = frame.to_delayed()
        with (progress or NullProgress()).stage(f"Applying {plural(len(ok), 'program')} with Dask", total=None) as stage, \
                dask_client(self.scheduler, self.limits.n_workers()) as client:
            sizes = client.compute([dask.delayed(len)(p) for p in parts], sync=True)
            futures = client.compute([dask.delayed(_apply_frame_block)(p, text_column, pairs, self.n_classes,
                                                                       self._limits(size, sum(sizes)))
                                      for p, size in zip(parts, sizes, strict=True)])
            result = self._finish(self._gather(futures, sizes, stage.advance), sum(sizes), len(ok))
        columns = {p.name: (result.matrix[:, k], result.runs[k]) for k, p in enumerate(ok)}
        return assemble(programs, columns, {"train": sum(sizes)}, result.layers)


def is_lazy_source(name: str) -> bool:
    """A Parquet or CSV file (or a glob of them) that the dask backend reads partition by partition."""
    return name.lower().endswith(LAZY_SUFFIXES) and bool(glob.glob(str(Path(name).expanduser())))


def read_frame(name: str, text_column: str, blocksize: str = "64MB"):
    import dask.dataframe as dd

    path = str(Path(name).expanduser())
    try:
        frame = dd.read_parquet(path) if name.lower().endswith((".parquet", ".pq")) else \
            dd.read_csv(path, blocksize=blocksize, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as e:
        raise AlchemistError(f"{name}: cannot read it with Dask ({e})") from None
    if text_column not in frame.columns:
        raise AlchemistError(f"{name}: no column '{text_column}' (columns: {', '.join(map(str, frame.columns))}); "
                             "choose one with --text-column")
    return frame
