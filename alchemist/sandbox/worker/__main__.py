"""Sandbox worker: a fork server, and the processes it forks, each running exactly one program.

Started once per apply by the parent as `python -I -S -B WORKER_DIR WORKDIR --zygote FD` with an empty
environment, in WORKDIR (an empty temporary folder). The fork server is trusted code that never runs
a program: it imports what programs may use, then, for each request on the socket FD (two pipe fds
attached), forks a process that takes those pipes as fd 0 (config, then chunks) and fd 3 (results),
and reports every exit status. fds 1 and 2 are /dev/null, so nothing a program prints reaches anyone.
Standard library only.

In each forked process, nothing of the program runs before every layer is in place:
  1. read the config (the one program and the limits);
  2. new namespaces and an empty root, then fork: the program runs as the only process of a new
     PID namespace, and the process above it only waits for it, out of the program's reach;
  3. in the program process: no privileges, rlimits, the CPU timer, the syscall allowlist;
  4. load the program, then label each chunk the parent sends, streaming one code per row. A row is a
     text, or (input kind "scores") a fresh dict {name: float} built from the config's names and the
     row's numbers.
"""

import codecs
import importlib
import json
import os
import signal
import struct
import sys

# Python runs this folder as a program (WORKER_DIR above), which puts the folder itself first on
# sys.path even under -I: its sibling modules import by their own names, and nothing else is reachable.
import lockdown
import protocol as P
import runner
import syscalls

RESULT_FD = 3
SECCOMP_LIB = None  # libseccomp, opened by the fork server before any fork
# Codecs str.encode/bytes.decode import on first use (utf-8, ascii and latin-1 need no import).
CODECS = ("encodings.utf_16", "encodings.utf_32", "encodings.cp1252", "encodings.unicode_escape")


def send(kind: bytes, payload: bytes) -> None:
    view = memoryview(kind + struct.pack(">I", len(payload)) + payload)
    while view:
        view = view[os.write(RESULT_FD, view):]


def send_json(kind: bytes, obj) -> None:
    send(kind, json.dumps(obj).encode())


def read_exact(n: int) -> bytearray:
    """n bytes from the parent, read in place (no growing buffer, no copies)."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = os.readv(0, [view[got:]])
        if not k:
            raise EOFError
        got += k
    return buf


def recv_bytes() -> bytearray:
    (size,) = struct.unpack(">I", read_exact(4))
    return read_exact(size)


def recv():
    return json.loads(recv_bytes())


def recv_texts() -> list:
    """A chunk: row count, separator, then the texts joined by it (see protocol.CHUNK_HEAD)."""
    data = recv_bytes()
    n, sep = struct.unpack_from(P.CHUNK_HEAD, data)
    texts = codecs.utf_8_decode(memoryview(data)[8:], "surrogatepass", True)[0].split(chr(sep))
    if len(texts) != n:
        raise ValueError(f"chunk of {len(texts)} rows where {n} were announced")
    return texts


class ScoreLines:
    """Rows of named scores (sandbox/rows.py), built one at a time as the row loop reaches them: each
    line holds one float per key, comma-separated; every row gets a dict of its own."""

    def __init__(self, texts: list, keys: list):
        self.texts, self.keys = texts, keys

    def __len__(self):
        return len(self.texts)

    def __iter__(self):
        keys = self.keys
        for line in self.texts:  # strict: a row that does not hold one score per name is a ValueError
            yield dict(zip(keys, map(float, line.split(",")), strict=True))


def check_input(spec: dict) -> None:
    """The config's input kind; score rows need distinct string names (two names must never merge)."""
    if spec["kind"] not in ("text", "scores"):
        raise ValueError(f"unknown input kind {spec['kind']!r}")
    keys = spec.get("keys") or []
    if spec["kind"] == "scores" and not (keys and all(type(k) is str for k in keys) and len(set(keys)) == len(keys)):
        raise ValueError("score rows need a list of distinct names")


def recv_rows(cfg: dict) -> list:
    """A chunk as the program is called with it: texts, or dicts of named scores."""
    texts = recv_texts()
    spec = cfg["input"]
    if spec["kind"] == "scores":
        return ScoreLines(texts, spec["keys"])
    return texts


runner.own_code(send, send_json, read_exact, recv_bytes, recv, recv_texts, check_input, recv_rows,
                ScoreLines.__init__, ScoreLines.__len__, ScoreLines.__iter__)


def supervise(child: int, seccomp_lib) -> None:
    """The outer process: wait for the program process and exit with its status (128 + N for
    signal N). It holds no channel to the parent and allows itself almost no syscalls."""
    os.close(0)
    os.close(RESULT_FD)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # pid 1 of a namespace then ignores it from inside
    syscalls.install(seccomp_lib, syscalls.SUPERVISOR_SYSCALLS, {})
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else P.EXIT_SIGNAL_BASE - code)


def lock_down(cfg: dict, parent_alive) -> dict:
    """Every layer, in order; returns what is active. Forks when a PID namespace was entered."""
    workdir = os.getcwd()
    lib = lockdown.libc()
    seccomp_lib = SECCOMP_LIB if cfg["seccomp"] else None
    layers = {"process": "active (one program per process, forked from a fork server that never runs "
                         "a program; python -I, empty environment)"}
    layers["keyring"] = lockdown.fresh_keyring(lib)
    user_ns = False
    if cfg["namespaces"]:
        layers["namespaces"], layers["filesystem"], user_ns = lockdown.isolate(lib, workdir)
    else:
        layers["namespaces"] = layers["filesystem"] = "disabled"
    if layers["namespaces"].startswith("active"):
        keep, parent_alive = lockdown.lifeline()
        child = os.fork()
        if child:
            keep()
            supervise(child, seccomp_lib)
        # pid 1 of the new PID namespace is this trusted process, not the program: it dies with the
        # supervisor outside, and when it dies the kernel kills every process in the namespace — whatever
        # the program did to its session, process group or death signal.
        lockdown.die_with_parent(lib, parent_alive)
        program = os.fork()
        if program:
            supervise(program, seccomp_lib)
        os.setsid()  # its own session: kill(0, ...) reaches no trusted process
        parent_alive = lockdown.is_parent(1)
    layers["privileges"] = lockdown.drop_privileges(lib, user_ns)
    lockdown.die_with_parent(lib, parent_alive)  # after the last uid change, which clears it
    layers["rlimits"] = lockdown.set_rlimits(cfg["memory_bytes"], cfg["cpu_seconds"], RESULT_FD + 1)
    runner.start_timer(cfg["row_timeout_s"])  # before the filter: it forbids changing signal handlers
    layers["cpu_timer"] = f"active (a row over {cfg['row_timeout_s']:g}s of CPU abstains)"
    layers["seccomp"] = (syscalls.install(seccomp_lib, syscalls.PROGRAM_SYSCALLS, {"read": 0, "readv": 0, "write": RESULT_FD})
                         if cfg["seccomp"] else "disabled")
    return layers


def serve(cfg: dict, parent_alive) -> None:
    """The program process, locked down: load the program, then label chunks until EOF."""
    sys.setrecursionlimit(2000)
    check_input(cfg["input"])
    send_json(P.READY, {"layers": lock_down(cfg, parent_alive)})
    if bytes(recv_bytes()) != P.GO:  # the parent may refuse these layers: then nothing of the program runs
        return
    try:
        fn = runner.load_program(cfg)
    except runner.RowTimeout:
        send_json(P.LOADED, {"ok": False, "error": "timed out while loading"})
        return
    except BaseException as e:  # noqa: BLE001 - a program's module code may raise anything
        send_json(P.LOADED, {"ok": False, "error": runner.describe(e)})
        return
    send_json(P.LOADED, {"ok": True})
    while True:
        try:
            rows = recv_rows(cfg)
        except EOFError:
            return
        runner.run_chunk(fn, rows, cfg["n_classes"], cfg["max_row_timeouts"], send)


def forked(fds: list[int], server_pid: int) -> None:
    """In a freshly forked process: take the request's pipes as fds 0 and 3, drop everything else of
    the fork server's, then serve one program. Never returns."""
    code = 0
    try:
        os.setsid()  # its own process group: the parent kills the group
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.dup2(fds[0], 0)
        os.dup2(fds[1], RESULT_FD)
        os.closerange(RESULT_FD + 1, 2**31 - 1)  # close_range(2): every other fd, however high
        parent_alive = lockdown.is_parent(server_pid)
        lockdown.die_with_parent(lockdown.libc(), parent_alive)
        serve(recv(), parent_alive)
    except EOFError:
        pass
    except BaseException as e:  # noqa: BLE001 - report, then die; the parent decides what it means
        try:
            send(P.FATAL, runner.describe(e).encode("utf-8", "replace")[:P.MAX_FATAL])
        except BaseException:  # noqa: BLE001
            pass
        code = 70
    os._exit(code)


def fork_server(sock_fd: int) -> None:
    """Serve the parent's requests until it goes: FORK (two pipe fds attached) forks a program
    process and answers SPAWNED pid; KILL pid kills a process group of ours that is not reaped yet
    (so never a stranger that reused the pid); every exit is reported as EXITED pid code."""
    import selectors
    import socket

    sock = socket.socket(fileno=sock_fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the selector through the pipe
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    children: set = set()
    me = os.getpid()
    while True:
        for key, _ in selector.select():
            if key.fileobj is sock:
                msg, fds, _, _ = socket.recv_fds(sock, 64, 2)
                if not msg:
                    os._exit(0)  # the parent closed its end
                _request(sock, bytes(msg), fds, children, me)
            else:
                os.read(wake_r, 4096)
                _reap(sock, children)


def _request(sock, msg: bytes, fds: list, children: set, me: int) -> None:
    kind = msg[:1]
    pid = struct.unpack(">i", msg[1:5])[0] if len(msg) == 5 else 0
    if kind == P.FORK and len(fds) == 2:
        try:
            pid, err = os.fork(), 0
        except OSError as e:
            pid, err = -1, e.errno or 1
        if pid == 0:
            forked(fds, me)
        if pid > 0:
            children.add(pid)
        sock.send(P.SPAWNED + struct.pack(">ii", pid, err))
    elif kind == P.KILL and pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            os.kill(pid, signal.SIGKILL)
    for fd in fds:
        os.close(fd)


def _reap(sock, children: set) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        code = os.waitstatus_to_exitcode(status)
        sock.send(P.EXITED + struct.pack(">ii", pid, code if code >= 0 else P.EXIT_SIGNAL_BASE - code))


def main() -> None:
    """The fork server: load what programs may use, once, then fork a process per program."""
    devnull = os.open(os.devnull, os.O_RDWR)
    parent = int(sys.argv[sys.argv.index("--parent") + 1])
    lockdown.die_with_parent(lockdown.libc(), lockdown.is_parent(parent))
    init = json.loads(sys.stdin.buffer.read())
    for name in list(init["modules"]) + list(CODECS):  # nothing can be imported after lockdown
        importlib.import_module(name)
    lockdown.keep_memory(lockdown.libc())
    global SECCOMP_LIB
    SECCOMP_LIB = syscalls.load_library() if init["seccomp"] else None
    for fd in (0, 1, 2, RESULT_FD):  # fds 0..3 are taken: received pipes land above them
        os.dup2(devnull, fd)
    fork_server(int(sys.argv[sys.argv.index("--zygote") + 1]))


if __name__ == "__main__":
    main()
