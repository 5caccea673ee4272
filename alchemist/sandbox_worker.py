"""Sandbox worker: runs untrusted labeling programs in a locked-down process.

Started by `alchemist.sandbox` as `python -I -S -B sandbox_worker.py` with an empty environment,
stdin as the command channel and stdout as the result channel. Standard library only (isolated
mode sees neither the project nor site-packages). Order matters: lock down first, then load programs.

Frames to the parent: 1 type byte + 4-byte big-endian length + payload.
  R ready {layers}   P progress {col|load, row}   L load results   C column (header + int8 bytes)
  D chunk done       E fatal error
"""

import ctypes
import importlib
import json
import os
import resource
import signal
import struct
import sys
import time
import types

EXIT_STUCK = 75  # a program kept running after its timeout (it swallowed the timeout exception)
TICK_S = 0.05  # CPU-time granularity of the per-row timer
PROGRESS_EVERY_S = 0.5  # wall-clock gap between progress frames inside a long column
ABSTAIN_BYTE = 0xFF  # -1 as int8


class RowTimeout(BaseException):
    """Raised inside a program whose current row has used up its CPU budget."""


class _State:
    active = False  # inside a column or a load: CPU time is being watched
    in_call = False  # the program's own code is on the stack: a timeout may be raised into it
    seq = 0  # bumped for every call; the timer compares it to see whether a call is stuck
    seen = -1
    stuck = 0.0
    raised_for = -1  # RowTimeout is raised once per call, never into the worker's own handlers
    row_timeout = 1.0
    progress_due = False  # set by the timer every PROGRESS_EVERY_S: the column loop then reports
    last_progress = 0.0


STATE = _State()
RESULT_FD = -1


# --- framing ------------------------------------------------------------------------------------
def send(kind: bytes, payload: bytes) -> None:
    data = kind + struct.pack(">I", len(payload)) + payload
    view = memoryview(data)
    while view:
        n = os.write(RESULT_FD, view)
        view = view[n:]


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


def recv() -> dict:
    (size,) = struct.unpack(">I", read_exact(4))
    return json.loads(read_exact(size))


# --- lockdown -----------------------------------------------------------------------------------
def _fill_fd_gaps() -> int:
    """Highest open fd, after filling every free number below it with /dev/null, so that a
    limit of highest+1 leaves no number free for a new file or socket."""
    highest = max(int(fd) for fd in os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 2
    while True:
        try:
            os.fstat(highest)
            break
        except OSError:  # the listing's own fd, now closed
            highest -= 1
    while True:
        fd = os.open(os.devnull, os.O_RDONLY)
        if fd > highest:
            os.close(fd)
            return highest


def _set_limit(name: str, soft: int, hard: int | None = None) -> None:
    res = getattr(resource, name)
    resource.setrlimit(res, (soft, soft if hard is None else hard))


def apply_rlimits(cfg: dict) -> str:
    done = []
    for name, value in (("RLIMIT_AS", cfg["memory_bytes"]), ("RLIMIT_FSIZE", 0),
                        ("RLIMIT_CORE", 0), ("RLIMIT_CPU", cfg["cpu_backstop_s"])):
        try:
            _set_limit(name, value)
            done.append(name[7:].lower())
        except (ValueError, OSError, AttributeError):
            pass
    # No new file descriptors at all: every fd the worker needs is already open.
    try:
        _set_limit("RLIMIT_NOFILE", _fill_fd_gaps() + 1)
        done.append("nofile")
    except (ValueError, OSError):
        pass
    if os.geteuid() != 0:  # root ignores RLIMIT_NPROC
        try:
            _set_limit("RLIMIT_NPROC", 0)
            done.append("nproc")
        except (ValueError, OSError, AttributeError):
            pass
    return "active (" + ", ".join(done) + ")" if done else "unavailable"


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def enter_namespaces() -> str:
    if not sys.platform.startswith("linux"):
        return "unavailable (not Linux)"
    clone_newuser, clone_newnet = 0x10000000, 0x40000000
    libc = _libc()
    for flags, label in ((clone_newuser | clone_newnet, "user+network"), (clone_newnet, "network")):
        if libc.unshare(flags) == 0:
            return f"active ({label} namespace: no network)"
    return f"unavailable (unshare: {os.strerror(ctypes.get_errno())})"


DENIED_SYSCALLS = (
    # processes, signals, tracing
    "fork", "vfork", "clone", "clone3", "execve", "execveat", "kill", "tkill", "tgkill",
    "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "ptrace",
    "process_vm_readv", "process_vm_writev",
    # network
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    # the filesystem: none of these needs a new fd, so the fd limit alone would not stop them
    "unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "link",
    "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown",
    "fchownat", "truncate", "ftruncate", "mknod", "mknodat", "utime", "utimes", "utimensat",
    "futimesat", "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    "creat", "openat2", "open_by_handle_at", "name_to_handle_at",
    # the system
    "unshare", "setns", "mount", "umount2", "chroot", "pivot_root", "bpf", "perf_event_open",
    "keyctl", "add_key", "request_key", "userfaultfd", "io_uring_setup", "init_module",
    "finit_module", "delete_module", "kexec_load", "reboot", "personality",
)
# open/openat are allowed only for reading: (arg index of flags, mask, value) triples that deny.
O_ACCMODE, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC = 0o3, 0o1, 0o2, 0o100, 0o1000
WRITE_FLAG_RULES = ((O_ACCMODE, O_WRONLY), (O_ACCMODE, O_RDWR), (O_CREAT, O_CREAT), (O_TRUNC, O_TRUNC))


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def load_libseccomp():
    """Open libseccomp before the fd limit is lowered (no find_library: it spawns tools)."""
    if not sys.platform.startswith("linux"):
        return None
    for name in ("libseccomp.so.2", "libseccomp.so"):
        try:
            return ctypes.CDLL(name, use_errno=True)
        except OSError:
            continue
    return None


def install_seccomp(lib) -> str:
    if not sys.platform.startswith("linux"):
        return "unavailable (not Linux)"
    if lib is None:
        return "unavailable (libseccomp not installed)"
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    act_allow, act_errno = 0x7FFF0000, 0x00050000
    eperm, enosys = 1, 38
    ctx = lib.seccomp_init(act_allow)
    if not ctx:
        return "unavailable (seccomp_init failed)"
    denied = 0
    for name in DENIED_SYSCALLS:
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:
            continue
        # clone3 gets ENOSYS so libc falls back to clone, which is then refused.
        action = act_errno | (enosys if name == "clone3" else eperm)
        if lib.seccomp_rule_add(ctx, action, nr, 0) == 0:
            denied += 1
    scmp_cmp_masked_eq = 7
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCmp)]
    for name, flags_arg in (("open", 1), ("openat", 2)):
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:
            continue
        for mask, value in WRITE_FLAG_RULES:
            cmp = _ArgCmp(flags_arg, scmp_cmp_masked_eq, mask, value)
            if lib.seccomp_rule_add_array(ctx, act_errno | eperm, nr, 1, ctypes.byref(cmp)) == 0:
                denied += 1
    rc = lib.seccomp_load(ctx)
    lib.seccomp_release(ctx)
    if rc != 0:
        return f"unavailable (seccomp_load: {os.strerror(-rc)})"
    return f"active ({denied} rules: no processes, signals, sockets, file changes or writes)"


def die_with_parent() -> None:
    """Get SIGKILL if the parent dies (Ctrl-C, crash): never outlive it, even inside an endless loop."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    pr_set_pdeathsig = 1
    try:
        _libc().prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except OSError:
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)


def lockdown(cfg: dict) -> dict:
    """Apply every layer the OS allows; report each one as active or unavailable with why."""
    layers = {"worker_process": "active (python -I, empty environment, empty working dir)"}
    try:
        prctl_no_new_privs = 38
        if sys.platform.startswith("linux"):
            _libc().prctl(prctl_no_new_privs, 1, 0, 0, 0)
    except OSError:
        pass
    lib = load_libseccomp() if cfg.get("seccomp", True) else None
    layers["namespaces"] = enter_namespaces() if cfg.get("namespaces", True) else "disabled"
    layers["rlimits"] = apply_rlimits(cfg)
    layers["seccomp"] = install_seccomp(lib) if cfg.get("seccomp", True) else "disabled"
    layers["cpu_timer"] = "active (ITIMER_PROF per call)"
    return layers


# --- what a program sees ------------------------------------------------------------------------
def _proxy(module_name: str, cfg: dict) -> types.SimpleNamespace:
    module = sys.modules[module_name]
    only = cfg["allowed_modules"][module_name]
    denied = set(cfg["denied_attrs"].get(module_name, ()))
    names = only if only is not None else [n for n in dir(module) if not n.startswith("_")]
    attrs = {}
    for n in names:
        value = getattr(module, n, None)
        if n in denied or value is None or isinstance(value, types.ModuleType):
            continue
        attrs[n] = value
    return types.SimpleNamespace(**attrs)


def make_builtins(cfg: dict) -> dict:
    import builtins

    allowed = cfg["allowed_modules"]
    proxies: dict = {}  # one set per program: a program can't change what another one sees

    def proxy(name: str) -> types.SimpleNamespace:
        if name not in proxies:
            proxies[name] = _proxy(name, cfg)
        return proxies[name]

    def restricted_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level or name not in allowed:
            raise ImportError(f"import of '{name}' is not allowed")
        if fromlist or "." not in name:
            return proxy(name)
        # `import a.b` binds `a`: give a namespace that only reaches the allowed submodule.
        _, _, rest = name.partition(".")
        return types.SimpleNamespace(**{rest: proxy(name)})

    safe = {n: getattr(builtins, n) for n in cfg["safe_builtins"] if hasattr(builtins, n)}
    safe["__import__"] = restricted_import
    safe["__build_class__"] = builtins.__build_class__
    safe["print"] = lambda *a, **k: None  # programs' output goes nowhere
    return safe


def load_program(source: str, name: str, cfg: dict):
    """Compile and run a program's module code; return its entry point."""
    code = compile(source, f"<{name}>", "exec")
    env = {"__builtins__": make_builtins(cfg), "__name__": "labeling_program"}
    STATE.seq += 1
    STATE.active = STATE.in_call = True
    try:
        exec(code, env)
    finally:
        STATE.active = STATE.in_call = False
    fn = env.get(cfg["entry_point"])
    if not callable(fn):
        raise TypeError(f"{cfg['entry_point']} is not defined as a function")
    return fn


# --- timer --------------------------------------------------------------------------------------
def on_prof_tick(signum, frame):
    if not STATE.active:
        return
    now = time.monotonic()
    if now - STATE.last_progress >= PROGRESS_EVERY_S:  # checked here, not on every row
        STATE.last_progress, STATE.progress_due = now, True
    if STATE.seq != STATE.seen:
        STATE.seen, STATE.stuck = STATE.seq, 0.0
        return
    STATE.stuck += TICK_S
    if STATE.stuck >= 2 * STATE.row_timeout + 1.0:
        os._exit(EXIT_STUCK)  # the program swallowed RowTimeout; the parent records the fault
    if STATE.in_call and STATE.stuck >= STATE.row_timeout and STATE.raised_for != STATE.seq:
        STATE.raised_for = STATE.seq
        raise RowTimeout()


def describe(exc: BaseException) -> str:
    """'ValueError: message' without letting a hostile __str__ take over."""
    kind = type(exc).__name__
    STATE.in_call = True  # str() may run the program's own __str__: keep it under the timer
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - the program's own exception may misbehave
        text = "<unprintable>"
    finally:
        STATE.in_call = False
    if type(text) is not str:
        text = ""
    return f"{kind}: {text[:160]}" if text else kind


# --- the column loop ----------------------------------------------------------------------------
def run_column(fn, texts: list, n_classes: int, max_timeouts: int, col: int) -> tuple[dict, bytes]:
    out = bytearray(len(texts))
    counts = {"exception": 0, "non_int": 0, "out_of_range": 0, "timeout": 0}
    samples: list[str] = []
    aborted = False
    state = STATE  # a local name: this loop is the hot path

    def note(kind: str, msg: str, row: int) -> None:
        counts[kind] += 1
        if len(samples) < 3:
            samples.append(f"row {row}: {msg}")

    state.active, state.last_progress, state.progress_due = True, time.monotonic(), False
    try:
        for i, x in enumerate(texts):
            state.seq += 1
            try:
                state.in_call = True
                v = fn(x)
                state.in_call = False
            except RowTimeout:
                state.in_call = False
                out[i] = ABSTAIN_BYTE
                note("timeout", f"exceeded {state.row_timeout:g}s CPU", i)
                if counts["timeout"] >= max_timeouts:  # give up on this chunk for this program
                    out[i + 1:] = bytes([ABSTAIN_BYTE]) * (len(texts) - i - 1)
                    aborted = True
                    break
                continue
            except BaseException as e:  # noqa: BLE001 - a program may raise anything
                state.in_call = False
                out[i] = ABSTAIN_BYTE
                note("exception", describe(e), i)
                continue
            if type(v) is int and -1 <= v < n_classes:
                out[i] = v & 0xFF
            else:
                out[i] = ABSTAIN_BYTE
                if type(v) is int:
                    note("out_of_range", f"returned {v}, outside -1..{n_classes - 1}", i)
                else:
                    note("non_int", f"returned {type(v).__name__}, not int", i)
            if state.progress_due:
                state.progress_due = False
                send_json(b"P", {"col": col, "row": i})
    finally:
        state.active = state.in_call = False
    header = {"col": col, "errors": counts, "samples": samples, "aborted": aborted}
    return header, bytes(out)


def send_column(header: dict, column: bytes) -> None:
    head = json.dumps(header).encode()
    send(b"C", struct.pack(">I", len(head)) + head + column)


def main() -> None:
    global RESULT_FD
    # The result channel is a private copy of stdout; fds 1 and 2 then point at /dev/null.
    RESULT_FD = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    die_with_parent()
    cfg = recv()
    # Import before lockdown (no file can be opened after), with what they load lazily.
    for name in list(cfg["allowed_modules"]) + ["_strptime"]:
        importlib.import_module(name)
    sys.setrecursionlimit(cfg.get("recursion_limit", 2000))
    layers = lockdown(cfg)
    STATE.row_timeout = cfg["row_timeout_s"]
    signal.signal(signal.SIGPROF, on_prof_tick)
    signal.setitimer(signal.ITIMER_PROF, TICK_S, TICK_S)
    send_json(b"R", {"layers": layers})
    programs: dict = {}
    while True:
        try:
            msg = recv()
        except EOFError:
            return
        if msg["op"] == "load":
            results = []
            for p in msg["programs"]:
                send_json(b"P", {"load": p["id"]})
                try:
                    programs[p["id"]] = load_program(p["source"], p["name"], cfg)
                    results.append({"id": p["id"], "ok": True})
                except RowTimeout:
                    results.append({"id": p["id"], "ok": False, "error": "timed out while loading"})
                except BaseException as e:  # noqa: BLE001
                    results.append({"id": p["id"], "ok": False, "error": describe(e)})
            send_json(b"L", {"results": results})
        elif msg["op"] == "run":
            texts = msg["texts"]
            for col in msg["programs"]:
                send_json(b"P", {"col": col, "row": -1})
                header, column = run_column(programs[col], texts, cfg["n_classes"],
                                            cfg["max_row_timeouts"], col)
                send_column(header, column)
            send(b"D", b"")
        else:
            send_json(b"E", {"error": f"unknown op {msg['op']!r}"})
            return


if __name__ == "__main__":
    try:
        main()
    except EOFError:
        pass
    except BaseException as e:  # noqa: BLE001 - report, then die; the parent restarts us
        try:
            send_json(b"E", {"error": describe(e)})
        except BaseException:  # noqa: BLE001
            pass
        os._exit(70)
