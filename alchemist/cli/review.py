"""The review screen (`python main.py review RUN_DIR`, and the wizard's "Review a run's programs"):
the programs of a run with how each did; for one program its source, its votes on train rows, the valid
rows it gets wrong and where it disagrees with the label model; edit it in $EDITOR (checked at once),
turn it off or on, ask the LLM for a fixed version, or write more programs aimed at the weakest class;
re-apply (only changed programs run again) and compare the scores before and after.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from questionary import Choice
from rich.console import Console
from rich.table import Table
from rich.text import Text

from alchemist.cli import questions as ask
from alchemist.core.errors import AlchemistError
from alchemist.core.files import atomic_write_text
from alchemist.core.safe_text import clean, code_text
from alchemist.pipeline.run_config import RunConfig, reapply_config
from alchemist.pipeline.settings import Settings
from alchemist.programs.trial import make_checker, trial_rows
from alchemist.report.evidence import RunView, evidence, load_run, score_rows, set_enabled, weakest_classes

console = Console(markup=False, highlight=False)


def _t(value: object, limit: int = 300) -> Text:
    return Text(clean(value, limit))  # program text and output are hostile: never markup, never controls


def _code(source: str) -> Text:
    """A program's source line by line, with what would hide how it runs shown as escapes."""
    return Text(code_text(source))  # whole: the gate refuses programs it would have to cut


def _num(value: object) -> str:
    return "—" if not isinstance(value, (int, float)) else f"{value:.3f}"


# --- the run and its data -----------------------------------------------------------------------------------
def load_data(config: RunConfig, settings: Settings):
    """The rows and splits an apply of this run reads (the executor's own loading, so they never differ)."""
    from alchemist.pipeline.executor import Executor

    return Executor(config, settings=settings).load_rows()


def reapply(run_dir: Path, settings: Settings, progress, before: dict | None) -> dict:
    """Apply again (the column cache re-runs only changed programs) and show the scores side by side."""
    from alchemist.pipeline.executor import Executor

    report = Executor(reapply_config(settings, run_dir), progress, settings).run()
    table = Table(title="Before and after", title_justify="left")
    for col in ("", "before", "after"):
        table.add_column(col, justify="left" if not col else "right")
    for what, old, new in score_rows(before, report):
        if isinstance(new, tuple) or isinstance(old, tuple):
            show = [f"{v[0]}, cov {_num(v[1])}, acc {_num(v[2])}" if isinstance(v, tuple) else "—" for v in (old, new)]
            table.add_row(_t(what, 60), _t(show[0]), _t(show[1]))
        else:
            table.add_row(_t(what, 60), _num(old), _num(new))
    console.print(table)
    if report.get("status") != "ok":
        console.print(_t(f"Status: {report['status']} — {report.get('status_reason', '')}"))
    return report


def _table(view: RunView) -> None:
    table = Table(title=_t(f"Programs of {view.run_dir}"), title_justify="left")
    for col, just in (("program", "left"), ("on", "left"), ("status", "left"), ("coverage", "right"),
                      ("valid acc", "right"), ("valid n", "right"), ("conflict", "right")):
        table.add_column(col, justify=just)
    for p in view.programs:
        r = p.result
        table.add_row(_t(p.name, 60), "yes" if p.enabled else "off", _t(r.get("status", "not applied"), 40),
                      _num(r.get("coverage")), _num(r.get("valid_accuracy")), _t(r.get("valid_support", "—"), 20),
                      _num(r.get("conflict")))
    console.print(table)


# --- one program --------------------------------------------------------------------------------------------
def _show(view: RunView, name: str) -> None:
    row = view.program(name)
    source = row.path.read_text(encoding="utf-8", errors="replace")
    console.print(_t(f"--- {row.path.name} ---", 200))
    console.print(_code(source))
    ev = evidence(view, name)
    if ev.note:
        console.print(_t(ev.note))
    for title, rows in (("Its votes on train rows", [f"[{v}] {t}" for t, v in ev.votes]),
                        ("Valid rows it gets wrong", [f"gold {g}, it said {a}: {t}" for t, g, a in ev.mistakes]),
                        ("Where it disagrees with the label model",
                         [f"it said {v}, the label model {lm}: {t}" for t, v, lm in ev.disagreements])):
        console.print(_t(title + ":" + ("" if rows else " none")))
        for line in rows:
            console.print(_t("  " + line, 240))


def _edit(path: Path, check) -> None:
    """Edit in $EDITOR, checked at once. An edit that breaks the program never silently replaces a working
    one: the version before it is kept (refinement/NAME.before-edit.py) and putting it back is offered."""
    before = path.read_text(encoding="utf-8", errors="replace")
    while True:
        if failed := ask.open_in_editor(path):
            console.print(_t(failed))
            return
        problem = check(path.read_text(encoding="utf-8", errors="replace"))
        if not problem:
            console.print(_t("OK: it passes the safety check and a trial run in the sandbox. Re-apply to see "
                             "its scores."))
            return
        console.print(_t(f"Problem: {problem}"))
        kept = path.parent / "refinement" / f"{path.name.removesuffix('.disabled').removesuffix('.py')}.before-edit.py"
        atomic_write_text(kept, before)
        action = ask.select(f"The edited version has a problem; the one before it is kept in {kept.parent.name}/"
                            f"{kept.name}.", [Choice("Put back the version before this edit", "revert"),
                                              Choice("Edit it again", "again"),
                                              Choice("Keep the edited version (re-apply reports it as rejected)",
                                                     "keep")])
        if action == "revert":
            atomic_write_text(path, before)
            console.print(_t("Put back: the program is as it was before this edit."))
            return
        if action == "keep":
            return


def _valid_column(view: RunView, name: str) -> np.ndarray | None:
    if view.results is None:
        return None
    matrix = np.load(view.results / "label_matrix.npz")
    names = [str(n) for n in matrix["names"]]
    return matrix["valid"][:, names.index(name)] if name in names and "valid" in matrix.files else None


def _fix(view: RunView, name: str, llm) -> None:
    column = _valid_column(view, name)
    if column is None:
        console.print(_t("Re-apply first: the fix is asked from the valid rows it gets wrong."))
        return
    path = view.program(name).path
    old = path.read_text(encoding="utf-8", errors="replace")
    summary, shown = llm.mistakes_of(column)
    price = llm.price_fix(old, summary, shown)
    model = llm.mode.settings.code_model.name
    if not ask.confirm(f"Ask {model} for a fixed version of {clean(name, 60)} ({len(shown)} of its valid mistakes)? "
                       f"About ${price.typical:.4f}, at most ${price.worst:.4f}", "Ask", "Cancel"):
        return
    program = llm.fix(_index(name), old, summary, shown)
    if program.status != "ok":
        console.print(_t(f"The new version is unusable: {program.reason}"))
        return
    console.print(_code(program.code))
    if ask.confirm("Keep the new version?", "Keep it", "Keep the old one"):
        kept = llm.save_fixed(path if path.suffix == ".py" else path.with_suffix(""), program, old)
        console.print(_t(f"Saved; the old version is {kept}. Re-apply to see its scores."))


def _index(name: str) -> int:
    found = re.findall(r"\d+", name)
    return int(found[-1]) if found else 0


def _more(view: RunView, llm) -> None:
    weakest = weakest_classes(view)
    if not weakest:
        console.print(_t("Re-apply first (with a labeled valid split): the weakest class is found on valid."))
        return
    cls, f1 = weakest[0]
    n = int(ask.text(f"How many new programs aimed at '{clean(cls, 60)}' (the weakest class on valid, F1 "
                     f"{f1:.2f})?", "3", lambda t: "" if t.strip().isdigit() and 1 <= int(t) <= 20 else
                     "a whole number from 1 to 20"))
    price = llm.price_more(n)
    if not ask.confirm(f"Write {n} program(s) with {llm.mode.settings.code_model.name}? About "
                       f"${price.typical:.4f}, at most ${price.worst:.4f}", "Write them", "Cancel"):
        return
    start = max(_index(p.name) for p in view.programs) + 1
    angle = (f"Recognise the class '{cls}' (the labels so far are weakest on it): return its id when the "
             f"{llm.dataset.card.item} clearly belongs to it, and -1 otherwise.")
    for program in llm.more(list(range(start, start + n)), angle):
        console.print(_t(f"{program.name}: {program.status} {program.reason}"))


# --- the loop -----------------------------------------------------------------------------------------------
def review(run_dir: Path, settings: Settings, progress) -> None:
    """Until Back (or exit, which leaves the wizard)."""
    run_dir = Path(run_dir)
    view = load_run(run_dir)
    if view.report is None:
        console.print(_t("This run has no results yet: applying its programs first ($0, no LLM call)."))
        reapply(run_dir, settings, progress, None)
    config = reapply_config(settings, run_dir)
    dataset = load_data(config, settings)
    check = make_checker(trial_rows(dataset.train.rows, 20), dataset.card.n_classes, config.limits)
    llm = None
    while True:
        view = load_run(run_dir)
        _table(view)
        choices = [Choice(f"{clean(p.name, 60)}{'' if p.enabled else ' (off)'}", p.name) for p in view.programs] + [
            Choice("Re-apply (only changed programs run again) and compare the scores", "apply"),
            Choice("Write more programs aimed at the weakest class (asks the LLM; priced first)", "more"),
            Choice("Label rows yourself (annotate: gold labels for the next re-apply)", "annotate"),
            Choice("Export the labels (Label Studio, Argilla, Hugging Face, CSV)", "export"),
            Choice("Back", "back")]
        pick = ask.select("Which program? (or an action)", choices)
        if pick == "back":
            return
        if pick == "apply":
            reapply(run_dir, settings, progress, view.report)
            continue
        if pick == "annotate":
            _annotate(run_dir, config, settings)
            continue
        if pick == "export":
            _export(view)
            continue
        try:
            if pick == "more":
                llm = llm or _llm(run_dir, settings, dataset, config)
                _more(view, llm)
                continue
            llm = _program(view, pick, check, llm, lambda: _llm(run_dir, settings, dataset, config))
        except AlchemistError as e:
            console.print(_t(f"error: {e}", 1000))


def _annotate(run_dir: Path, config: RunConfig, settings: Settings) -> None:
    """A session on the run's data as read (before any answers are moved into valid)."""
    from alchemist.cli.annotate import annotate_now
    from alchemist.pipeline.data_stage import read_data

    pool = ask.select("Which rows?", [
        Choice("Random rows (the only answers scores and choices rest on)", "random"),
        Choice("The rows these programs are least sure of, or where none voted (training only)", "chosen")])
    try:
        annotate_now(read_data(config), pool, run_dir if pool == "chosen" else None)
    except AlchemistError as e:
        console.print(_t(f"error: {e}", 1000))


def _export(view: RunView) -> None:
    from alchemist.cli.exchange import export_now

    if view.results is None:
        console.print(_t("No results to export yet: re-apply first."))
        return
    export_now(view.results)


def _llm(run_dir: Path, settings: Settings, dataset, config: RunConfig):
    from alchemist.generate.review_requests import RunLLM

    return RunLLM(run_dir, settings, dataset, config.limits)


def _program(view: RunView, name: str, check, llm, make_llm):
    """One program's screen; returns the LLM helper (made on first use)."""
    while True:
        _show(view, name)
        row = view.program(name)
        action = ask.select(f"{clean(name, 60)}:", [
            Choice("Edit it in $EDITOR (checked at once)", "edit"),
            Choice("Turn it off" if row.enabled else "Turn it on", "toggle"),
            Choice("Ask the LLM for a fixed version from its valid mistakes (priced first)", "fix"),
            Choice("Back to the programs", "back")])
        if action == "back":
            return llm
        if action == "edit":
            _edit(row.path, check)  # a program that is off stays off until turned on
        elif action == "toggle":
            set_enabled(view, name, not row.enabled)
            console.print(_t(f"{name} is {'on' if row.enabled else 'off'}; re-apply to see the scores change."))
        elif action == "fix":
            llm = llm or make_llm()
            _fix(view, name, llm)
