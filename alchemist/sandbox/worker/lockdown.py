"""Process isolation for one program: namespaces, an empty root, no privileges, rlimits.

Every layer is tried and reported as 'active (...)' or 'unavailable (why)'; none is required, so the
tool still works without root, without user namespaces and on macOS (then the gate, the process
boundary, rlimits and the parent's deadlines remain). Linux constants are spelled out: this file
runs under `python -I` with the standard library only.
"""

import ctypes
import os
import resource
import select
import signal
import sys

NOBODY = 65534
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 0x4000, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522

LINUX = sys.platform.startswith("linux")


def libc():
    return ctypes.CDLL(None, use_errno=True)


def _oserror(what: str) -> str:
    return f"{what}: {os.strerror(ctypes.get_errno())}"


def die_with_parent(lib, parent_alive) -> None:
    """SIGKILL when the parent dies (Ctrl-C, crash), even inside an endless loop. The kernel clears
    this on every change of uid or gid, so it is set again after each; `parent_alive()` closes the
    race where the parent died before the setting took effect."""
    if LINUX:
        lib.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if not parent_alive():
        os._exit(0)


def is_parent(pid: int):
    """A `parent_alive` for a process whose parent (same PID namespace) has this pid."""
    return lambda: os.getppid() == pid


def lifeline():
    """For a parent in another PID namespace (getppid() says 0 there): a pipe whose write end only
    the parent holds. Returns (keep_in_parent, parent_alive for the child); call both after fork."""
    r, w = os.pipe()

    def parent_side() -> None:
        os.close(r)

    def parent_alive() -> bool:
        os.close(w)
        gone = bool(select.select([r], [], [], 0)[0])  # readable only at EOF: no writer left
        os.close(r)
        return not gone

    return parent_side, parent_alive


def keep_memory(lib) -> None:
    """glibc: keep freed memory for reuse instead of returning it to the kernel after every chunk
    (each chunk allocates and frees the same amount: page faults were a third of the system time)."""
    if LINUX:
        try:
            m_trim_threshold, m_mmap_threshold = -1, -3
            lib.mallopt(m_mmap_threshold, 32 << 20)
            lib.mallopt(m_trim_threshold, 256 << 20)
        except AttributeError:  # not glibc
            pass


# --- namespaces and the empty root -------------------------------------------------------------
def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _map_ids(uid: int, gid: int) -> None:
    """Inside the user namespace the program is uid/gid 65534 ("nobody"), mapped to our own ids
    (read before unshare: inside the new namespace they read as the overflow id until mapped)."""
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{NOBODY} {uid} 1")
    _write("/proc/self/gid_map", f"{NOBODY} {gid} 1")


def become_nobody() -> None:
    """Root drops to the real uid/gid 65534 with no supplementary groups (capabilities go with it)."""
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)


def _empty_root(lib, workdir: str) -> str:
    """A read-only, empty tmpfs over our empty working folder becomes '/': no file is reachable."""
    if lib.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return "unavailable (" + _oserror("making mounts private") + ")"
    flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
    if lib.mount(b"none", workdir.encode(), b"tmpfs", flags, b"size=4k,mode=0555") != 0:
        return "unavailable (" + _oserror("mounting an empty tmpfs") + ")"
    try:
        os.chdir(workdir)
        os.chroot(".")
        os.chdir("/")
    except OSError as e:
        return f"unavailable (chroot: {e.strerror})"
    return "active (empty read-only root: no file of the machine is visible)"


def isolate(lib, workdir: str) -> tuple[str, str, bool]:
    """Enter new namespaces and an empty root. Returns (namespaces, filesystem, in_user_ns).

    Root makes the namespaces itself and drops to nobody later; anyone else (or root where that
    fails, after dropping to nobody first) uses a user namespace. A new PID namespace only takes
    effect for children: the caller forks after this."""
    if not LINUX:
        return "unavailable (not Linux)", "unavailable (not Linux)", False
    base = CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS
    if os.geteuid() == 0:
        if lib.unshare(base) == 0:
            return "active (pid, ipc, mount, network)", _empty_root(lib, workdir), False
        become_nobody()
    uid, gid = os.geteuid(), os.getegid()
    if lib.unshare(base | CLONE_NEWUSER) != 0:
        return "unavailable (" + _oserror("unshare") + ")", "unavailable (needs a mount namespace)", False
    try:
        _map_ids(uid, gid)
    except OSError as e:
        return f"unavailable (uid mapping: {e.strerror})", "unavailable (no uid mapping)", False
    return "active (user, pid, ipc, mount, network)", _empty_root(lib, workdir), True


# --- privileges and limits ----------------------------------------------------------------------
class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


KEYCTL_JOIN_SESSION_KEYRING = 1
KEYCTL_SYSCALL = {"x86_64": 250, "aarch64": 219}  # keyctl(2) by number: libc has no wrapper for it


def fresh_keyring(lib) -> str:
    """Join a new, empty session keyring: the session keyring inherited from the user's shell (where
    keys and tokens may be kept) is out of the program's reach. With seccomp keyctl is refused anyway;
    this layer is what holds without it."""
    if not LINUX:
        return "unavailable (not Linux)"
    number = KEYCTL_SYSCALL.get(os.uname().machine)
    if number is None:
        return f"unavailable (keyctl's number is not known on {os.uname().machine})"
    lib.syscall.restype = ctypes.c_long
    if lib.syscall(ctypes.c_long(number), ctypes.c_long(KEYCTL_JOIN_SESSION_KEYRING), None) < 0:
        return "unavailable (" + _oserror("keyctl(JOIN_SESSION_KEYRING)") + ")"
    return "active (a new empty session keyring: the keys of the session the tool was started from are out of reach)"


def drop_privileges(lib, user_ns: bool) -> str:
    """uid/gid nobody (root) or nobody inside the user namespace, then no capabilities, no_new_privs."""
    if not LINUX:
        return "unavailable (not Linux)"
    done = []
    try:
        if os.geteuid() == 0:
            become_nobody()
        if os.geteuid() == NOBODY:
            done.append(f"uid {NOBODY}" + (" in a user namespace" if user_ns else " (nobody)"))
    except OSError as e:
        done.append(f"uid kept ({e.strerror})")
    data = (_CapData * 2)()
    if lib.capset(ctypes.byref(_CapHeader(LINUX_CAPABILITY_VERSION_3, 0)), data) == 0:
        done.append("no capabilities")
    if lib.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
        done.append("no_new_privs")
    return "active (" + ", ".join(done) + ")"


def set_rlimits(memory_bytes: int, cpu_seconds: int, open_fds: int) -> str:
    """Address space, no file writes, no core dumps, total CPU, no new fds, no new processes."""
    done = []
    limits = [("RLIMIT_AS", memory_bytes), ("RLIMIT_FSIZE", 0), ("RLIMIT_CORE", 0),
              ("RLIMIT_CPU", max(1, int(cpu_seconds))), ("RLIMIT_NOFILE", open_fds)]
    if os.geteuid() != 0:  # root ignores RLIMIT_NPROC
        limits.append(("RLIMIT_NPROC", 0))
    for name, value in limits:
        try:  # soft == hard: RLIMIT_CPU then ends the process with SIGKILL, not a catchable SIGXCPU
            resource.setrlimit(getattr(resource, name), (value, value))
            done.append(name[7:].lower())
        except (ValueError, OSError, AttributeError):
            pass
    return "active (" + ", ".join(done) + ")" if done else "unavailable"
