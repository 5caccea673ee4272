"""Attacks by programs that got past the gate (they go straight to the sandbox here), one test per class.

Each hostile program reaches the real `sys` through `__subclasses__` and from there the worker's own
modules and ctypes — what a prompt-injected model would do once the static gate is fooled. Every test
asserts that the effect did not happen: other programs' columns equal a run without the hostile one,
files outside keep their modes, xattrs and contents, bystander processes live, no IPC object is
left, no secret reaches any output, and the apply ends with a result instead of an exception.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from alchemist.sandbox import ProgramSource, SandboxApplier, SandboxLimits

LINUX = sys.platform.startswith("linux")
pytestmark = pytest.mark.skipif(not LINUX, reason="these attacks use Linux syscalls")

REACH = '''
def _sys():
    for c in ().__class__.__base__.__subclasses__():
        if c.__name__ == "_wrap_close":
            return c.__init__.__globals__["sys"]
def _mod(name):
    return _sys().modules[name]
def _syscall(nr, *args):
    ct = _mod("ctypes")
    libc = ct.CDLL(None, use_errno=True)
    libc.syscall.restype = ct.c_long
    ct.set_errno(0)
    r = libc.syscall(ct.c_long(nr), *[ct.c_long(a) if isinstance(a, int) else a for a in args])
    return r, ct.get_errno()
def _cstr(s):
    return _mod("ctypes").c_char_p(s.encode())
'''
EPERM = 1

# Good programs whose results shared-state poisoning would change (re flags, Counter).
GOOD = {
    "good_re": "import re\nPAT = re.compile(r'spam', re.IGNORECASE)\n"
               "def label_function(x):\n    return 1 if PAT.search(x) else 0\n",
    "good_counter": "from collections import Counter\ndef label_function(x):\n"
                    "    return 1 if Counter(x.lower().split()).most_common(1)[0][0] == 'spam' else 0\n",
    "good_len": "def label_function(x):\n    return len(x) % 2\n",
}
TEXTS = [("SPAM spam offer " if i % 3 == 0 else "hello there friend ") + str(i) for i in range(120)]
LIMITS = dict(row_timeout_s=0.3, memory_mb=512, chunk_rows=40, workers=2, stall_grace_s=1.5, budget_min_s=15)


def apply(programs: dict[str, str], texts=TEXTS, **limits):
    lim = SandboxLimits(**{**LIMITS, **limits})
    result = SandboxApplier([ProgramSource(n, s) for n, s in programs.items()], 2, lim).apply(texts)
    return {n: result.matrix[:, i] for i, n in enumerate(programs)}, dict(zip(programs, result.runs)), result


@pytest.fixture(scope="module")
def baseline():
    cols, runs, _ = apply(GOOD)
    assert all(r.usable and not r.errors for r in runs.values())
    return cols


def assert_good_untouched(cols, baseline):
    for name in GOOD:
        assert np.array_equal(cols[name], baseline[name]), f"{name}'s column changed"


def seccomp_active(result) -> bool:
    return result.layers.get("seccomp", "").startswith("active")


# --- 1. the worker's own code and channel ----------------------------------------------------------
TAMPER = {
    # Replace the function that sends columns: flips every label it sends (only its own can be).
    "flip_sender": REACH + "m = _mod('__main__')\n_orig = m.send\n"
                           "def _evil(kind, payload):\n"
                           "    if kind == b'V':\n        payload = bytes(1 - b if b < 2 else b for b in payload)\n"
                           "    _orig(kind, payload)\nm.send = _evil\n"
                           "def label_function(x):\n    return 1\n",
    # Replace the row loop so it reports a whole chunk at once for any program.
    "fake_loop": REACH + "r = _mod('runner')\n"
                         "def _loop(fn, texts, n_classes, max_timeouts, send):\n    send(b'V', bytes(len(texts)))\n"
                         "r.run_chunk = _loop\ndef label_function(x):\n    return 1\n",
    # Forged frames while doing nothing: samples look like activity, then it sleeps on its input.
    "forge_and_wait": REACH + "def label_function(x):\n    m = _mod('__main__')\n"
                              "    for _ in range(50):\n        m.send(b'S', b'\\0\\0\\0\\0alive')\n"
                              "    _mod('os').read(0, 1)\n    return 1\n",
    # Malformed frames of several kinds.
    "bad_code": REACH + "def label_function(x):\n    _mod('__main__').send(b'V', b'\\x55')\n    return 1\n",
    "huge_header": REACH + "def label_function(x):\n    _mod('os').write(3, b'V\\xff\\xff\\xff\\xff')\n    return 1\n",
    "wrong_kind": REACH + "def label_function(x):\n    _mod('__main__').send(b'R', b'{\"layers\": 5}')\n    return 1\n",
    "json_bomb": REACH + "def label_function(x):\n    _mod('__main__').send(b'L', b'[' * 15000)\n    return 1\n",
    "bad_sample": REACH + "def label_function(x):\n    _mod('__main__').send(b'S', b'\\xff\\xff\\xff\\xffx')\n"
                          "    return 1\n",
    "too_many_rows": REACH + "def label_function(x):\n    _mod('__main__').send(b'V', bytes(100000))\n    return 1\n",
}


@pytest.fixture(scope="module")
def tampered(baseline):
    start = time.monotonic()
    cols, runs, result = apply({**GOOD, **TAMPER})
    return cols, runs, result, time.monotonic() - start


def test_tampering_with_the_worker_changes_no_other_column(tampered, baseline):
    cols, runs, _, _ = tampered
    assert_good_untouched(cols, baseline)
    assert all(runs[n].usable and runs[n].crashes == 0 for n in GOOD)


def test_a_program_that_replaces_its_sender_only_changes_itself(tampered):
    cols, runs, _, _ = tampered
    assert (cols["flip_sender"] == 0).all()  # its own votes, flipped by itself: nothing else
    assert (cols["fake_loop"] == 0).all()


@pytest.mark.parametrize("name", ["forge_and_wait", "bad_code", "huge_header", "wrong_kind", "json_bomb",
                                  "bad_sample", "too_many_rows"])
def test_broken_protocol_is_a_fault_of_that_program(tampered, name):
    cols, runs, _, _ = tampered
    run = runs[name]
    assert not run.usable and "disabled after" in run.disabled_reason, (run.disabled_reason, run.last_fault)
    assert (cols[name] == -1).all()


def test_protocol_faults_say_what_happened(tampered):
    _, runs, _, _ = tampered
    assert "protocol violation" in runs["bad_code"].last_fault
    assert "frame" in runs["huge_header"].last_fault
    assert "more error samples" in runs["forge_and_wait"].last_fault  # forging samples is itself a fault


def test_forged_activity_does_not_keep_a_worker_alive(tampered):
    _, runs, _, elapsed = tampered
    lim = SandboxLimits(**LIMITS)
    # Three stalls at most, each cut at the stall deadline (generous bound for a loaded machine).
    assert runs["forge_and_wait"].seconds <= 3 * lim.stall_s + 3
    assert elapsed < 120


# --- 2. shared state, no bypass needed ------------------------------------------------------------
POISON = {
    "poison_re": "import re\nF = re.RegexFlag\nF.value = 0\ndef label_function(x):\n    return 0\n",
    "poison_counter": "import collections\nC = collections.Counter\n"
                      "C.most_common = lambda self, n=None: [('spam', 99)]\ndef label_function(x):\n    return 0\n",
}


def test_poisoned_shared_classes_reach_no_other_program(baseline):
    from alchemist.sandbox.gate import check_source

    assert all(check_source(s).ok for s in POISON.values())  # these pass the gate: isolation must hold
    for order in (({**POISON, **GOOD}), ({**GOOD, **POISON})):
        cols, runs, _ = apply(order)
        assert_good_untouched(cols, baseline)


# --- 3. syscalls ----------------------------------------------------------------------------------
# (name, number on x86_64, arguments): each must fail with EPERM once the program runs.
SWEEP = [
    ("open", 2, "/etc/hostname", 0), ("openat", 257, -100, "/etc/hostname", 0), ("fchmodat2", 452, -100, "/tmp", 0o777, 0),
    ("chmod", 90, "/tmp", 0o777), ("setxattr", 188, "/tmp", "user.x", "1", 1, 0), ("setxattrat", 463, -100, "/tmp", 0, 0, 0, 0),
    ("ioctl", 16, 0, 0x40086602, 0), ("fcntl_setown", 72, 0, 8, 1), ("fcntl_setsig", 72, 3, 10, 9),
    ("prlimit64", 302, 1, 1, 0, 0), ("setpriority", 141, 0, 1, 0), ("sched_setaffinity", 203, 1, 8, 0),
    ("shmget", 29, 0, 4096, 0o1600), ("semget", 64, 0, 1, 0o1600), ("msgget", 68, 0, 0o1600),
    ("kill", 62, 1, 0), ("tgkill", 234, 1, 1, 0), ("socket", 41, 2, 1, 0), ("ptrace", 101, 16, 1, 0, 0),
    ("process_vm_readv", 310, 1, 0, 0, 0, 0, 0), ("pidfd_open", 434, 1, 0), ("io_uring_setup", 425, 1, 0),
    ("memfd_create", 319, "x", 0), ("userfaultfd", 323, 0), ("perf_event_open", 298, 0, 0, -1, -1, 0),
    ("bpf", 321, 0, 0, 0), ("unshare", 272, 0x10000000), ("mount", 165, 0, 0, 0, 0, 0), ("keyctl", 250, 0, 0),
    ("getdents64", 217, 0, 0, 0), ("dup", 32, 3), ("pipe2", 293, 0, 0), ("prctl", 157, 1, 0),
    ("rt_sigaction", 13, 27, 0, 0, 8), ("setitimer", 38, 2, 0, 0), ("nanosleep", 35, 0, 0),
    ("clock_nanosleep", 230, 0, 0, 0, 0), ("poll", 7, 0, 0, 0), ("setsid", 112), ("mprotect_exec", 10, 0, 4096, 7),
    ("mmap_exec", 9, 0, 4096, 7, 0x22, -1, 0), ("writev", 20, 3, 0, 0), ("pwrite64", 18, 3, 0, 0, 0),
    ("sendmsg", 46, 3, 0, 0), ("clone3", 435, 0, 0), ("close_fd3", 3, 3), ("splice", 275, 0, 0, 3, 0, 1, 0),
    ("future_syscall_600", 600), ("seccomp", 317, 1, 0, 0), ("uname", 63, 0),
]


def _sweep_program() -> str:
    calls = "\n".join(f"    ({name!r}, {nr}, {args!r})," for name, nr, *args in SWEEP)
    return REACH + f"CALLS = [\n{calls}\n]\n" + '''
def label_function(x):
    allowed = []
    for name, nr, args in CALLS:
        r, err = _syscall(nr, *[_cstr(a) if isinstance(a, str) else a for a in args])
        if r != -1 or err != 1:
            allowed.append(f"{name}={r}/{err}")
    if allowed:
        raise RuntimeError("not denied: " + ", ".join(allowed))
    return 1
'''


def test_every_syscall_outside_the_allowlist_fails():
    cols, runs, result = apply({"sweep": _sweep_program()}, texts=["a", "b"])
    if not seccomp_active(result):
        pytest.skip(f"seccomp not active here: {result.layers.get('seccomp')}")
    assert (cols["sweep"] == 1).all(), runs["sweep"].samples


def test_other_syscall_abis_are_refused():
    """x32 numbers (and other ABIs) are outside the filter's architecture: the process dies."""
    program = REACH + "def label_function(x):\n    r, err = _syscall(0x40000000 | 39)\n    return 1 if r == -1 else 0\n"
    cols, runs, result = apply({"x32": program}, texts=["a", "b"])
    if not seccomp_active(result):
        pytest.skip(f"seccomp not active here: {result.layers.get('seccomp')}")
    assert not (cols["x32"] == 0).any()
    assert "SIGSYS" in runs["x32"].last_fault or (cols["x32"] == 1).all()


CLOCK_SPY = REACH + """
def label_function(x):
    t = _mod("time")
    t.monotonic(), t.process_time(), t.thread_time(), t.time()  # its own clocks still work
    pid = int(x)
    try:
        t.clock_gettime(((~pid) << 3) | 2)  # another process's CPU clock, by its pid
        return 0
    except:  # noqa: E722 - a program's builtins hold no exception names
        return 1
"""


def test_another_processs_cpu_clock_cannot_be_read_even_without_a_pid_namespace():
    """A degraded host (no PID namespace): a CPU clock id names any process on the host by pid."""
    cols, runs, result = apply({"clock_spy": CLOCK_SPY}, texts=[str(os.getpid()), "1"], namespaces=False)
    if not seccomp_active(result):
        pytest.skip(f"seccomp not active here: {result.layers.get('seccomp')}")
    assert (cols["clock_spy"] == 1).all(), runs["clock_spy"].samples


ESCAPEE = REACH + """
def label_function(x):
    _syscall(157, 15, _cstr("escapee"), 0, 0, 0)  # PR_SET_NAME: to be found afterwards
    _syscall(157, 1, 0, 0, 0, 0)  # PR_SET_PDEATHSIG 0: no longer killed with its parent
    _syscall(112)  # setsid: out of the process group the parent kills
    t = _mod("time")
    while True:
        t.sleep(0.2)  # no CPU time: the CPU timer never fires
"""


def _named(name: str) -> list[int]:
    """Live processes (not zombies) called `name`."""
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            state = (comm.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if comm.read_text().strip() == name and state != "Z":
                found.append(int(comm.parent.name))
        except (OSError, IndexError):
            pass
    return found


def test_a_program_without_seccomp_does_not_outlive_the_run():
    """A degraded host (no seccomp): the program undoes its death signal and leaves its process group;
    in a PID namespace whose pid 1 is the trusted supervisor, it still dies with the run."""
    cols, runs, result = apply({"escapee": ESCAPEE}, texts=["a", "b"], seccomp=False, budget_min_s=3)
    if not result.layers.get("namespaces", "").startswith("active"):
        pytest.skip(f"no PID namespace here: {result.layers.get('namespaces')}")
    deadline = time.monotonic() + 5
    while _named("escapee") and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = _named("escapee")
    for pid in survivors:  # never leave it running, whatever the test says
        os.kill(pid, signal.SIGKILL)
    assert not survivors and not runs["escapee"].usable


def test_a_host_with_neither_seccomp_nor_namespaces_is_refused_unless_asked(baseline):
    from alchemist.sandbox.applier import SandboxError

    with pytest.raises(SandboxError, match="seccomp is disabled and namespaces are disabled.*--allow-weak-sandbox"):
        apply(GOOD, seccomp=False, namespaces=False)
    cols, _, result = apply(GOOD, seccomp=False, namespaces=False, allow_weak=True)
    assert_good_untouched(cols, baseline)
    assert result.layers["seccomp"] == "disabled" and result.layers["namespaces"] == "disabled"


def test_no_program_code_runs_before_the_parent_accepts_the_layers(tmp_path, monkeypatch):
    """The refusal of a weak host used to come after READY, while the program's module code already ran.
    The parent here takes a second to decide: long enough for any code that does not wait for it."""
    from alchemist.sandbox import applier
    from alchemist.sandbox.applier import SandboxError

    monkeypatch.setattr(applier, "_contained", lambda layers: time.sleep(1.0) or False)
    import shutil
    import tempfile

    drop = Path(tempfile.mkdtemp(prefix="alchemist-drop-", dir="/tmp"))  # reachable by the worker's user ...
    os.chmod(drop, 0o777)  # ... and writable, whatever user it is
    program = REACH + f"_os = _mod('os')\n_os.mkdir('{drop}/ran_%d' % _os.getpid())\n" \
                      "def label_function(x):\n    return 1\n"
    with pytest.raises(SandboxError):
        apply({f"evil{i}": program for i in range(2)}, texts=["a"] * 30, seccomp=False, namespaces=False)
    time.sleep(0.5)
    ran = list(drop.iterdir())
    shutil.rmtree(drop, ignore_errors=True)
    assert not ran


SIGNAL_GROUP = REACH + """
_sig = _mod("signal")
_sig.signal(_sig.SIGUSR1, _sig.SIG_IGN)
try:
    _mod("os").kill(0, 10)  # its process group: once also the trusted supervisor outside the namespace
except:  # noqa: E722
    pass
_mod("time").sleep(0.3)
def label_function(x):
    return 1
"""


def test_a_program_without_seccomp_cannot_signal_the_trusted_processes():
    cols, runs, result = apply({"signal_group": SIGNAL_GROUP}, texts=["a", "b"], seccomp=False)
    if not result.layers.get("namespaces", "").startswith("active"):
        pytest.skip(f"no PID namespace here: {result.layers.get('namespaces')}")
    assert runs["signal_group"].load_error is None and (cols["signal_group"] == 1).all()


def test_files_outside_keep_modes_xattrs_and_contents(tmp_path, baseline):
    victim = tmp_path / "victim.txt"
    victim.write_text("user data")
    victim.chmod(0o640)
    (tmp_path / "dir").mkdir()
    before = victim.stat()
    xattrs_before = os.listxattr(victim) if hasattr(os, "listxattr") else []
    v, d = str(victim), str(tmp_path / "dir")
    ops = {
        "fchmodat2": f"_syscall(452, -100, _cstr({v!r}), 0o4777, 0)",
        "chmod": f"_mod('os').chmod({v!r}, 0o4777)",
        "setxattr": f"_mod('os').setxattr({v!r}, 'user.evil', b'1')",
        "setxattrat": f"_syscall(463, -100, _cstr({v!r}), 0, _cstr('user.evil'), 0, 0)",
        "ioctl_flags": f"_mod('fcntl').ioctl(_mod('os').open({v!r}, 0), 0x40086602, b'\\x10\\0\\0\\0')",
        "write": f"_mod('os').write(_mod('os').open({v!r}, 1 | 512), b'owned')",
        "unlink": f"_mod('os').unlink({v!r})",
        "rename": f"_mod('os').rename({v!r}, {v + '.moved'!r})",
        "truncate": f"_mod('os').truncate({v!r}, 0)",
        "rmdir": f"_mod('os').rmdir({d!r})",
        "symlink": f"_mod('os').symlink({v!r}, {str(tmp_path / 'link')!r})",
    }
    programs = {n: REACH + f"def label_function(x):\n    {op}\n    return 1\n" for n, op in ops.items()}
    cols, runs, result = apply({**GOOD, **programs})
    assert_good_untouched(cols, baseline)
    after = victim.stat()
    assert victim.read_text() == "user data"
    assert (after.st_mode, after.st_uid, after.st_mtime_ns) == (before.st_mode, before.st_uid, before.st_mtime_ns)
    if hasattr(os, "listxattr"):
        assert os.listxattr(victim) == xattrs_before
    assert (tmp_path / "dir").is_dir() and not (tmp_path / "link").exists()
    assert not Path(v + ".moved").exists()
    for name in ops:
        if not ops[name].startswith("_syscall"):  # raw syscalls return -1 instead of raising
            assert (cols[name] == -1).all(), name


def _sysv() -> dict[str, list[str]]:
    out = {}
    for kind in ("shm", "sem", "msg"):
        path = Path("/proc/sysvipc") / kind
        out[kind] = path.read_text().splitlines()[1:] if path.exists() else []
    return out


def test_no_signals_no_limits_no_ipc_leave_the_worker(baseline):
    got: list[int] = []
    old = signal.signal(signal.SIGUSR1, lambda *a: got.append(1))
    bystander = subprocess.Popen(["sleep", "60"])
    me, fsize = os.getpid(), resource.getrlimit(resource.RLIMIT_FSIZE)
    ipc_before = _sysv()
    try:
        ops = {
            "kill_bystander": f"_mod('os').kill({bystander.pid}, 9)",
            "stop_bystander": f"_syscall(62, {bystander.pid}, 19)",
            "kill_everyone": "_syscall(62, -1, 9)",
            "signal_parent": f"_mod('os').kill({me}, {int(signal.SIGUSR1)})",
            "fcntl_owner": f"_syscall(72, 0, 8, {me}); _syscall(72, 0, 10, 10); _syscall(72, 0, 4, 0o20000)",
            "prlimit_parent": f"_mod('resource').prlimit({me}, _mod('resource').RLIMIT_FSIZE, (0, 0))",
            "shm_600mb": "_syscall(29, 0, 600 * 1024 * 1024, 0o1600)",
            "sem": "_syscall(64, 0, 4, 0o1600)",
            "msg": "_syscall(68, 0, 0o1600)",
        }
        programs = {n: REACH + f"def label_function(x):\n    {op}\n    return 1\n" for n, op in ops.items()}
        cols, runs, result = apply({**GOOD, **programs})
        time.sleep(0.3)
        assert_good_untouched(cols, baseline)
        assert bystander.poll() is None, "a bystander process was killed"
        state = Path(f"/proc/{bystander.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        assert state != "T", "a bystander process was stopped"
        assert got == [], "the parent received a signal from a program"
        assert resource.getrlimit(resource.RLIMIT_FSIZE) == fsize
        assert _sysv() == ipc_before, "an IPC object outlived the run"
    finally:
        signal.signal(signal.SIGUSR1, old)
        bystander.kill()
        bystander.wait()


def test_no_file_and_no_secret_can_be_read(tmp_path, monkeypatch):
    secret = "sk-test-SECRET-d34db33f"
    env_file = tmp_path / ".env"
    env_file.write_text(f"OPENAI_API_KEY={secret}\n")
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    me = os.getpid()
    reads = {
        "env_file": f"open({str(env_file)!r}).read()",
        "os_open": f"_mod('os').read(_mod('os').open({str(env_file)!r}, 0), 100).decode()",
        "parent_environ": f"open('/proc/{me}/environ').read()",
        "parent_cwd_env": f"open('/proc/{me}/cwd/.env').read()",
        "own_environ": "str(_mod('os').environ)",
        "etc_passwd": "open('/etc/passwd').read()",
        "listdir_root": "str(_mod('os').listdir('/'))",
    }
    programs = {n: REACH + "open = _mod('builtins').open\n"
                + f"def label_function(x):\n    data = {op}\n    raise ValueError('read: ' + data[:200])\n"
                for n, op in reads.items()}
    cols, runs, result = apply(programs, texts=["a", "b", "c"])
    for name, run in runs.items():
        text = " ".join(run.samples) + str(run.last_fault) + str(run.load_error)
        assert secret not in text and "root:" not in text, (name, text)
    for name in ("env_file", "os_open", "parent_environ", "parent_cwd_env", "etc_passwd"):
        assert all("read:" not in s for s in runs[name].samples), (name, runs[name].samples)
    # The listing of '/' is the empty root (or nothing at all when the root could not be emptied).
    listing = [s for s in runs["listdir_root"].samples if "read:" in s]
    assert all("'etc'" not in s for s in listing), listing
    environ = " ".join(runs["own_environ"].samples)
    assert "read: environ(" in environ and "OPENAI" not in environ and "PATH" not in environ


# --- 4. time ---------------------------------------------------------------------------------------
SLOW = REACH + """
def label_function(x):
    clock = _mod("time").process_time
    start = clock()
    n = 0
    while clock() - start < 0.2:  # busy, just under the 0.3 s row limit: never times out, only slow
        n += 1
    return 1
"""


# Sleeps without using CPU (a timed futex wait is allowed), so no CPU limit ever fires, and makes its
# process send each row's result at once: a frame arrives more often than the parent polls.
SLEEPER = REACH + """
def _sleep(sec):
    ct = _mod("ctypes")
    class TS(ct.Structure):
        _fields_ = [("s", ct.c_long), ("ns", ct.c_long)]
    v = ct.c_int(0)
    ts = TS(int(sec), int((sec % 1) * 1e9))
    return _syscall(202, ct.addressof(v), 128, 0, ct.addressof(ts), 0, 0)
def label_function(x):
    _sleep(0.2)
    _mod("runner").STATE.flush_due = True
    return 1
"""


@pytest.mark.parametrize("name,program", [("slow", SLOW), ("sleeper", SLEEPER)])
def test_a_merely_slow_program_is_stopped_by_its_time_budget(baseline, name, program):
    start = time.monotonic()
    cols, runs, _ = apply({**GOOD, name: program}, texts=TEXTS, budget_min_s=3, budget_per_row_ms=1)
    elapsed = time.monotonic() - start
    run = runs[name]
    assert not run.usable and "time budget" in run.disabled_reason, (run.disabled_reason, run.last_fault)
    assert run.seconds <= 3 + 1.5  # charged no more than its budget (plus one poll)
    assert (cols[name] == -1).all()
    assert_good_untouched(cols, baseline)
    assert elapsed < 60  # bound, not a timing: 120 rows x 0.2 s would be 24 s of one core without it


def test_parent_survives_a_worker_that_dies_in_every_way(baseline):
    programs = {
        "exit_now": REACH + "def label_function(x):\n    _mod('os')._exit(3)\n",
        "abort": REACH + "def label_function(x):\n    _mod('os').abort()\n",
        "close_channel": REACH + "def label_function(x):\n    _mod('os').close(3)\n    return 1\n",
        "segfault": REACH + "def label_function(x):\n    _mod('ctypes').string_at(0)\n    return 1\n",
    }
    cols, runs, result = apply({**GOOD, **programs})
    assert_good_untouched(cols, baseline)
    for name in ("exit_now", "abort", "segfault"):
        assert not runs[name].usable and runs[name].last_fault, name
    assert (cols["close_channel"] == -1).all()  # close() is not allowed: it only raises


# --- 5. around the sandbox: the fork server's bookkeeping, what is saved and how a source reads ------------
def _fork_server(tmp_path):
    from alchemist.sandbox import policy
    from alchemist.sandbox.forkserver import ForkServer

    workdir = tmp_path / "work"
    workdir.mkdir()
    os.chmod(workdir, 0o711)
    return ForkServer(str(workdir), list(policy.PRELOAD), True)


def _kill_ends_it(server, pid: int, rfd: int) -> bool:
    """Killing `pid` ends the process whose result pipe is `rfd` (it waits for its config: EOF, no data)."""
    import select

    server.kill(pid)
    return bool(select.select([rfd], [], [], 5)[0]) and os.read(rfd, 1) == b""


def test_a_late_fork_reply_is_never_taken_for_the_next_process(tmp_path):
    """A FORK whose reply comes after its spawn gave up must not shift every later pid by one: the parent
    would then kill another program's process and never its own."""
    from alchemist.sandbox.forkserver import ForkServerGone

    server = _fork_server(tmp_path)
    try:
        pid, wfd, rfd = server.spawn(30)  # the server is up
        assert _kill_ends_it(server, pid, rfd)
        os.close(wfd)
        os.close(rfd)
        os.kill(server.proc.pid, signal.SIGSTOP)  # a server that answers late (a loaded machine)
        try:
            with pytest.raises(ForkServerGone):
                server.spawn(0.5)
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        pid, wfd, rfd = server.spawn(30)
        assert _kill_ends_it(server, pid, rfd), "the pid handed out is not the process holding these pipes"
        os.close(wfd)
        os.close(rfd)
    finally:
        server.close()


def test_a_reused_pid_can_still_be_killed(tmp_path):
    """A new process that gets the pid of one that exited earlier is killed like any other (the earlier
    exit on record must not make the kill a no-op that leaves it running)."""
    last_pid = Path("/proc/sys/kernel/ns_last_pid")
    if not os.access(last_pid, os.W_OK):
        pytest.skip("cannot choose the next pid here (needs root)")
    server = _fork_server(tmp_path)
    try:
        for _ in range(20):  # another process may take the pid first: try again
            first, wfd, rfd = server.spawn(30)
            assert _kill_ends_it(server, first, rfd)
            assert server.wait(first, 5) is not None
            os.close(wfd)
            os.close(rfd)
            last_pid.write_text(str(first - 1))
            pid, wfd, rfd = server.spawn(30)
            if pid == first:
                break
            server.kill(pid)
            os.close(wfd)
            os.close(rfd)
        else:
            pytest.skip("the pid was never reused")
        assert _kill_ends_it(server, pid, rfd), "a process with a reused pid outlived its kill"
        os.close(wfd)
        os.close(rfd)
    finally:
        server.close()


def test_a_saved_program_runs_the_code_that_was_checked(tmp_path):
    """Text a program controls (its `# Strategy:` line, a gate reason quoting its strings) goes into the
    saved file's header: a CR in it must not start a line there and turn checked code into a string and a
    string into code."""
    from alchemist.generate.extract import strategy_of
    from alchemist.generate.modes import GeneratedProgram
    from alchemist.generate.run_store import RunStore
    from alchemist.sandbox.gate import check_source

    code = ('# Strategy: keywords\rS = """\ndef label_function(x):\n    return 1\n"""\n'
            'def label_function(x):\n    return -1\n# """\n')
    evil_string = '"__\\n\\"\\"\\"\\nimport os\\n__"'
    rejected = f"X = {evil_string}\ndef label_function(x):\n    return -1\n"
    store = RunStore(tmp_path / "runs", "demo", "test", {})
    for index, (source, reason) in enumerate([(code, ""), (rejected, check_source(rejected).reason)], 1):
        program = GeneratedProgram(index=index, code=source, status="ok" if not reason else "rejected",
                                   reason=reason, strategy=strategy_of(source))
        path = store.save_program(program, {"strategy": program.strategy,
                                            "status": program.status + (f" — {reason}" if reason else "")})
        saved = path.read_text(encoding="utf-8")  # as apply reads it
        header = saved[:saved.index(source.replace("\r", "\n")[:20])]
        assert all(line.startswith("#") for line in header.splitlines() if line), header

        def label(src: str) -> int:
            namespace: dict = {}
            exec(compile(src, "program", "exec"), namespace)  # our own test strings
            return namespace["label_function"]("spam")

        assert label(saved) == label(source) == -1


# Read as displayed (the control character dropped), each votes 1 only on some rows; Python runs them
# as voting 1 on every row: a form feed resets the indentation count, a lone CR ends a line.
FORM_FEED = ('def label_function(x):\n    if "check out" in x.lower():\n        x = x.lower()\n'
             '    \x0c    return 1\n    return -1\n')
LONE_CR = 'def label_function(x):\n    if "check out" in x.lower():  # links\r        return 1\n    return 1\n'


def test_control_characters_that_change_how_a_source_parses_are_refused(tmp_path):
    import json

    from alchemist.cli import main
    from alchemist.sandbox.gate import check_source

    for source in (FORM_FEED, LONE_CR):
        namespace: dict = {}
        exec(compile(source, "program", "exec"), namespace)  # our own test strings
        assert namespace["label_function"]("hello") == 1  # how it runs
        assert not check_source(source).ok, repr(source)
    progs = tmp_path / "progs"
    progs.mkdir()
    (progs / "lf_01.py").write_text(FORM_FEED)
    (progs / "lf_02.py").write_text("def label_function(x):\n    return 1 if 'http' in x.lower() else -1\n")
    assert main.main(["apply", str(progs), "--dataset", "demo", "--seeds", "1", "--features", "tfidf",
                      "--json", str(tmp_path / "r.json"), "--out", str(tmp_path / "runs")]) == 0
    lf_01 = json.loads((tmp_path / "r.json").read_text())["programs"][0]
    assert lf_01["status"] == "rejected" and "control character" in lf_01["reason"], lf_01


KEY_THIEF = REACH + """
def label_function(x):
    # keyctl(KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user", name, 0): the user's key by its name
    found, _ = _syscall(250, 10, -3, _cstr("user"), _cstr(x), 0)
    # add_key("user", name, payload, len, KEY_SPEC_SESSION_KEYRING): something left behind for later
    _syscall(248, _cstr("user"), _cstr(x + "-left"), _cstr("planted"), 7, -3)
    return 1 if found > 0 else 0
"""


def test_a_program_without_seccomp_cannot_reach_the_users_session_keyring():
    """Keys in the session keyring the tool was started from (tokens, agent keys) are not the program's,
    and nothing it adds to its own keyring is left in the user's."""
    if os.uname().machine != "x86_64":
        pytest.skip("the keyctl numbers used here are x86_64's")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    name = f"alchemist-attack-{os.getpid()}"
    key = libc.syscall(ctypes.c_long(248), b"user", name.encode(), b"sk-SECRET", ctypes.c_long(9), ctypes.c_long(-3))
    if key < 0:
        pytest.skip(f"no session keyring here to plant a key in: {os.strerror(ctypes.get_errno())}")
    try:
        cols, runs, result = apply({"key_thief": KEY_THIEF}, texts=[name, name], seccomp=False)
        assert result.layers["keyring"].startswith("active"), result.layers
        assert (cols["key_thief"] == 0).all(), runs["key_thief"].samples
        planted = libc.syscall(ctypes.c_long(250), ctypes.c_long(10), ctypes.c_long(-3), b"user",
                               f"{name}-left".encode(), ctypes.c_long(0))
        assert planted < 0, "the program left a key in the user's session keyring"
    finally:
        libc.syscall(ctypes.c_long(250), ctypes.c_long(9), ctypes.c_long(key), ctypes.c_long(-3))  # KEYCTL_UNLINK


KEY_DROP = REACH + """
def label_function(x):
    # add_key("user", name, payload, len, KEY_SPEC_USER_KEYRING): left for a later program of this uid
    _syscall(248, _cstr("user"), _cstr(x), _cstr("planted"), 7, -4)
    return 1
"""
KEY_PICKUP = REACH + """
def label_function(x):
    found, _ = _syscall(250, 10, -4, _cstr("user"), _cstr(x), 0)  # KEYCTL_SEARCH the uid's user keyring
    return 1 if found > 0 else 0
"""
KEY_CLEAR = REACH + "def label_function(x):\n    _syscall(250, 7, -4)  # KEYCTL_CLEAR\n    return 1\n"


@pytest.mark.xfail(os.geteuid() == 0, strict=True,
                   reason="known gap (docs/sandbox.md): as root without seccomp every program runs as nobody and "
                          "shares nobody's user keyring, across applies")
def test_a_program_without_seccomp_leaves_nothing_in_a_keyring_for_a_later_program():
    if os.uname().machine != "x86_64":
        pytest.skip("the keyctl numbers used here are x86_64's")
    name = f"alchemist-drop-{os.getpid()}"
    try:
        apply({"drop": KEY_DROP}, texts=[name], seccomp=False)
        cols, _, _ = apply({"pickup": KEY_PICKUP}, texts=[name], seccomp=False)
        assert (cols["pickup"] == 0).all(), "a later program found what an earlier one left"
    finally:
        apply({"clear": KEY_CLEAR}, texts=["x"], seccomp=False)
