"""What people read must be what runs: a cut source says so and keeps the definition that runs; look-alike
letters are marked; program-derived text is cleaned before it is stored."""

from __future__ import annotations

from alchemist.core.safe_text import code_text
from alchemist.programs.apply.base import program_status
from alchemist.programs.program_files import gate_program
from alchemist.sandbox import ProgramRun

HOSTILE = "\x1b]52;c;ZWNobw==\x07\x1b[2J\u202eevil"


def test_a_long_source_says_where_it_was_cut_and_keeps_the_definition_that_runs():
    decoy = "def label_function(x):\n    return 0\n"
    real = "def label_function(x):\n    return 1 if 'win' in x else -1\n"
    src = decoy + "# padding\n" * 3000 + real
    shown = code_text(src, 2000)
    assert len(shown) < 2200 and shown.startswith(decoy)
    assert shown.rstrip().endswith("return 1 if 'win' in x else -1")  # the last definition is the one that runs
    assert "cut here:" in shown and "characters" in shown
    short = code_text(real, 2000)
    assert short == real and "cut here" not in short


def test_look_alike_letters_inside_latin_words_are_marked_and_other_scripts_are_not():
    shown = code_text("def label_function(x):\n    return 1 if 'p\u0430ss' in x else 0  # \u043f\u0440\u0438\u0432\u0435\u0442\n")
    assert "p\\u0430ss" in shown  # Cyrillic a inside a Latin word: shown as its escape
    assert "\u043f\u0440\u0438\u0432\u0435\u0442" in shown  # a Russian word is just a Russian word


def test_program_derived_reasons_are_clean_before_they_are_stored():
    run = ProgramRun(load_error=f"SyntaxError: {HOSTILE}")
    status, reason = program_status(run, 10)
    assert status == "failed" and not any(c in reason for c in "\x1b\x07\u202e")
    run = ProgramRun(disabled_reason=HOSTILE)
    assert not any(c in program_status(run, 10)[1] for c in "\x1b\x07\u202e")
    rejected = gate_program("lf", f"import os\n# {HOSTILE}\n")
    assert rejected.status == "rejected" and not any(c in rejected.reason for c in "\x1b\x07\u202e")


def test_the_slow_program_budget_scales_with_rows_up_to_a_ceiling():
    from alchemist.sandbox import SandboxLimits

    limits = SandboxLimits()
    assert limits.program_budget_s(100) == 20.0  # the minimum
    assert limits.program_budget_s(10_000) == 100.0  # 10 ms a row
    assert limits.program_budget_s(1_000_000) == 900.0  # not 2.8 hours: 15 minutes at most
    assert SandboxLimits(budget_min_s=2000).program_budget_s(1_000_000) == 2000.0  # asked for more: given
