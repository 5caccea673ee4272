"""Default-deny syscall filter (seccomp through libseccomp, loaded with ctypes).

Only what pure-Python computation needs is allowed: memory, signal return, futex, clocks, reading
the chunk channel (fd 0), writing the result channel, exit. Every other syscall — opening files,
fcntl, ioctl, prlimit, SysV IPC, processes, signals to anyone, sockets, and syscalls added to the
kernel after this list was written — fails with EPERM. The list was taken from strace of the
program process running the stdlib modules programs may import.
"""

import ctypes
import os
import sys

ACT_ALLOW = 0x7FFF0000
ACT_ERRNO_EPERM = 0x00050000 | 1
CMP_EQ, CMP_MASKED_EQ = 4, 7
PROT_EXEC = 0x4

# Allowed without conditions while a program runs.
PROGRAM_SYSCALLS = (
    "brk", "munmap", "mremap", "madvise",  # memory (mmap and mprotect: see EXEC_GUARDED)
    "futex", "sched_yield",  # locks the runtime takes on itself
    "rt_sigreturn", "restart_syscall",  # the CPU timer's signal handler returns through these
    "gettimeofday", "time",
    "getpid", "gettid",
    "exit", "exit_group",
)
EXEC_GUARDED = (("mmap", 2), ("mprotect", 2))  # allowed only without PROT_EXEC (arg index of prot)
# Clocks by fixed id only: 0-7 (realtime, monotonic, this process's and thread's CPU time, raw, coarse,
# boottime) and 11 (TAI). A negative id names another process's CPU clock by its pid: refused.
CLOCK_GUARDED = ("clock_gettime", "clock_getres")
CLOCK_RULES = ((0, CMP_MASKED_EQ, 0xFFFFFFF8, 0), (0, CMP_MASKED_EQ, 0xFFFFFFFF, 11))

# The outer process only waits for the program process and exits with its status.
SUPERVISOR_SYSCALLS = ("wait4", "waitid", "rt_sigreturn", "restart_syscall", "exit", "exit_group",
                       "brk", "mmap", "munmap", "madvise", "futex")


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def load_library():
    """Open libseccomp while files can still be opened (no find_library: it runs tools)."""
    if not sys.platform.startswith("linux"):
        return None
    for name in ("libseccomp.so.2", "libseccomp.so"):
        try:
            lib = ctypes.CDLL(name, use_errno=True)
        except OSError:
            continue
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_init.argtypes = [ctypes.c_uint32]
        lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                               ctypes.POINTER(_ArgCmp)]
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_load.argtypes = [ctypes.c_void_p]
        lib.seccomp_release.argtypes = [ctypes.c_void_p]
        return lib
    return None


def _allow(lib, ctx, name: str, conditions: tuple = ()) -> bool:
    nr = lib.seccomp_syscall_resolve_name(name.encode())
    if nr < 0:
        return False
    array = (_ArgCmp * max(1, len(conditions)))(*[_ArgCmp(a, op, x, y) for a, op, x, y in conditions])
    return lib.seccomp_rule_add_array(ctx, ACT_ALLOW, nr, len(conditions), array) == 0


def install(lib, names: tuple, fd_rules: dict[str, int]) -> str:
    """Load an allowlist filter on this process; `fd_rules` allows e.g. read only on fd 0.

    Returns a layer description ('active (...)' or 'unavailable (why)')."""
    if not sys.platform.startswith("linux"):
        return "unavailable (not Linux)"
    if lib is None:
        return "unavailable (libseccomp not installed)"
    ctx = lib.seccomp_init(ACT_ERRNO_EPERM)
    if not ctx:
        return "unavailable (seccomp_init failed)"
    try:
        allowed = sum(_allow(lib, ctx, name) for name in names)
        for name, fd in fd_rules.items():
            allowed += _allow(lib, ctx, name, ((0, CMP_EQ, fd, 0),))
        if names is PROGRAM_SYSCALLS:
            for name, arg in EXEC_GUARDED:
                allowed += _allow(lib, ctx, name, ((arg, CMP_MASKED_EQ, PROT_EXEC, 0),))
            for name in CLOCK_GUARDED:  # one rule per allowed range: rules of one syscall are alternatives
                allowed += all([_allow(lib, ctx, name, (rule,)) for rule in CLOCK_RULES])
        rc = lib.seccomp_load(ctx)
    finally:
        lib.seccomp_release(ctx)
    if rc != 0:
        return f"unavailable (seccomp_load: {os.strerror(-rc)})"
    return f"active (allowlist of {allowed} syscalls; every other syscall fails)"
