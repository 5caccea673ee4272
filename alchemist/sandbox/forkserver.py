"""Parent side of the fork server: one warm interpreter per apply that forks a process per program.

Starting `python` and importing the allowed modules costs tens of milliseconds; forking a process
that already holds them costs about one. The fork server is trusted code that never runs a program
(see `worker/__main__.py`); it is started with an empty environment, in the empty work folder, and dies
with the parent. Its messages are checked like everything else a sandbox process sends.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from alchemist.sandbox.worker import protocol as P

WORKER_SCRIPT = Path(__file__).with_name("worker")  # a folder Python runs through its __main__.py


class ForkServerGone(Exception):
    """The fork server died or broke its protocol."""


def _socketpair() -> tuple[socket.socket, socket.socket]:
    """Message boundaries kept: SEQPACKET where the OS has it (it also signals EOF), else DGRAM."""
    try:
        return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    except (AttributeError, OSError):
        return socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)


class ForkServer:
    """Spawns program processes on request and tracks their exits."""

    def __init__(self, workdir: str, modules: list[str], seccomp: bool):
        ours, theirs = _socketpair()
        self._sock = ours
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-B", str(WORKER_SCRIPT), workdir,
                 "--zygote", str(theirs.fileno()), "--parent", str(os.getpid())],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env={}, cwd=workdir, start_new_session=True, pass_fds=(theirs.fileno(),),
            )
        finally:
            theirs.close()
        try:
            self.proc.stdin.write(json.dumps({"modules": modules, "seccomp": seccomp}).encode())
            self.proc.stdin.close()
        except OSError:
            pass  # it died at once: the first spawn reports it
        self._spawn_lock = threading.Lock()  # one FORK in flight: replies come in request order
        self._cond = threading.Condition()
        self._spawned: list[tuple[int, int]] = []
        self._orphans = 0  # FORK requests given up on: their replies, still to come, are not anyone's
        self._exits: dict[int, int] = {}
        self._dead = False
        threading.Thread(target=self._read, daemon=True, name="alchemist-forkserver").start()

    def _read(self) -> None:
        """Dispatch the server's messages; anything malformed ends it."""
        while True:
            try:
                msg = self._sock.recv(64)
            except OSError:
                msg = b""
            ok = len(msg) == P.SERVER_MESSAGE and msg[:1] in (P.SPAWNED, P.EXITED)
            with self._cond:
                if not ok:
                    self._dead = True
                    self._cond.notify_all()
                    return
                pid, value = struct.unpack(">ii", msg[1:])
                if msg[:1] == P.SPAWNED:
                    self._exits.pop(pid, None)  # a reused pid: the exit on record was an earlier process's
                    if self._orphans:  # the reply to a request that timed out: nobody holds its pipes
                        self._orphans -= 1
                        if pid > 0:
                            self._send_kill(pid)
                        continue
                    self._spawned.append((pid, value))
                else:
                    self._exits[pid] = value
                self._cond.notify_all()

    def spawn(self, timeout_s: float) -> tuple[int, int, int]:
        """A new process: (pid, fd to write its input, fd to read its results)."""
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            with self._spawn_lock:
                try:
                    socket.send_fds(self._sock, [P.FORK + struct.pack(">i", 0)], [in_r, out_w])
                except OSError as e:
                    raise ForkServerGone(f"fork server unreachable ({e.strerror or e})") from None
                pid, err = self._next_spawned(timeout_s)
        except BaseException:
            for fd in (in_w, out_r):
                os.close(fd)
            raise
        finally:
            os.close(in_r)
            os.close(out_w)
        if pid <= 0:
            os.close(in_w)
            os.close(out_r)
            raise ForkServerGone(f"fork failed: {os.strerror(err) if err else 'no process'}")
        return pid, in_w, out_r

    def _next_spawned(self, timeout_s: float) -> tuple[int, int]:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not self._spawned:
                left = deadline - time.monotonic()
                if self._dead or left <= 0:
                    if not self._dead:  # its reply may still come: it must not be taken for the next one's
                        self._orphans += 1
                    raise ForkServerGone("fork server " + ("exited" if self._dead else "did not answer"))
                self._cond.wait(left)
            return self._spawned.pop(0)

    def wait(self, pid: int, timeout_s: float) -> int | None:
        """The exit code of one of its processes (128 + N for signal N), or None if not known in time."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while pid not in self._exits and not self._dead:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self._exits.get(pid)

    def exited(self, pid: int) -> bool:
        with self._cond:
            return pid in self._exits or self._dead

    def kill(self, pid: int) -> None:
        """SIGKILL a process of ours (its whole group). The server checks it is still its child."""
        if self.exited(pid):
            return
        self._send_kill(pid)

    def _send_kill(self, pid: int) -> None:
        try:
            self._sock.send(P.KILL + struct.pack(">i", pid))
        except OSError:
            pass  # the server is gone, and its processes with it (they die with their parent)

    def close(self) -> None:
        """Stop the server; its processes die with it."""
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the reader thread
        except OSError:
            pass
        self._sock.close()
