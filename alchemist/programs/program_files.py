"""Labeling-program files: load a folder of `*.py` programs and pass each through the static gate."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from alchemist.core.errors import ProgramError
from alchemist.core.safe_text import clean, name_text
from alchemist.sandbox import ProgramSource
from alchemist.sandbox.gate import check_source


@dataclass
class Program:
    name: str
    path: Path | None
    source: str
    status: str = "ok"  # ok | rejected (by the gate or unreadable)
    reason: str = ""

    def __repr__(self) -> str:
        return f"Program({self.name!r}, {self.status}{': ' + self.reason if self.reason else ''})"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8", "replace")).hexdigest()

    def as_source(self) -> ProgramSource:
        return ProgramSource(name=self.name, source=self.source)


@dataclass
class Programs:
    """A set of labeling programs: a folder's, or the ones an LLM just wrote (with the run's manifest)."""

    items: list[Program]
    folder: Path | None = None
    manifest: dict | None = None  # the run's manifest when the programs were written by an LLM

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Program:
        return self.items[i]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.items]

    def __repr__(self) -> str:
        ok = sum(p.status == "ok" for p in self.items)
        return f"Programs({len(self.items)} from {self.folder}, {ok} passed the gate: {', '.join(self.names)})"

    @property
    def cost_usd(self) -> float:
        """What writing them cost (0 for programs read from a folder)."""
        return float((self.manifest or {}).get("totals", {}).get("cost_usd", 0.0))


def _natural_key(path: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.stem)]


def gate_program(name: str, source: str, path: Path | None = None) -> Program:
    result = check_source(source)  # the reason may quote the program: cleaned before it is stored anywhere
    return Program(name, path, source, "ok" if result.ok else "rejected", clean(result.reason, 1000))


def load_program_dir(folder: Path) -> list[Program]:
    """Every `*.py` file in `folder` (not recursive), in natural order, each gated."""
    folder = Path(folder)
    if not folder.exists():
        raise ProgramError(f"{folder}: no such folder of labeling programs")
    if not folder.is_dir():
        raise ProgramError(f"{folder}: not a folder (give the folder that holds the lf_*.py files)")
    files = sorted((p for p in folder.glob("*.py") if p.name != "__init__.py"), key=_natural_key)
    if not files:
        raise ProgramError(f"{folder}: no labeling programs (*.py files) found")
    programs, names = [], set()
    for path in files:
        name = name_text(path.stem)
        if name in names:  # never two programs by one name in a report
            programs.append(Program(f"{name}#{len(programs) + 1}", path, "", "rejected",
                                    f"another program file is also named {name}: rename one"))
            continue
        names.add(name)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            programs.append(Program(name, path, "", "rejected", f"cannot read file ({e})"))
            continue
        programs.append(gate_program(name, source, path))
    return programs
