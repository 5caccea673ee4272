"""Sandbox worker: runs exactly one labeling program in a locked-down process.

Started by the parent as `python -I -S -B main.py WORKDIR` with an empty environment, in WORKDIR (an
empty temporary folder). stdin carries the config and then the chunks; fd 3 carries results; fds 1
and 2 are /dev/null, so nothing a program prints reaches anyone. Standard library only.

Nothing of the program runs before every layer is in place:
  1. read the config; import the modules programs may use (no file can be opened later);
  2. new namespaces and an empty root, then fork: the program runs as the only process of a new
     PID namespace, and this outer process only waits for it, out of the program's reach;
  3. in the program process: no privileges, rlimits, the syscall allowlist, the CPU timer;
  4. load the program, then label each chunk the parent sends, streaming one code per row.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves this folder off sys.path

import importlib  # noqa: E402
import json  # noqa: E402
import struct  # noqa: E402

import lockdown  # noqa: E402
import protocol as P  # noqa: E402
import runner  # noqa: E402
import syscalls  # noqa: E402

RESULT_FD = 3
# Codecs str.encode/bytes.decode import on first use (utf-8, ascii and latin-1 need no import).
CODECS = ("encodings.utf_16", "encodings.utf_32", "encodings.cp1252", "encodings.unicode_escape")


def send(kind: bytes, payload: bytes) -> None:
    view = memoryview(kind + struct.pack(">I", len(payload)) + payload)
    while view:
        view = view[os.write(RESULT_FD, view):]


def send_json(kind: bytes, obj) -> None:
    send(kind, json.dumps(obj).encode())


def read_exact(n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        part = os.read(0, n - len(buf))
        if not part:
            raise EOFError
        buf += part
    return bytes(buf)


def recv():
    (size,) = struct.unpack(">I", read_exact(4))
    return json.loads(read_exact(size))


runner.own_code(send, send_json, read_exact, recv)


def setup_fds() -> None:
    """0 = chunks in, 1 and 2 = /dev/null, 3 = results out; nothing else open."""
    os.dup2(1, RESULT_FD)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.closerange(RESULT_FD + 1, 1 << 16)


def supervise(child: int, seccomp_lib) -> None:
    """The outer process: wait for the program process and exit with its status (128 + N for
    signal N). It holds no channel to the parent and allows itself almost no syscalls."""
    os.close(0)
    os.close(RESULT_FD)
    syscalls.install(seccomp_lib, syscalls.SUPERVISOR_SYSCALLS, {})
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else P.EXIT_SIGNAL_BASE - code)


def lock_down(cfg: dict) -> dict:
    """Every layer, in order; returns what is active. Forks when a PID namespace was entered."""
    workdir = os.getcwd()
    lib = lockdown.libc()
    seccomp_lib = syscalls.load_library() if cfg["seccomp"] else None
    layers = {"process": "active (one program per process; python -I, empty environment)"}
    user_ns = False
    if cfg["namespaces"]:
        layers["namespaces"], layers["filesystem"], user_ns = lockdown.isolate(lib, workdir)
    else:
        layers["namespaces"] = layers["filesystem"] = "disabled"
    if layers["namespaces"].startswith("active"):
        child = os.fork()
        if child:
            supervise(child, seccomp_lib)
        lockdown.die_with_parent(lib)
    layers["privileges"] = lockdown.drop_privileges(lib, user_ns)
    layers["rlimits"] = lockdown.set_rlimits(cfg["memory_bytes"], cfg["cpu_seconds"], RESULT_FD + 1)
    runner.start_timer(cfg["row_timeout_s"])  # before the filter: it forbids changing signal handlers
    layers["cpu_timer"] = f"active (a row over {cfg['row_timeout_s']:g}s of CPU abstains)"
    layers["seccomp"] = (syscalls.install(seccomp_lib, syscalls.PROGRAM_SYSCALLS, {"read": 0, "write": RESULT_FD})
                         if cfg["seccomp"] else "disabled")
    return layers


def main() -> None:
    setup_fds()
    lockdown.die_with_parent(lockdown.libc())
    cfg = recv()
    for name in list(cfg["modules"]) + list(CODECS):  # the program's imports: nothing loads later
        importlib.import_module(name)
    sys.setrecursionlimit(2000)
    send_json(P.READY, {"layers": lock_down(cfg)})
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
            msg = recv()
        except EOFError:
            return
        runner.run_chunk(fn, msg["texts"], cfg["n_classes"], cfg["max_row_timeouts"], send)


if __name__ == "__main__":
    try:
        main()
    except EOFError:
        pass
    except BaseException as e:  # noqa: BLE001 - report, then die; the parent decides what it means
        try:
            send(P.FATAL, runner.describe(e).encode("utf-8", "replace")[:P.MAX_FATAL])
        except BaseException:  # noqa: BLE001
            pass
        os._exit(70)
    os._exit(0)
