"""Parent side of the sandbox: a pool of locked-down worker processes that build the label matrix.

Each worker is `python -I -S -B sandbox_worker.py` with an empty environment (no API keys reach
generated code). Results come back as raw int8 columns behind a strict length-prefixed framing —
nothing from a worker is ever unpickled or evaluated here. A wall-clock stall deadline kills a worker
whose program is stuck in C code or swallows its timeout; the fault is charged to that program.
"""

from __future__ import annotations

import json
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, SimpleQueue
from typing import Callable, Sequence

import numpy as np

from alchemist import policy
from alchemist.errors import AlchemistError

WORKER_SCRIPT = Path(__file__).with_name("sandbox_worker.py")
EXIT_STUCK = 75  # keep in sync with sandbox_worker.EXIT_STUCK
MAX_FRAME = 256 * 1024 * 1024


class SandboxError(AlchemistError):
    """The sandbox itself could not run (not a program's fault)."""


@dataclass
class SandboxLimits:
    row_timeout_s: float = 1.0  # CPU seconds one call may take before it abstains
    memory_mb: int = 1024  # address-space limit of each worker
    max_row_timeouts: int = 3  # timeouts in one chunk before the rest of that chunk abstains
    max_faults: int = 3  # worker crashes / aborted chunks before a program is disabled
    cpu_backstop_s: int = 6 * 3600
    workers: int = 0  # 0 = one per core
    chunk_rows: int = 1000
    namespaces: bool = True
    seccomp: bool = True
    stall_grace_s: float = 6.0  # slack on top of the CPU timeout before the parent kills a silent worker

    @property
    def stall_s(self) -> float:
        """Wall-clock silence after which a worker is killed (progress frames come every 0.5 s)."""
        return 2 * self.row_timeout_s + self.stall_grace_s

    def n_workers(self) -> int:
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)


@dataclass
class ProgramSource:
    name: str
    source: str


@dataclass
class ProgramRun:
    """What happened to one program while it was applied."""

    errors: Counter = field(default_factory=Counter)  # exception / non_int / out_of_range / timeout
    samples: list[str] = field(default_factory=list)
    crashes: int = 0  # worker deaths and aborted chunks charged to this program
    load_error: str | None = None
    disabled_reason: str | None = None
    last_fault: str = ""

    @property
    def usable(self) -> bool:
        return self.load_error is None and self.disabled_reason is None


@dataclass
class ApplyResult:
    matrix: np.ndarray  # (n_rows, n_programs) int8, -1 = abstain
    runs: list[ProgramRun]
    layers: dict[str, str]


class _WorkerDied(Exception):
    def __init__(self, reason: str, current: int | None):
        super().__init__(reason)
        self.reason, self.current = reason, current


def _unexpected(kind: bytes, payload: bytes, current: int | None) -> _WorkerDied:
    """A frame out of protocol order; an error frame carries the worker's own message."""
    if kind == b"E":
        try:
            return _WorkerDied(f"worker error: {json.loads(payload)['error']}"[:300], current)
        except (ValueError, KeyError, TypeError):
            pass
    return _WorkerDied(f"unexpected frame {kind!r} from worker", current)


class _Worker:
    """One worker process and its framed channels."""

    def __init__(self, config: dict, workdir: str, stall_s: float):
        self.stall_s = stall_s
        self.current: int | None = None  # program (column or load) the worker is busy with
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", str(WORKER_SCRIPT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={}, cwd=workdir, start_new_session=True, close_fds=True,
        )
        try:
            self.send(config)
            kind, payload = self.read_frame()
            if kind != b"R":
                raise _unexpected(kind, payload, None)
            self.layers: dict[str, str] = json.loads(payload)["layers"]
        except (_WorkerDied, ValueError, KeyError):
            self.kill()
            raise _WorkerDied("worker did not start", None) from None

    def send(self, obj: dict) -> None:
        data = json.dumps(obj).encode()
        try:
            self.proc.stdin.write(struct.pack(">I", len(data)) + data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died("worker closed its input") from None

    def _read_exact(self, n: int) -> bytes:
        fd = self.proc.stdout.fileno()
        buf = bytearray()
        while len(buf) < n:
            ready, _, _ = select.select([fd], [], [], self.stall_s)
            if not ready:
                self.kill()
                raise _WorkerDied(f"no progress for {self.stall_s:g}s wall-clock (stuck in C code?)",
                                  self.current)
            part = os.read(fd, min(n - len(buf), 1 << 20))
            if not part:
                raise self._died("worker exited")
            buf += part
        return bytes(buf)

    def read_frame(self) -> tuple[bytes, bytes]:
        head = self._read_exact(5)
        kind, size = head[:1], struct.unpack(">I", head[1:])[0]
        if size > MAX_FRAME:
            self.kill()
            raise _WorkerDied("worker sent an oversized frame", self.current)
        return kind, self._read_exact(size)

    def _died(self, what: str) -> _WorkerDied:
        code = self.proc.wait(timeout=5) if self.proc.poll() is None else self.proc.returncode
        if code == EXIT_STUCK:
            reason = "kept running after its CPU timeout (it swallows the timeout)"
        elif code is not None and code < 0:
            reason = f"worker killed by {signal.Signals(-code).name}"
        else:
            reason = f"{what} (exit code {code})"
        return _WorkerDied(reason, self.current)

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


class SandboxApplier:
    """Apply labeling programs to texts in locked-down workers; faults become abstains."""

    def __init__(self, programs: Sequence[ProgramSource], n_classes: int,
                 limits: SandboxLimits | None = None):
        if not 1 <= n_classes <= 127:
            raise SandboxError(f"{n_classes} classes: the label matrix holds 1..127 classes")
        self.programs = list(programs)
        self.n_classes = n_classes
        self.limits = limits or SandboxLimits()
        self.runs = [ProgramRun() for _ in self.programs]
        self.layers: dict[str, str] = {}
        self._lock = threading.Lock()
        self._workdir = ""
        self._live: set[_Worker] = set()  # every worker started; all are killed when apply() ends

    # --- configuration sent to every worker -----------------------------------------------------
    def _config(self) -> dict:
        lim = self.limits
        return {
            "allowed_modules": {m: (sorted(v) if v is not None else None)
                                for m, v in policy.ALLOWED_MODULES.items()},
            "denied_attrs": {m: sorted(v) for m, v in policy.DENIED_MODULE_ATTRS.items()},
            "safe_builtins": list(policy.SAFE_BUILTINS),
            "entry_point": policy.ENTRY_POINT,
            "n_classes": self.n_classes,
            "row_timeout_s": lim.row_timeout_s,
            "max_row_timeouts": lim.max_row_timeouts,
            "memory_bytes": lim.memory_mb * 1024 * 1024,
            "cpu_backstop_s": lim.cpu_backstop_s,
            "namespaces": lim.namespaces,
            "seccomp": lim.seccomp,
        }

    def _enabled(self) -> list[int]:
        with self._lock:
            return [i for i, r in enumerate(self.runs) if r.usable]

    def _fault(self, pid: int, reason: str) -> None:
        with self._lock:
            run = self.runs[pid]
            run.crashes += 1
            run.last_fault = reason
            if run.crashes >= self.limits.max_faults and run.disabled_reason is None:
                run.disabled_reason = f"disabled after {run.crashes} faults; last: {reason}"

    # --- worker lifecycle -----------------------------------------------------------------------
    def _spawn(self, ids: list[int], vetting: bool) -> _Worker:
        """Start a worker and load programs; a program that breaks loading is marked, not fatal."""
        failures = 0
        while True:
            try:
                worker = _Worker(self._config(), self._workdir, self.limits.stall_s)
                with self._lock:
                    self._live.add(worker)
            except (_WorkerDied, OSError) as e:
                failures += 1
                if failures >= 3:
                    raise SandboxError(f"cannot start a sandbox worker: {e}") from None
                continue
            try:
                self._load(worker, [i for i in ids if self.runs[i].usable], vetting)
                return worker
            except _WorkerDied as e:
                worker.kill()
                if e.current is None:
                    failures += 1
                    if failures >= 3:
                        raise SandboxError(f"sandbox worker keeps dying: {e.reason}") from None
                elif vetting:
                    with self._lock:
                        self.runs[e.current].load_error = f"crashed its worker while loading: {e.reason}"
                else:
                    self._fault(e.current, e.reason)

    def _load(self, worker: _Worker, ids: list[int], vetting: bool) -> None:
        worker.send({"op": "load", "programs": [
            {"id": i, "name": self.programs[i].name, "source": self.programs[i].source} for i in ids]})
        while True:
            kind, payload = worker.read_frame()
            if kind == b"P":
                worker.current = json.loads(payload).get("load")
            elif kind == b"L":
                worker.current = None
                for res in json.loads(payload)["results"]:
                    if not res["ok"] and vetting:
                        with self._lock:
                            self.runs[res["id"]].load_error = res["error"]
                return
            else:
                raise _unexpected(kind, payload, worker.current)

    # --- applying -------------------------------------------------------------------------------
    def _run_chunk(self, worker: _Worker, ids: list[int], texts: list[str],
                   out: np.ndarray, received: set[int]) -> None:
        """Fill `out` (a view of the chunk's rows) for the programs in `ids`; raise on worker death."""
        worker.current = None
        worker.send({"op": "run", "programs": ids, "texts": texts})
        while not received.issuperset(ids):
            kind, payload = worker.read_frame()
            if kind == b"P":
                worker.current = json.loads(payload).get("col")
            elif kind == b"C":
                col, values = self._take_column(payload, len(texts), worker)
                out[:, col] = values
                received.add(col)
            else:
                raise _unexpected(kind, payload, worker.current)
        kind, payload = worker.read_frame()
        if kind != b"D":
            raise _unexpected(kind, payload, worker.current)

    def _take_column(self, payload: bytes, n_rows: int, worker: _Worker) -> tuple[int, np.ndarray]:
        """Parse a column frame strictly; anything malformed is the worker's fault."""
        try:
            (hlen,) = struct.unpack(">I", payload[:4])
            header = json.loads(payload[4:4 + hlen])
            col = int(header["col"])
            values = np.frombuffer(payload[4 + hlen:], dtype=np.int8)
        except (ValueError, KeyError, TypeError, struct.error):
            worker.kill()
            raise _WorkerDied("malformed result frame", worker.current) from None
        if (col != worker.current or values.shape != (n_rows,)
                or values.min(initial=0) < -1 or values.max(initial=0) >= self.n_classes):
            worker.kill()
            raise _WorkerDied("result column failed validation", worker.current)
        with self._lock:
            run = self.runs[col]
            for kind, count in header.get("errors", {}).items():
                if count:
                    run.errors[str(kind)] += int(count)
            room = 3 - len(run.samples)
            run.samples.extend(str(s)[:240] for s in header.get("samples", [])[:max(room, 0)])
        if header.get("aborted"):
            self._fault(col, f"more than {self.limits.max_row_timeouts - 1} timeouts in one chunk")
        return col, values

    def _serve(self, queue: SimpleQueue, texts: Sequence[str], matrix: np.ndarray,
               first: _Worker | None, tick: Callable[[int], None], errors: list) -> None:
        worker = first
        try:
            while True:
                try:
                    start, end = queue.get_nowait()
                except Empty:
                    return
                worker = self._apply_chunk(worker, list(texts[start:end]), matrix[start:end])
                tick(end - start)
        except BaseException as e:  # noqa: BLE001 - surfaced by apply()
            errors.append(e)
        finally:
            if worker is not None:
                worker.kill()

    def _apply_chunk(self, worker: _Worker | None, chunk: list[str], out: np.ndarray) -> _Worker | None:
        """Run every enabled program on one chunk, restarting the worker after each death."""
        received: set[int] = set()
        unexplained = 0
        while True:
            pending = [i for i in self._enabled() if i not in received]
            if not pending:
                return worker
            if worker is None:  # a worker is reused for later chunks: it loads every enabled program
                worker = self._spawn(self._enabled(), vetting=False)
                continue
            try:
                self._run_chunk(worker, pending, chunk, out, received)
                return worker
            except _WorkerDied as e:
                worker.kill()
                worker = None
                if e.current is None:
                    unexplained += 1
                    if unexplained >= 3:
                        raise SandboxError(f"sandbox worker keeps dying on a chunk: {e.reason}") from None
                    continue
                # Columns received before the death stay; the culprit's column abstains for this chunk.
                self._fault(e.current, e.reason)
                out[:, e.current] = -1
                received.add(e.current)

    def apply(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> ApplyResult:
        """Label every text with every program. `progress(n)` is called with rows finished."""
        matrix = np.full((len(texts), len(self.programs)), -1, dtype=np.int8)
        tick = progress or (lambda _n: None)
        with tempfile.TemporaryDirectory(prefix="alchemist-sandbox-") as workdir:
            self._workdir = workdir
            try:
                self._apply_all(texts, matrix, tick)
            finally:  # also on Ctrl-C: no worker outlives the run
                with self._lock:
                    live, self._live = list(self._live), set()
                for worker in live:
                    worker.kill()
        return self._finish(matrix)

    def _apply_all(self, texts: Sequence[str], matrix: np.ndarray, tick: Callable[[int], None]) -> None:
        n = len(texts)
        first = self._spawn(list(range(len(self.programs))), vetting=True)
        self.layers = dict(first.layers)
        if n == 0 or not self._enabled():
            return
        queue: SimpleQueue = SimpleQueue()
        step = max(1, self.limits.chunk_rows)
        for start in range(0, n, step):
            queue.put((start, min(n, start + step)))
        errors: list[BaseException] = []
        threads = [threading.Thread(
            target=self._serve, args=(queue, texts, matrix, first if k == 0 else None, tick, errors),
            daemon=True) for k in range(min(self.limits.n_workers(), -(-n // step)))]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():  # join in slices so Ctrl-C is seen promptly
                t.join(0.2)
        if errors:
            raise errors[0]

    def _finish(self, matrix: np.ndarray) -> ApplyResult:
        for i, run in enumerate(self.runs):
            if not run.usable:  # a disabled program contributes nothing, not a chunk-dependent part
                matrix[:, i] = -1
        return ApplyResult(matrix=matrix, runs=self.runs, layers=self.layers)
