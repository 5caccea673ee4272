"""Build the label matrix: each program in processes of its own, several programs side by side.

One program per process, never two: a program that gets past every filter can only change its own
column. Slots (one per core) take a program, start a process for it and feed it chunks of rows
until its rows are done; idle slots join the programs with the most rows left. The parent keeps
time — per-row stall, per-chunk deadline and a per-program wall-clock budget — whatever a worker
says, and turns every fault into abstains for the rows it cost: a crash abstains on the row it
happened on and the program resumes on the next row; repeated faults or a spent budget disable it.
"""

from __future__ import annotations

import os
import struct
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from alchemist.core.errors import AlchemistError
from alchemist.sandbox import policy
from alchemist.sandbox.channel import Worker, WorkerGone
from alchemist.sandbox.forkserver import ForkServer, ForkServerGone
from alchemist.sandbox.limits import ApplyResult, ProgramRun, ProgramSource, SandboxLimits
from alchemist.sandbox.rows import input_of, row_lines
from alchemist.sandbox.worker import protocol as P


def _contained(layers: dict) -> bool:
    """Seccomp or a PID namespace whose pid 1 is trusted: either keeps a program from outliving the run."""
    return any(str(layers.get(name, "")).startswith("active") for name in ("seccomp", "namespaces"))


class SandboxError(AlchemistError):
    """The sandbox itself could not run (not a program's fault)."""


@dataclass
class _Task:
    index: int
    program: ProgramSource
    run: ProgramRun
    queue: deque = field(default_factory=deque)  # (start, end) row ranges still to label
    active: int = 0  # processes running it now
    loaded: bool = False  # its module code ran fine once


class SandboxApplier:
    """Apply labeling programs to texts in locked-down processes; faults become abstains."""

    def __init__(self, programs: Sequence[ProgramSource], n_classes: int, limits: SandboxLimits | None = None,
                 budgets: Sequence[float] | None = None):
        if not 1 <= n_classes <= P.MAX_CLASSES:
            raise SandboxError(f"{n_classes} classes: the label matrix holds 1..{P.MAX_CLASSES} classes")
        self.programs = list(programs)
        self.n_classes = n_classes
        self.limits = limits or SandboxLimits()
        # each program's own wall-clock budget (the Dask backend: what is left of it across partitions)
        self._budgets = [float(b) for b in budgets] if budgets is not None else None
        if self._budgets is not None and len(self._budgets) != len(self.programs):
            raise SandboxError("one budget per program is needed")
        self.runs = [ProgramRun() for _ in self.programs]
        self.layers: dict[str, str] = {}
        self._valid = bytes(range(n_classes)) + bytes([P.ABSTAIN, *P.ERROR_CODES])
        self._lock = threading.Lock()
        self._live: set[Worker] = set()
        self._stopping = False
        self._start_failures = 0

    # --- one program's process ------------------------------------------------------------------
    def _config(self, task: _Task) -> dict:
        lim = self.limits
        return {
            "program": {"name": task.program.name, "source": task.program.source},
            "allowed_modules": {m: (sorted(v) if v is not None else None) for m, v in policy.ALLOWED_MODULES.items()},
            "denied_attrs": {m: sorted(v) for m, v in policy.DENIED_MODULE_ATTRS.items()},
            "internal_imports": list(policy.INTERNAL_IMPORTS),
            "safe_builtins": list(policy.SAFE_BUILTINS),
            "entry_point": policy.ENTRY_POINT,
            "input": self._input,
            "n_classes": self.n_classes,
            "row_timeout_s": lim.row_timeout_s,
            "max_row_timeouts": lim.max_row_timeouts,
            "memory_bytes": lim.memory_mb * 1024 * 1024,
            "cpu_seconds": int(self._budget) + 10,  # the kernel's backstop behind the parent's budget
            "namespaces": lim.namespaces,
            "seccomp": lim.seccomp,
        }

    def _spawn(self, task: _Task) -> Worker:
        """A ready (locked-down) worker; three failed starts in a row mean the sandbox is broken."""
        while True:
            worker = None
            try:
                worker = Worker(self._config(task), self._server, self.limits.startup_s)
                with self._lock:
                    self._live.add(worker)
                layers = worker.start(self.limits.startup_s)
            except (WorkerGone, ForkServerGone, OSError) as e:
                if worker is not None:
                    self._retire(worker)
                with self._lock:
                    self._start_failures += 1
                    if self._start_failures >= 3 or self._stopping:
                        reason = e.reason if isinstance(e, WorkerGone) else str(e)
                        raise SandboxError(f"cannot start a sandbox worker: {reason}") from None
                continue
            if not self.limits.allow_weak and not _contained(layers):  # before any program code runs
                self._retire(worker)
                raise SandboxError(
                    "programs cannot be contained on this host: seccomp is " + layers.get("seccomp", "unknown")
                    + " and namespaces are " + layers.get("namespaces", "unknown") + "; without one of them a "
                    "program could outlive the run. Install libseccomp (e.g. apt install libseccomp2) or allow "
                    "unprivileged user namespaces — or pass --allow-weak-sandbox to run programs anyway")
            with self._lock:
                self._start_failures = 0
                if not self.layers:
                    self.layers = {**layers, "deadlines": self._deadline_layer()}
            return worker

    def _open(self, task: _Task) -> Worker | None:
        """A worker with the task's program loaded, or None (the task is then marked)."""
        worker = self._spawn(task)
        try:
            error = worker.load(self.limits.stall_s, lambda dt: self._charge(task, dt))
        except WorkerGone as e:
            self._retire(worker)
            if not e.budget:
                self._load_failed(task, e.reason)
            return None
        if error is not None:
            self._retire(worker)
            self._load_failed(task, error)
            return None
        task.loaded = True
        return worker

    def _load_failed(self, task: _Task, reason: str) -> None:
        with self._lock:
            if task.loaded:  # it loaded before: a fault now, not a broken program
                self._fault_locked(task, reason)
            elif task.run.load_error is None:
                task.run.load_error = reason

    def _retire(self, worker: Worker) -> None:
        worker.kill()
        with self._lock:
            self._live.discard(worker)

    # --- time and faults ------------------------------------------------------------------------
    def _deadline_layer(self) -> str:
        lim = self.limits
        return (f"active (parent-enforced: a row's result within {lim.stall_s:g}s, a chunk within rows × "
                f"{lim.row_timeout_s:g}s + {lim.stall_grace_s:g}s, {self._budget:g}s per program in all)")

    def _charge(self, task: _Task, seconds: float) -> bool:
        """Charge wall-clock time to a program; True when its process must stop now."""
        with self._lock:
            task.run.seconds += seconds
            budget = self._budget if self._budgets is None else self._budgets[task.index]
            if task.run.seconds > budget and task.run.disabled_reason is None and task.run.load_error is None:
                task.run.disabled_reason = (f"used its time budget ({budget:g}s wall-clock for all "
                                            f"{self._n_rows:,} rows): too slow (raise --program-budget if "
                                            "it is worth the wait)")
            return self._stopping or not task.run.usable

    def _fault_locked(self, task: _Task, reason: str) -> None:
        run = task.run
        run.crashes += 1
        run.last_fault = reason
        if run.crashes >= self.limits.max_faults and run.disabled_reason is None:
            run.disabled_reason = f"disabled after {run.crashes} faults; last: {reason}"

    # --- labeling -------------------------------------------------------------------------------
    def _payload(self, start: int, end: int) -> bytes:
        """A chunk's texts as the worker reads them; whole chunks go to every program: encode once."""
        whole = start % self._step == 0 and end == min(self._n_rows, start + self._step)
        data = self._payloads.get(start) if whole else None
        if data is None:
            data = encode_chunk(row_lines(self._texts, start, end))
            if whole:
                self._payloads[start] = data
        return data

    def _record(self, task: _Task, start: int, codes: bytes, samples: list[tuple[int, str]]) -> None:
        values = np.frombuffer(codes, dtype=np.uint8)
        column = values.astype(np.int8)
        column[values >= P.MAX_CLASSES] = -1
        self._matrix[start:start + len(codes), task.index] = column
        counts = np.bincount(values, minlength=256) if len(values) else np.zeros(256, int)
        with self._lock:
            for code, name in P.ERROR_CODES.items():
                if counts[code]:
                    task.run.errors[name] += int(counts[code])
            room = 3 - len(task.run.samples)
            task.run.samples.extend(f"row {start + row}: {text}" for row, text in samples[:max(room, 0)])
            self._done(task, len(codes))

    def _done(self, task: _Task, rows: int) -> None:
        """Progress: cells labeled (or given up) over all programs, reported as whole rows."""
        self._rows_done[task.index] = self._rows_done.get(task.index, 0) + rows
        self._cells += rows
        rows_now = self._cells // max(1, len(self.programs))
        if rows_now > self._ticked:
            self._tick(rows_now - self._ticked)
            self._ticked = rows_now

    def _run(self, task: _Task, worker: Worker, start: int, end: int) -> tuple[int, int] | None:
        """Collect rows start..end (already sent). On a lost worker, returns what is left to run."""
        lim = self.limits
        try:
            codes, samples = worker.collect(end - start, self._valid, lim.chunk_deadline_s(end - start),
                                            lim.stall_s, lambda dt: self._charge(task, dt))
        except WorkerGone as e:
            self._record(task, start, e.partial, [])
            self._retire(worker)
            bad = start + len(e.partial)  # the row it was on abstains; the rest is tried again
            with self._lock:
                if not e.budget:
                    self._fault_locked(task, e.reason)
                    task.run.errors["crash"] += 1
                self._done(task, 1)
            return (bad + 1, end) if bad + 1 < end else (end, end)
        self._record(task, start, codes, samples)
        timeouts = codes.count(bytes([P.TIMEOUT]))
        if timeouts >= lim.max_row_timeouts:
            with self._lock:
                self._fault_locked(task, f"{timeouts} rows over the {lim.row_timeout_s:g}s CPU limit in one chunk "
                                         "(the rest of the chunk was skipped)")
        return None

    def _pick(self) -> _Task | None:
        """The program with the fewest processes (then the lowest number) that has work left."""
        ready = [t for t in self._tasks if t.run.usable and (t.queue or (not t.loaded and t.active == 0))]
        return min(ready, key=lambda t: (t.active, t.index)) if ready else None

    def _release(self, task: _Task) -> None:
        """Under the lock: a slot lets go of a task; rows a disabled program never ran count as done."""
        task.active -= 1
        if not task.run.usable:
            while task.queue:
                start, end = task.queue.popleft()
                self._done(task, end - start)

    def _slot(self, errors: list) -> None:
        """One core's worth of work: a program at a time, its chunks sent one ahead of the one running."""
        task: _Task | None = None
        worker: Worker | None = None
        ahead: tuple[int, int] | None = None  # the next span, already sent to `worker`
        try:
            while not self._stopping:
                release = None
                with self._lock:
                    if task is not None and ahead is None and (not task.run.usable or not task.queue):
                        self._release(task)
                        task, release, worker = None, worker, None
                    if task is None and (task := self._pick()) is not None:
                        task.active += 1
                    span, sent, ahead = (ahead, True, None) if ahead else (
                        (task.queue.popleft() if task is not None and task.queue else None), False, None)
                if release is not None:
                    self._retire(release)
                if task is None:
                    break
                if worker is None and (worker := self._open(task)) is None:
                    self._requeue(task, span)
                    continue
                if span is None:
                    continue
                if not sent:
                    worker.send_chunk(self._payload(*span))
                with self._lock:
                    ahead = task.queue.popleft() if task.run.usable and task.queue else None
                if ahead is not None:
                    worker.send_chunk(self._payload(*ahead))
                left = self._run(task, worker, *span)
                if left is not None:  # the worker is gone: what it had not done goes back, in order
                    worker = None
                    self._requeue(task, ahead)
                    self._requeue(task, left)
                    ahead = None
        except BaseException as e:  # noqa: BLE001 - surfaced by apply()
            errors.append(e)
        finally:
            if worker is not None:
                self._retire(worker)
            if task is not None:
                with self._lock:
                    self._requeue_locked(task, ahead)
                    self._release(task)

    def _requeue(self, task: _Task, span: tuple[int, int] | None) -> None:
        with self._lock:
            self._requeue_locked(task, span)

    def _requeue_locked(self, task: _Task, span: tuple[int, int] | None) -> None:
        if span is not None and span[0] < span[1]:
            task.queue.appendleft(span)

    def apply(self, texts: Sequence, progress: Callable[[int], None] | None = None) -> ApplyResult:
        """Label every row with every program: texts, or ScoreRows (each row a dict of named scores).
        `progress(n)` is called with rows finished."""
        n = len(texts)
        self._texts, self._n_rows, self._input = texts, n, input_of(texts)
        self._matrix = np.full((n, len(self.programs)), -1, dtype=np.int8)
        self._tick, self._cells, self._ticked, self._rows_done = progress or (lambda _n: None), 0, 0, {}
        self._budget = self.limits.program_budget_s(n) if self._budgets is None else max(self._budgets, default=0.0)
        self._step = max(1, self.limits.chunk_rows)
        self._payloads: dict = {}
        spans = [(s, min(n, s + self._step)) for s in range(0, n, self._step)]
        self._tasks = [_Task(i, p, self.runs[i], deque(spans)) for i, p in enumerate(self.programs)]
        with tempfile.TemporaryDirectory(prefix="alchemist-sandbox-") as workdir:
            os.chmod(workdir, 0o711)  # reachable by a worker that dropped from root to nobody
            self._workdir, self._server = workdir, None
            try:
                self._apply_all()
            finally:  # also on Ctrl-C: no worker outlives the run
                self._stopping = True
                with self._lock:
                    live, self._live = list(self._live), set()
                for worker in live:
                    worker.kill()
                if self._server is not None:
                    self._server.close()
        self._payloads = {}
        return self._finish()

    def _apply_all(self) -> None:
        if not self._tasks:
            return
        # Started here, never in a slot: the kernel's die-with-parent signal fires when the *thread*
        # that started a process ends.
        self._server = ForkServer(self._workdir, list(policy.PRELOAD), self.limits.seccomp)
        errors: list[BaseException] = []
        threads = [threading.Thread(target=self._slot, args=(errors,), daemon=True)
                   for _ in range(min(self.limits.n_workers(), len(self._tasks) * max(1, len(self._tasks[0].queue))))]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():  # join in slices so Ctrl-C is seen promptly
                t.join(0.2)
        if errors:
            raise errors[0]

    def _finish(self) -> ApplyResult:
        if self._n_rows > self._ticked:
            self._tick(self._n_rows - self._ticked)
        for i, run in enumerate(self.runs):
            if not run.usable:  # a disabled program contributes nothing, not a chunk-dependent part
                self._matrix[:, i] = -1
        return ApplyResult(matrix=self._matrix, runs=self.runs, layers=dict(self.layers))


def encode_chunk(texts: Sequence[str]) -> bytes:
    """Texts joined by a separator none of them contains (checked by counting, in C)."""
    texts = [t if type(t) is str else str(t) for t in texts]
    candidates = list(P.SEPARATORS)
    while candidates:
        sep = candidates.pop(0)
        joined = sep.join(texts)
        if joined.count(sep) == len(texts) - 1:
            return struct.pack(P.CHUNK_HEAD, len(texts), ord(sep)) + joined.encode("utf-8", "surrogatepass")
        if not candidates:  # texts made to contain every usual separator: pick a character none uses
            used = set(joined)
            candidates = [next(chr(c) for c in range(0xE000, 0x110000) if chr(c) not in used)]
    raise AssertionError("unreachable")
