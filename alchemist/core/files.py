"""Atomic writes, run folders that never overwrite earlier runs, and JSON files read with one-line errors."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from datetime import datetime
from functools import cache
from pathlib import Path


@cache
def _file_mode() -> int:
    """What open() would give a new file under the user's umask (mkstemp's files are always 0600)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _special(path: Path) -> bool:
    """A target that exists and is not a regular file once links are followed: /dev/null, /dev/stdout, a
    FIFO. Renaming over it would replace a device (or the link) with a file, so it is written in place."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode) and not stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename over the target. The file gets the
    permissions the umask gives, so teammates can read reports as they read any other file. A link to a
    file has its target replaced (the link stays); a device or a pipe (`--json /dev/stdout`) is written to
    in place, never replaced."""
    path = Path(path)
    if _special(path):
        with open(path, "wb") as f:
            f.write(data)
        return
    if path.is_symlink():
        path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _file_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: object) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def check_writable(path: Path, what: str, folder: bool = True) -> None:
    """Fail now, in one line, if output cannot go to `path` (a folder to create or fill, or a file to write),
    rather than after the work: the nearest folder that exists must take a new file (tried, not guessed:
    root passes permission checks, a read-only disk does not)."""
    from alchemist.core.errors import AlchemistError

    path = Path(path).expanduser()
    if folder and path.exists() and not path.is_dir():
        raise AlchemistError(f"{what} {path}: a file is there, not a folder")
    if not folder and path.is_dir():
        raise AlchemistError(f"{what} {path}: that is a folder; give a file name")
    if not folder and _special(path):
        return  # a device or a pipe (/dev/stdout): written in place, as it is
    base = path if folder else path.parent  # a missing folder is made, as atomic writes make it
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise AlchemistError(f"{what} {path}: {base} is a file, so no folder can be made there")
    try:
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError as e:
        raise AlchemistError(f"{what} {path}: cannot write in {base} ({e.strerror or e})") from None


def new_run_dir(parent: Path, prefix: str = "") -> Path:
    """Create a fresh folder named by the time; add -2, -3... rather than reuse an existing one."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    stem = prefix + datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 10_000):
        path = parent / (stem if n == 1 else f"{stem}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise OSError(f"cannot create a new run folder under {parent}")


def read_json(path: Path, missing: str, hint: str = "") -> object:
    """A JSON file's value; a missing, unreadable or invalid file is one AlchemistError line: `missing` (the
    whole message) when it is not there, else the file and what is wrong, then `hint`."""
    from alchemist.core.errors import AlchemistError

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AlchemistError(missing) from None
    except json.JSONDecodeError as e:
        raise AlchemistError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}){hint}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise AlchemistError(f"{path}: cannot read it ({e}){hint}") from None
