"""Progress of long stages: a live bar on a terminal, plain log lines otherwise, nothing in tests."""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO

from alchemist.core.safe_text import clean


class Stage(Protocol):
    def advance(self, n: int = 1) -> None: ...

    def note(self, text: str) -> None:
        """Extra live detail after the counts (e.g. tokens and dollars so far)."""

    def __enter__(self) -> "Stage": ...

    def __exit__(self, *exc: object) -> None: ...


class Progress(Protocol):
    def stage(self, name: str, total: int | None = None, unit: str = "rows") -> Stage: ...

    def log(self, message: str) -> None: ...


class _NullStage:
    def advance(self, n: int = 1) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def __enter__(self) -> "_NullStage":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class NullProgress:
    def stage(self, name: str, total: int | None = None, unit: str = "rows") -> Stage:
        return _NullStage()

    def log(self, message: str) -> None:
        pass


def plural(n: int, word: str) -> str:
    """'1 program', '2 programs'."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _rate(done: int, elapsed: float, unit: str) -> str:
    """Rows per second; slow work (a fit every few seconds) as seconds each, never '0 fits/s'."""
    rate = done / max(elapsed, 1e-9)
    if done and rate < 1:
        return f"{elapsed / done:,.1f} s per {unit.removesuffix('s')}"
    return f"{rate:,.0f} {unit}/s" if rate >= 10 else f"{rate:,.1f} {unit}/s"


def _eta(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class _PlainStage:
    """One line every `every` seconds and one at the end: readable in CI logs and files."""

    def __init__(self, out: TextIO, name: str, total: int | None, unit: str, every: float = 5.0):
        self.out, self.name, self.total, self.unit, self.every = out, name, total, unit, every
        self.done = 0
        self.start = self.last = time.monotonic()
        self.detail = ""

    def note(self, text: str) -> None:
        self.detail = text

    def _line(self, final: bool) -> str:
        line = self._counts(final)
        return f"{line}; {self.detail}" if self.detail else line

    def _counts(self, final: bool) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = self.done / elapsed
        if final and self.total is None:
            return f"{self.name}: done in {elapsed:.1f}s"
        speed = _rate(self.done, elapsed, self.unit)
        if final:
            if self.done == 0:  # nothing was done (e.g. no fits when there was nothing to learn)
                return f"{self.name}: none in {elapsed:.1f}s"
            unit = self.unit.removesuffix("s") if self.done == 1 else self.unit
            return f"{self.name}: {self.done} {unit} in {elapsed:.1f}s ({speed})"
        if self.total:
            done = min(self.done, self.total)  # never past 100%, whatever a caller counted
            eta = (self.total - done) / rate if rate > 0 else 0
            return (f"{self.name}: {done}/{self.total} {self.unit} ({100 * done / self.total:.0f}%), "
                    f"{speed}, ETA {_eta(eta)}")
        return f"{self.name}: {self.done} {self.unit}, {speed}"

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            print(self._line(False), file=self.out, flush=True)

    def __enter__(self) -> "_PlainStage":
        print(f"{self.name}...", file=self.out, flush=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            print(self._line(True), file=self.out, flush=True)


class PlainProgress:
    def __init__(self, out: TextIO | None = None, every: float = 5.0):
        self.out = out or sys.stderr
        self.every = every

    def stage(self, name: str, total: int | None = None, unit: str = "rows") -> Stage:
        return _PlainStage(self.out, name, total, unit, self.every)

    def log(self, message: str) -> None:
        print(clean(message, 2000), file=self.out, flush=True)


class _RichStage:
    def __init__(self, name: str, total: int | None, unit: str, console):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichBar

        self.unit, self.total = unit, total
        self.done = 0
        self.start = time.monotonic()
        # Work of unknown size (a label model fit) shows a spinner and the time, not a count stuck at "0/?".
        counts = [BarColumn(), MofNCompleteColumn()] if total is not None else [SpinnerColumn()]
        self.bar = RichBar(TextColumn("{task.description}", markup=False), *counts,
                           TextColumn("{task.fields[rate]}", markup=False),
                           TextColumn("{task.fields[detail]}", markup=False), TimeElapsedColumn(),
                           *([TimeRemainingColumn()] if total is not None else []),
                           console=console, transient=False)
        self.task = self.bar.add_task(name, total=total, rate="", detail="")

    def advance(self, n: int = 1) -> None:
        self.done += n
        shown = self.done if self.total is None else min(self.done, self.total)  # never past 100%
        self.bar.update(self.task, completed=shown, rate=_rate(self.done, time.monotonic() - self.start, self.unit))

    def note(self, text: str) -> None:  # kept beside the rate, so the cost stays on the line when it ends
        self.bar.update(self.task, detail=text)

    def __enter__(self) -> "_RichStage":
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


class RichProgress:
    def __init__(self, out: TextIO | None = None):
        from rich.console import Console

        self.console = Console(file=out or sys.stderr)

    def stage(self, name: str, total: int | None = None, unit: str = "rows") -> Stage:
        return _RichStage(name, total, unit, self.console)

    def log(self, message: str) -> None:
        self.console.print(clean(message, 2000), markup=False, highlight=False)


def make_progress(out: TextIO | None = None) -> Progress:
    """A live display on a terminal; plain lines when output goes to a file or a pipe."""
    out = out or sys.stderr
    return RichProgress(out) if out.isatty() else PlainProgress(out)
