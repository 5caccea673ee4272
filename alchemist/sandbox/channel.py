"""Parent side of one program process: spawn, framed I/O under deadlines, strict parsing.

Every byte from the worker is hostile. Frames are checked for kind, size and content before use,
and the parent never blocks on the worker: reads and writes go through `select` with a deadline,
so a worker that stops reading, floods, stalls, sleeps or sends garbage is killed and reported —
nothing it sends can raise anywhere but here, as `WorkerGone`.
"""

from __future__ import annotations

import json
import os
import select
import signal
import struct
import time
from typing import Callable

from alchemist.core.safe_text import clean
from alchemist.sandbox.forkserver import ForkServer
from alchemist.sandbox.worker import protocol as P

POLL_S = 0.25  # the longest the parent waits without checking deadlines and budgets
LAYER_NAMES = ("process", "namespaces", "filesystem", "privileges", "rlimits", "seccomp", "cpu_timer", "keyring")


def _widen_pipe(fd: int) -> None:
    """1 MB pipes (Linux): a chunk crosses in a few writes instead of dozens."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


class WorkerGone(Exception):
    """The worker died, broke the protocol or ran out of time. `partial` holds the row codes that
    arrived before; `budget` is set when the program's time budget ran out."""

    def __init__(self, reason: str, partial: bytes = b"", budget: bool = False):
        super().__init__(reason)
        self.reason, self.partial, self.budget = reason, partial, budget


def _exit_reason(code: int | None) -> str:
    if code == P.EXIT_STUCK:
        return "kept running after its CPU timeout (it swallows the timeout)"
    if code is not None and code >= P.EXIT_SIGNAL_BASE:
        code = -(code - P.EXIT_SIGNAL_BASE)
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (memory or CPU limit?)" if -code in (signal.SIGKILL, signal.SIGXCPU) else ""
        return f"process killed by {name}{hint}"
    return f"process exited (exit code {code})"


class Worker:
    """One locked-down process running one program, forked by the apply's fork server."""

    def __init__(self, config: dict, server: ForkServer, timeout_s: float):
        self._server = server
        self.pid, self._wfd, self._rfd = server.spawn(timeout_s)
        for fd in (self._wfd, self._rfd):
            os.set_blocking(fd, False)
            _widen_pipe(fd)
        self._out = bytearray()
        self._in = bytearray()
        self._clock = time.monotonic()  # charged to the program from load() on
        self._queue(json.dumps(config).encode())

    # --- raw I/O ---------------------------------------------------------------------------------
    def _queue(self, data: bytes) -> None:
        self._out += struct.pack(">I", len(data)) + data

    def _gone(self, reason: str) -> WorkerGone:
        self.kill()
        return WorkerGone(reason)

    def _died(self) -> WorkerGone:
        code = self._server.wait(self.pid, 2)
        self.kill()
        return WorkerGone(_exit_reason(code))

    def _pump(self, wait_s: float) -> bool:
        """Move bytes both ways for at most `wait_s`; True when something arrived."""
        wlist = [self._wfd] if self._out else []
        try:
            readable, writable, _ = select.select([self._rfd], wlist, [], max(0.0, wait_s))
        except (OSError, ValueError):
            raise self._gone("worker channel closed") from None
        if writable:
            try:
                sent = os.write(self._wfd, self._out[:1 << 20])
                del self._out[:sent]
            except BlockingIOError:
                pass
            except OSError:  # it closed its input: it is dead or dying
                raise self._died() from None
        if not readable:
            return False
        try:
            data = os.read(self._rfd, 1 << 20)
        except BlockingIOError:
            return False
        except OSError:
            raise self._died() from None
        if not data:
            raise self._died()
        self._in += data
        return True

    def _frame(self, allowed: dict[bytes, int]) -> tuple[bytes, bytes] | None:
        """The next complete frame, if any. `allowed` maps each kind expected now to its size cap."""
        if len(self._in) < P.HEADER:
            return None
        kind = bytes(self._in[:1])
        (size,) = struct.unpack(">I", self._in[1:P.HEADER])
        if kind == P.FATAL and size <= P.MAX_FATAL:
            if len(self._in) < P.HEADER + size:
                return None
            text = bytes(self._in[P.HEADER:P.HEADER + size]).decode("utf-8", "replace")
            raise self._gone(f"worker error: {clean(text, 300)}")
        if kind not in allowed:
            raise self._gone(f"protocol violation: unexpected frame {clean(repr(kind), 20)}")
        if size > allowed[kind]:
            raise self._gone(f"protocol violation: {size}-byte frame where at most {allowed[kind]} fit")
        if len(self._in) < P.HEADER + size:
            return None
        payload = bytes(self._in[P.HEADER:P.HEADER + size])
        del self._in[:P.HEADER + size]
        return kind, payload

    def _await(self, allowed: dict[bytes, int], deadline: float, what: str,
               tick: Callable[[float], bool] | None = None) -> tuple[bytes, bytes]:
        """Wait for one frame of an allowed kind before `deadline` (monotonic). Every moment since
        the program started loading is charged to it through `tick`, frames or not."""
        while True:
            if tick is not None:
                now = time.monotonic()
                spent, self._clock = now - self._clock, now
                if tick(spent):  # out of time budget, or the apply is stopping
                    self.kill()
                    raise WorkerGone("stopped", budget=True)
            frame = self._frame(allowed)
            if frame is not None:
                return frame
            now = time.monotonic()
            if now >= deadline:
                raise self._gone(what)
            self._pump(min(POLL_S, deadline - now))

    # --- phases ----------------------------------------------------------------------------------
    def start(self, timeout_s: float) -> dict[str, str]:
        """Wait for the worker to lock itself down; return its layers, checked and cleaned."""
        _, payload = self._await({P.READY: P.MAX_JSON}, time.monotonic() + timeout_s,
                                 f"worker not ready after {timeout_s:g}s")
        try:
            layers = json.loads(payload)["layers"]
            return {name: clean(layers[name], 200) for name in LAYER_NAMES if isinstance(layers.get(name), str)}
        except Exception:  # noqa: BLE001 - any malformed content is the worker's fault
            raise self._gone("protocol violation: malformed ready frame") from None

    def load(self, timeout_s: float, tick: Callable[[float], bool]) -> str | None:
        """Run the program's module code; None when it loaded, else why it did not."""
        self._queue(P.GO)  # no program code runs before the parent has seen the layers and said so
        self._clock = time.monotonic()  # from here on, all of this process's time is the program's
        try:
            _, payload = self._await({P.LOADED: P.MAX_JSON}, time.monotonic() + timeout_s,
                                     f"timed out while loading (no answer in {timeout_s:g}s)", tick)
        except WorkerGone as e:
            raise WorkerGone(e.reason if e.budget or "timed out" in e.reason
                             else f"crashed its worker while loading: {e.reason}", budget=e.budget) from None
        try:
            reply = json.loads(payload)
            if reply["ok"] is True:
                return None
            return clean(reply["error"], 300) if isinstance(reply["error"], str) else "failed to load"
        except Exception:  # noqa: BLE001
            raise self._gone("protocol violation: malformed load frame") from None

    def send_chunk(self, payload: bytes) -> None:
        """Queue a chunk; it is written while the worker is waited on (so the next chunk can travel
        while the current one runs)."""
        self._queue(payload)

    def collect(self, n_rows: int, valid_codes: bytes, deadline_s: float, stall_s: float,
                tick: Callable[[float], bool]) -> tuple[bytes, list[tuple[int, str]]]:
        """The oldest sent chunk's result: one code per row and up to 3 (row, message) samples."""
        codes = bytearray()
        samples: list[tuple[int, str]] = []
        n_samples = 0
        deadline = time.monotonic() + deadline_s
        last_row = time.monotonic()
        try:
            while len(codes) < n_rows:
                remaining = n_rows - len(codes)
                stall_at = last_row + stall_s
                what = (f"no result for {stall_s:g}s wall-clock (stuck in C code, or waiting)"
                        if stall_at < deadline else f"chunk of {n_rows} rows not done in {deadline_s:g}s wall-clock")
                kind, data = self._await({P.VALUES: remaining, P.SAMPLE: P.MAX_SAMPLE},
                                         min(deadline, stall_at), what, tick)
                if kind == P.VALUES:
                    if not data or data.translate(None, valid_codes):
                        raise self._gone("protocol violation: invalid row code")
                    codes += data
                    last_row = time.monotonic()
                elif (n_samples := n_samples + 1) > P.MAX_SAMPLES:
                    raise self._gone("protocol violation: more error samples than a chunk sends")
                elif len(data) >= 4:
                    (row,) = struct.unpack(">I", data[:4])
                    if row >= n_rows:
                        raise self._gone("protocol violation: sample for a row outside the chunk")
                    samples.append((row, clean(data[4:].decode("utf-8", "replace"), 240)))
        except WorkerGone as e:
            e.partial = bytes(codes)
            raise
        return bytes(codes), samples

    def kill(self) -> None:
        """Also the normal end of work: once its results are in it is killed at once (a grace
        period to exit would be time nobody charges to the program)."""
        self._server.kill(self.pid)
        self._server.wait(self.pid, 5)
        self._close_fd("_wfd")
        self._close_fd("_rfd")

    def _close_fd(self, name: str) -> None:
        fd = getattr(self, name)
        if fd is not None:
            setattr(self, name, None)
            try:
                os.close(fd)
            except OSError:
                pass
