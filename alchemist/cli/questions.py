"""Wizard prompt helpers (questionary): every prompt leaves on `exit`, Ctrl-D or Ctrl-C.

`exit` (any case, surrounding spaces) typed at any prompt, or Ctrl-D, raises `WizardExit`;
Ctrl-C raises KeyboardInterrupt. Menus filter as you type; an answer that matches nothing is refused
and text answers are validated, so a bad answer is re-asked with a message, never accepted.
"""

from __future__ import annotations

from typing import Any, Callable

import questionary
from prompt_toolkit.application import run_in_terminal
from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings
from prompt_toolkit.keys import Keys
from questionary import Choice, Separator
from questionary.prompts.common import InquirerControl

_EXIT = object()
STYLE = questionary.Style([("disabled", "fg:#888888 italic")])


class WizardExit(Exception):
    """The user asked to leave (typed exit, or Ctrl-D)."""


def is_exit(text: object) -> bool:
    return isinstance(text, str) and text.strip().lower() == "exit"


class _NamesFirst(InquirerControl):
    """Filtering shows the choices whose name (the start of the title) matches before those that only
    mention the text further on, e.g. in a description."""

    @property
    def filtered_choices(self):
        typed = (self.search_filter or "").lower()
        if not typed:
            return self.choices
        shown = [c for c in self.choices if typed in _title(c).lower()]
        self.found_in_search = bool(shown)
        if not shown:
            return self.choices
        return sorted(shown, key=lambda c: not _title(c).lower().lstrip().startswith(typed))  # stable


def _title(choice) -> str:
    title = choice.title
    return title if isinstance(title, str) else "".join(part[1] for part in title)


def _menu_keys(question: questionary.Question) -> None:
    """Enter accepts the pointed choice — or `exit` if that was typed; Ctrl-D leaves; arrows skip greyed-out
    choices without ever looping; filtering shows names first."""
    app = question.application
    control = next(w.content for w in app.layout.find_all_windows() if isinstance(w.content, InquirerControl))
    control.__class__ = _NamesFirst  # the same object, with names-first filtering
    keys = KeyBindings()

    @keys.add(Keys.ControlM, eager=True)
    @keys.add(Keys.ControlJ, eager=True)  # some terminals (and typed-ahead input) send LF for Enter
    def _enter(event) -> None:
        typed = control.search_filter or ""
        if is_exit(typed):
            event.app.exit(result=_EXIT)
            return
        control.filtered_choices  # noqa: B018 - brings found_in_search up to date with what was typed so far
        if typed and not control.found_in_search:  # refused, and said why
            _say(f"Nothing matches '{typed}': Backspace to change it, or type exit to leave.")
            return
        choice = control.get_pointed_at()
        if choice.disabled:
            _say(f"Not available — {choice.disabled}")
            return
        control.is_answered = True
        event.app.exit(result=choice.value)

    @keys.add(Keys.ControlD, eager=True)
    def _eof(event) -> None:
        event.app.exit(result=_EXIT)

    def move(step: int) -> None:
        """To the next choice that can be taken, within what the filter shows, at most once around: the
        library's own move loops forever when every choice it can reach is greyed out."""
        shown = control.filtered_choices
        for _ in range(len(shown)):
            control.pointed_at = (control.pointed_at + step) % len(shown)
            if not shown[control.pointed_at].disabled and not isinstance(shown[control.pointed_at], Separator):
                return

    keys.add(Keys.Down, eager=True)(lambda event: move(1))
    keys.add(Keys.Up, eager=True)(lambda event: move(-1))
    app.key_bindings = merge_key_bindings([app.key_bindings, keys])  # later bindings win


def _say(message: str) -> None:
    """A line above the menu, which stays open for another answer."""
    run_in_terminal(lambda: print(f"  {message}"))


def _text_keys(question: questionary.Question) -> None:
    keys = KeyBindings()

    @keys.add(Keys.ControlD, eager=True)
    def _eof(event) -> None:
        event.app.exit(result=_EXIT)

    question.application.key_bindings = merge_key_bindings([question.application.key_bindings, keys])


def _answer(result: Any) -> Any:
    if result is _EXIT or is_exit(result):
        raise WizardExit()
    return result


def select(message: str, choices: list[Choice], default: Any = None) -> Any:
    enabled = [c for c in choices if not c.disabled]
    if not enabled:
        raise WizardExit()
    start = next((c for c in enabled if c.value == default), enabled[0])
    question = questionary.select(message, choices=choices, default=start, use_search_filter=True,
                                  use_jk_keys=False, use_shortcuts=False, style=STYLE,
                                  instruction="(arrows, or type to filter; exit to leave)")
    _menu_keys(question)
    return _answer(question.unsafe_ask())


def text(message: str, default: str = "", validate: Callable[[str], str] | None = None) -> str:
    """A text answer; `validate` returns "" when fine, else the message shown while it is refused."""

    def check(value: str) -> bool | str:
        if is_exit(value) or validate is None:
            return True
        problem = validate(value)
        return problem or True

    question = questionary.text(message, default=default, validate=check, style=STYLE)
    _text_keys(question)
    return _answer(question.unsafe_ask())


def confirm(message: str, yes: str, no: str, default: bool = True) -> bool:
    return select(message, [Choice(yes, True), Choice(no, False)], default=default)


def open_in_editor(path) -> str:
    """Open a file in $VISUAL / $EDITOR (vi by default); "" when it ran, else why it could not start."""
    import os
    import shlex
    import subprocess
    from pathlib import Path

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        # An absolute path: a file named '+!cmd.py' or '-x.py' is never an editor option or command.
        subprocess.run([*shlex.split(editor), str(Path(path).resolve())], check=False)
    except (OSError, ValueError) as e:
        return f"Could not start the editor {editor!r} ({e}); set $EDITOR"
    return ""
