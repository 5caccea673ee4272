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


def _apply_block(texts: list[str], sources: list[tuple[str, str]], n_classes: int, limits: dict,
                 budgets: list[float]) -> dict:
    """Runs inside a Dask worker: one partition through the sandbox, one worker process. A program with
    no budget left (0) does not run here: its column is abstains."""
    lim = SandboxLimits(**{**limits, "workers": 1})
    live = [i for i, b in enumerate(budgets) if b > 0]
    matrix = np.full((len(texts), len(sources)), -1, dtype=np.int8)
    runs = [{"errors": {}, "samples": [], "crashes": 0, "load_error": None, "disabled_reason": None,
             "last_fault": "", "seconds": 0.0} for _ in sources]
    layers: dict = {}
    if live:
        result = SandboxApplier([ProgramSource(*sources[i]) for i in live], n_classes, lim,
                                budgets=[budgets[i] for i in live]).apply(texts)
        matrix[:, live], layers = result.matrix, result.layers
        for i, r in zip(live, result.runs, strict=True):
            runs[i] = {"errors": dict(r.errors), "samples": r.samples, "crashes": r.crashes,
                       "load_error": r.load_error, "disabled_reason": r.disabled_reason,
                       "last_fault": r.last_fault, "seconds": r.seconds}
    return {"matrix": matrix, "layers": layers, "runs": runs}


def _apply_frame_block(frame, text_column: str, sources, n_classes: int, limits: dict, budgets: list[float]) -> dict:
    texts = [cell_text(t) for t in frame[text_column].tolist()]  # None, NaN, pd.NA -> ""
    return _apply_block(texts, sources, n_classes, limits, budgets)


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
    with _without_secrets():  # for the cluster's whole life: a worker the nanny restarts starts without them too
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
    memory (another local user cannot connect, let alone submit a function), on 127.0.0.1, no dashboard.
    Called inside _without_secrets: its worker processes start without this process's secrets."""
    try:
        from distributed import Security
        security = Security.temporary()
    except ImportError:
        raise AlchemistError("the dask backend's private cluster needs cryptography (pip install -r "
                             "requirements.txt)") from None
    import dask

    # The scheduler always opens an HTTP server: no routes on it (no dashboard, no API), a random local port.
    with dask.config.set({"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}):
        cluster = local_cluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                protocol="tls://", security=security, dashboard_address="127.0.0.1:0",
                                scheduler_kwargs={"dashboard": False},  # not even where bokeh is installed
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


MIN_GRANT_S = 3.0  # a partition's least grant of a program's budget: loading the program takes some


class Budgets:
    """Each program's wall-clock budget for the whole apply, handed out to partitions as they start."""

    def __init__(self, total_s: float, n_programs: int, n_rows: int):
        self.total = total_s
        self.used = np.zeros(n_programs)
        self.stopped = np.zeros(n_programs, dtype=bool)  # disabled, failed, or out of budget
        self.rows_left = n_rows

    def grant(self, rows: int) -> list[float]:
        """This partition's grant per program: its share (by rows) of what is left of its budget, at least
        MIN_GRANT_S and never more than is left; 0 (it does not run there) once it is spent or stopped.
        Partitions in flight together may overrun a budget by at most MIN_GRANT_S each."""
        share = rows / max(1, self.rows_left)
        self.rows_left -= rows
        left = self.total - self.used
        return [0.0 if self.stopped[i] or left[i] <= 0 else float(min(left[i], max(MIN_GRANT_S, left[i] * share)))
                for i in range(len(left))]

    def settle(self, runs: list[dict]) -> None:
        for i, run in enumerate(runs):
            self.used[i] += run["seconds"]
            self.stopped[i] |= bool(run["disabled_reason"] or run["load_error"]) or self.used[i] >= self.total

    def explain(self, blocks: list[dict]) -> None:
        """A program stopped for time, in any partition, is disabled with the budget of the whole apply in
        its reason (merge_runs takes the first partition's reason first)."""
        for i in range(len(self.used)):
            slow = any("time budget" in (b["runs"][i]["disabled_reason"] or "") for b in blocks)
            if blocks and (slow or self.used[i] >= self.total):
                blocks[0]["runs"][i]["disabled_reason"] = (
                    f"used its time budget ({self.total:g}s wall-clock for the whole apply, all partitions "
                    f"together; {self.used[i]:.1f}s used): too slow (raise --program-budget if it is worth the wait)")


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

    def _limits(self) -> dict:
        return asdict(replace(self.limits, workers=1))

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

    def _gather(self, client, submit: Callable[[int, list[float]], object], sizes: list[int], n_programs: int,
                tick: Callable[[int], None]) -> list[dict]:
        """Run every partition, a few at a time, carrying each program's time budget across them: a
        partition gets each program's share of what is left of its budget (at least MIN_GRANT_S, never
        more than is left), time used comes off it as partitions finish, and a program that ran out or was
        disabled in one partition is not run in the next ones. Blocks come back in partition order."""
        from dask.distributed import wait

        budget = Budgets(self.limits.program_budget_s(sum(sizes)), n_programs, sum(sizes))
        in_flight: dict = {}
        blocks: list[dict | None] = [None] * len(sizes)
        todo = list(range(len(sizes)))
        slots = max(1, self.limits.n_workers())
        while todo or in_flight:
            while todo and len(in_flight) < slots:
                i = todo.pop(0)
                grants = budget.grant(sizes[i])
                in_flight[submit(i, grants)] = i
            done, _ = wait(list(in_flight), return_when="FIRST_COMPLETED")
            for future in done:
                i = in_flight.pop(future)
                blocks[i] = future.result()
                budget.settle(blocks[i]["runs"])
                tick(sizes[i])
        budget.explain(blocks)
        return blocks

    def _run(self, sources: list[ProgramSource], rows: Sequence, tick: Callable[[int], None]) -> ApplyResult:
        step = self.partition_rows  # texts slice into lists, ScoreRows (image runs) into ScoreRows
        parts = [take(rows, range(i, min(len(rows), i + step))) for i in range(0, len(rows), step)]
        pairs = [(s.name, s.source) for s in sources]
        with dask_client(self.scheduler, self.limits.n_workers()) as client:
            blocks = self._gather(client, lambda i, grants: client.submit(
                _apply_block, parts[i], pairs, self.n_classes, self._limits(), grants, pure=False),
                [len(p) for p in parts], len(sources), tick)
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
            blocks = self._gather(client, lambda i, grants: client.compute(dask.delayed(_apply_frame_block)(
                parts[i], text_column, pairs, self.n_classes, self._limits(), grants)), sizes, len(ok), stage.advance)
            result = self._finish(blocks, sum(sizes), len(ok))
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
