"""What people read must be what runs: a cut source says so and keeps the definition that runs; look-alike
letters are marked; program-derived text is cleaned before it is stored."""

from __future__ import annotations

from alchemist.core.safe_text import code_text
from alchemist.programs.apply.base import program_status
from alchemist.programs.program_files import gate_program
from alchemist.sandbox import ProgramRun

HOSTILE = "\x1b]52;c;ZWNobw==\x07\x1b[2J\u202eevil"


def test_a_program_that_can_run_is_shown_whole_and_a_cut_says_so():
    """Tricks that hide what runs in a cut part (a decoy definition in a string after the real one, a
    decorator above a harmless-looking def) fail: a source the gate lets run is never cut."""
    from alchemist.sandbox.gate import check_source
    from alchemist.sandbox.policy import MAX_SOURCE_BYTES

    decoy = ("import re\n" + "# padding\n" * 2500 + "def label_function(x):\n    return 1  # what runs\n"
             "_EXAMPLE = \'\'\'\ndef label_function(x):\n    return 1 if re.search(r'free', x) else 0  # \'\'\'\n")
    assert check_source(decoy).ok and len(decoy) > 20_000
    shown = code_text(decoy)
    assert shown == decoy and "what runs" in shown and "cut here" not in shown
    huge = "x = 1\n" * (MAX_SOURCE_BYTES // 6 + 10)  # 200,058 characters: over the gate's limit, never runs
    assert not check_source(huge).ok
    cut = code_text(huge)
    assert "cut here: 58 more characters" in cut and cut.startswith(huge[:1000])


def test_look_alike_letters_inside_latin_words_are_marked_and_other_scripts_are_not():
    shown = code_text("def label_function(x):\n    return 1 if 'p\u0430ss' in x else 0  # \u043f\u0440\u0438\u0432\u0435\u0442\n")
    assert "p\\u0430ss" in shown  # Cyrillic a inside a Latin word: shown as its escape
    assert "\u043f\u0440\u0438\u0432\u0435\u0442" in shown  # a Russian word is just a Russian word


def test_letters_python_reads_as_other_letters_are_marked_wherever_they_are():
    """Identifiers are NFKC-normalised: a def in mathematical sans-serif letters redefines label_function
    while it reads as a helper of another name; fullwidth letters do the same. (A file on disk that was
    never gated — a run's saved program — is shown through the same function.)"""
    from alchemist.sandbox.gate import check_source

    hidden = "def label_function(x):\n    return 1\n\ndef \U0001d5c5\U0001d5ba\U0001d5bb\U0001d5be\U0001d5c5_function(x):\n    return 0\n"
    assert not check_source(hidden).ok  # the gate refuses it outright; shown, it is marked all the same
    shown = code_text(hidden)
    assert "\\U0001d5c5" in shown and "\U0001d5c5" not in shown
    assert "\\uff41" in code_text("def \uff41(x):\n    return 1\n")  # fullwidth a
    assert code_text("x = 'tr\u00e8s'\n") == "x = 'tr\u00e8s'\n"  # an accented Latin letter is itself


def test_code_that_looks_like_a_key_is_shown_and_a_real_secret_is_not(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-secret-value-123")
    shown = code_text("def label_function(x):\n    return api_1-vote  # sk-real-secret-value-123\n")
    assert "return api_1-vote" in shown and "sk-real-secret-value-123" not in shown


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


def test_a_program_file_name_with_controls_is_named_by_escapes(tmp_path):
    from alchemist.programs.program_files import load_program_dir

    (tmp_path / "lf_01\u202eTXT.py").write_text("def label_function(x):\n    return 1\n")
    (tmp_path / "lf_02.py").write_text("def label_function(x):\n    return 0\n")
    names = [p.name for p in load_program_dir(tmp_path)]
    assert names == ["lf_01\\u202eTXT", "lf_02"]


def test_spaces_and_words_that_read_as_others_are_escapes():
    shown = code_text("a = 'free\u00a0money'\nb = '\u0441\u043e\u0440'\nc = '\u043f\u0440\u0438\u0432\u0435\u0442'\n")
    assert "free\\xa0money" in shown  # a no-break space never matches the space it looks like
    assert "\\u0441\\u043e\\u0440" in shown  # all-Cyrillic 'cop'
    assert "\u043f\u0440\u0438\u0432\u0435\u0442" in shown  # a Russian word stays readable


def test_program_names_never_read_alike(tmp_path):
    from alchemist.programs.program_files import load_program_dir

    body = "def label_function(x):\n    return 1\n"
    (tmp_path / "lf_a\u200bb.py").write_text(body)
    (tmp_path / "lf_a\\u200bb.py").write_text(body)
    (tmp_path / "lf\uff3f02.py").write_text(body)
    names = {p.name for p in load_program_dir(tmp_path)}
    assert names == {"lf_a\\u200bb", "lf_a\\\\u200bb", "lf\\uff3f02"}
