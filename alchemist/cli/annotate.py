"""`alchemist annotate`: a person labels rows one at a time in the terminal — a gold set in minutes.

Keys: 1..k answer with a class (more than nine classes: type the number and Enter), s skip, u undo the
last answer or skip, b back to the row before (answer it again to change it), q quit. Every answer is
written to the answers file the moment it is given (alchemist/annotation/answers.py), so Ctrl-C, a
crash or a closed terminal lose nothing, and the next session starts where this one stopped. Rows come
from one pool per session: `--pool random` (the default; scores rest on these) or `--pool chosen`
(rows a run's programs are unsure of; training only), which needs `--programs`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from alchemist.annotation.answers import Answers, default_path, import_csv, open_for
from alchemist.annotation.pools import chosen_order, next_row, random_order
from alchemist.core.errors import AlchemistError
from alchemist.core.paths import command
from alchemist.core.safe_text import clean

TEXT_LIMIT = 2000  # characters of a row shown


def cmd_annotate(args: argparse.Namespace, settings) -> int:
    from alchemist.data.datasets import load_dataset, require_text
    from alchemist.data.readers import Columns
    from alchemist.pipeline.settings import resolve_data_dir

    dataset = require_text(load_dataset(args.dataset, resolve_data_dir(args.data_dir, settings),
                                        Columns(args.text_column, args.label_column or None, None,
                                                args.id_column or None, args.encoding),
                                        [c.strip() for c in args.classes.split(",")] if args.classes else None,
                                        Path(args.task_card) if args.task_card else None), "annotate")
    train, classes = dataset.train, dataset.card.classes
    path = Path(args.answers).expanduser() if args.answers else default_path(dataset.name)
    answers = open_for(path, dataset.name, train.ids, train.texts, classes)
    if args.import_csv:
        n, notes = import_csv(answers, Path(args.import_csv).expanduser(), train.ids, train.texts, args.pool,
                              args.encoding)
        print(f"{n} answer{'s' if n != 1 else ''} imported into {path} (pool: {args.pool}); "
              f"{len(answers.answers)} in all")
        for note in notes:
            print(f"note: {note}")
        return 0
    if args.pool == "chosen" and not args.programs:
        raise AlchemistError("--pool chosen needs --programs DIR (a folder of programs, or a run folder): their "
                             "votes say which rows are worth a person's answer")
    if not sys.stdin.isatty() and not args.from_stdin:
        raise AlchemistError("annotate asks a person, one row at a time: run it in a terminal (or --import a CSV "
                             "of id,label)")
    annotate_now(dataset, args.pool, Path(args.programs).expanduser() if args.programs else None, answers)
    return 0


def annotate_now(dataset, pool: str = "random", programs: Path | None = None,
                 answers: Answers | None = None) -> Answers:
    """A session on this dataset's train rows (the command, the wizard, the review screen); `answers`:
    the file already opened (default: annotations/<dataset>.jsonl)."""
    train = dataset.train
    answers = answers or open_for(default_path(dataset.name), dataset.name, train.ids, train.texts,
                                  dataset.card.classes)
    order = _chosen(dataset, programs) if pool == "chosen" and programs is not None else random_order(len(train))
    print(f"Answers are saved in {answers.path} as you give them; q ends the session.")
    Session(answers, train.ids, train.texts, order, pool, sys.stdin, sys.stdout).run()
    return answers


def _chosen(dataset, programs: Path):
    """The chosen pool's order, from the programs' votes on train (in the sandbox; cached by the column cache)."""
    import alchemist
    from alchemist.data.datasets import Dataset

    folder = programs / "programs" if (programs / "programs").is_dir() else programs
    train_only = Dataset(name=dataset.name, card=dataset.card, root=dataset.root, splits={"train": dataset.train})
    print(f"Running the programs in {folder} over {len(dataset.train):,} rows to find the rows worth answering...",
          file=sys.stderr)
    votes = alchemist.apply(alchemist.load_programs(folder), train_only)
    if not votes.usable:
        raise AlchemistError(f"no program in {folder} ran: nothing to choose rows by (use --pool random)")
    matrix = votes.matrices["train"][:, votes.usable]
    if not (matrix >= 0).any():
        print(f"note: no program in {folder} voted on any row: every row is as unsure as the next, so the chosen "
              "pool comes in random order", file=sys.stderr)
        return random_order(len(dataset.train))
    labels = alchemist.label(votes, train_only, vetting=False)
    return chosen_order(matrix, labels.probs.get("train"))


class Session:
    """The loop: show a row, read a key, save at once. `stdin`/`stdout` are the terminal (or pipes)."""

    def __init__(self, answers: Answers, ids: list[str], texts: list[str], order, pool: str, stdin, stdout):
        self.answers, self.ids, self.texts, self.order, self.pool = answers, ids, texts, order, pool
        self.stdin, self.out = stdin, stdout
        self.index = {row_id: i for i, row_id in enumerate(ids)}
        self.back: list[int] = []  # rows gone back to (b), most recent last
        self.session_rows: set[str] = set()  # rows answered in this session
        self.tty = stdin.isatty() and stdout.isatty()

    def run(self) -> int:
        try:
            while True:
                row = self._current()
                if row is None:
                    self._say(f"\nEvery row of the {self.pool} pool has been seen.")
                    break
                if not self._ask(row):
                    break
        except (KeyboardInterrupt, EOFError):
            self._say("")
        self._goodbye()
        return 0

    def _current(self) -> int | None:
        if self.back:
            return self.back[-1]
        return next_row(self.order, self.ids, self.answers.seen())

    def _ask(self, row: int) -> bool:
        """Show one row and act on one key; False to stop."""
        self._show(row)
        start = time.monotonic()
        key = self._read_key()
        row_id, text = self.ids[row], self.texts[row]
        classes = self.answers.classes
        if key in ("q", "quit", "exit"):
            return False
        if key == "s":
            self.answers.skip(row_id, text)
            self._leave_back(row)
        elif key == "u":
            undone = self.answers.undo()
            if undone is not None and undone not in self.answers.answers:
                self.session_rows.discard(undone)
            self.back = []
            if undone is None:
                self._note("nothing to undo")
            elif undone in self.index:
                self.back = [self.index[undone]]  # shown again
        elif key == "b":
            earlier = self._earlier(row)
            if earlier is None:
                self._note("no row before this one")
            else:
                self.back.append(earlier)
        elif key.isdigit() and 1 <= int(key) <= len(classes):
            pool = self.answers.answers[row_id].pool if row_id in self.answers.answers else self.pool
            self.answers.answer(row_id, text, classes[int(key) - 1], pool, time.monotonic() - start)
            self.session_rows.add(row_id)
            self._leave_back(row)
        else:
            self._note(f"press a class key (1..{len(classes)}), s, u, b or q" if not key.strip(" |")
                       else f"'{clean(key, 20)}' is not a key here: press a class key (1..{len(classes)}), s, u, b or q")
        return True

    def _leave_back(self, row: int) -> None:
        if self.back and self.back[-1] == row:
            self.back.pop()

    def _earlier(self, row: int) -> int | None:
        """The row answered or skipped before `row` (or before the newest, for a new row)."""
        history = [r for _, r in self.answers.history]
        row_id = self.ids[row]
        at = max((i for i, r in enumerate(history) if r == row_id), default=len(history))
        for r in reversed(history[:at]):
            if r in self.index and r != row_id:
                return self.index[r]
        return None

    # --- the screen -----------------------------------------------------------------------------------
    def _show(self, row: int) -> None:
        a, classes = self.answers, self.answers.classes
        done = list(a.answers.values())
        counts = {c: sum(x.label == c for x in done) for c in classes}
        timed = [x.seconds for x in done if x.seconds]
        width = shutil.get_terminal_size((100, 24)).columns
        if self.tty:
            self.out.write("\033[2J\033[H")
        stats = (f"{len(done)} answered ({len(a.by_pool('random'))} random, {len(a.by_pool('chosen'))} chosen) · "
                 f"{len(a.skipped)} skipped · "
                 + (f"{sum(timed) / len(timed):.1f} s a row · " if timed else "")
                 + " · ".join(f"{clean(c, 30)} {counts[c] / max(1, len(done)):.0%}" for c in classes))
        row_id = self.ids[row]
        given = a.answers.get(row_id)
        lines = [stats, "─" * min(width, 100),
                 f"row {clean(row_id, 40)} ({self.pool} pool)" + (f" · answered: {clean(given.label, 40)}" if given else ""),
                 "", clean(self.texts[row], TEXT_LIMIT, one_line=False), "", "─" * min(width, 100),
                 "  ".join(f"{i} {clean(c, 30)}" for i, c in enumerate(classes, start=1))
                 + "   ·   s skip  u undo  b back  q quit"]
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()

    def _read_key(self) -> str:
        if self.tty and len(self.answers.classes) <= 9:
            return _one_key(self.stdin)
        self.out.write("> ")
        self.out.flush()
        line = self.stdin.readline()
        if not line:
            raise EOFError
        return line.strip().lower()

    def _note(self, text: str) -> None:
        self._say(f"  ({text})")
        if self.tty:
            time.sleep(0.6)

    def _say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _goodbye(self) -> None:
        a = self.answers
        n = len(self.session_rows & set(a.answers))
        self._say(f"{n} row{'s' if n != 1 else ''} answered this session; {len(a.answers)} in all "
                  f"({len(a.by_pool('random'))} random, {len(a.by_pool('chosen'))} chosen), saved in {a.path}.")
        if a.by_pool("random") or a.by_pool("chosen"):
            self._say(f"The next `{command()} run` or `apply` on this dataset uses them: random answers as its valid "
                      "split, chosen ones to train the distilled model (--no-answers to ignore them).")


def _one_key(stdin) -> str:
    """One key press, without Enter (Ctrl-C and Ctrl-D still stop)."""
    import termios
    import tty

    fd = stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        char = os.read(fd, 1).decode("utf-8", "replace")
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    if char == "\x03":
        raise KeyboardInterrupt
    if char == "\x04":
        raise EOFError
    return char.lower()
