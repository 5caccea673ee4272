"""The review screen's engine: a run's programs and evidence, turning programs off, before/after scores,
and the LLM actions (a fixed version, more programs) against the local stand-in server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DEMO_DIR

from alchemist.cli import main, review
from alchemist.pipeline.run_config import reapply_config
from alchemist.pipeline.settings import load_settings
from alchemist.programs.program_files import load_program_dir
from alchemist.report.evidence import evidence, load_run, score_rows, set_enabled, weakest_classes
from alchemist.testing.fake_llm import FakeLLM, smart_reply

FIXED = ("```python\n# Strategy: links and channel plugs are spam.\ndef label_function(comment):\n"
         "    text = comment.lower()\n    return 1 if 'http' in text or 'channel' in text else -1\n```")


def responder(request: dict) -> str:
    prompt = FakeLLM._prompt_text(request["body"])
    return FIXED if "Improve this labeling function" in prompt else smart_reply(request)


@pytest.fixture
def made_run(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with FakeLLM(responder) as server:
        report_path = tmp_path / "r.json"
        code = main.main(["run", "--dataset", "demo", "--mode", "scriptoriumws", "--num-programs", "3",
                          "--base-url", server.openai_url, "--seeds", "1", "--refine-rounds", "0",
                          "--features", "tfidf", "--out", str(tmp_path / "runs"), "--json", str(report_path)])
        assert code == 0
        yield Path(json.loads(report_path.read_text())["run_dir"]), server


def test_a_run_is_seen_with_each_programs_evidence(made_run):
    run_dir, _ = made_run
    view = load_run(run_dir)
    assert [p.name for p in view.programs] == ["lf_01", "lf_02", "lf_03"] and view.report is not None
    assert all(p.enabled and p.result["status"] == "ok" for p in view.programs)
    ev = evidence(view, "lf_01")  # the keyword 'http' means spam
    assert ev.votes and all(vote == "spam" and "http" in text.lower() for text, vote in ev.votes)
    assert all(gold != answer for _, gold, answer in ev.mistakes)
    assert all(vote != lm for _, vote, lm in ev.disagreements)
    assert weakest_classes(view)[0][0] in ("ham", "spam")


def test_turning_a_program_off_leaves_it_out_of_the_next_apply(made_run):
    run_dir, _ = made_run
    view = load_run(run_dir)
    before = view.report
    set_enabled(view, "lf_02", False)
    assert (run_dir / "lf_02.py.disabled").exists() and not (run_dir / "lf_02.py").exists()
    assert [p.name for p in load_program_dir(run_dir)] == ["lf_01", "lf_03"]
    settings = load_settings()
    after = review.reapply(run_dir, settings, None, before)
    assert [p["name"] for p in after["programs"]] == ["lf_01", "lf_03"]
    rows = {what: (old, new) for what, old, new in score_rows(before, after)}
    assert rows["lf_02"][0] is not None and rows["lf_02"][1] is None  # shown as gone, side by side
    view = load_run(run_dir)
    assert not view.program("lf_02").enabled
    set_enabled(view, "lf_02", True)
    assert (run_dir / "lf_02.py").exists()


def test_a_fixed_version_is_priced_recorded_and_the_old_one_kept(made_run):
    run_dir, server = made_run
    from alchemist.generate.review_requests import RunLLM

    settings = load_settings()
    config = reapply_config(settings, run_dir)
    view = load_run(run_dir)
    llm = RunLLM(run_dir, settings, review.load_data(config, settings), config.limits)
    column = review._valid_column(view, "lf_03")
    summary, shown = llm.mistakes_of(column)
    price = llm.price_fix((run_dir / "lf_03.py").read_text(), summary, shown)
    assert 0 < price.typical < price.worst
    calls = len(json.loads((run_dir / "manifest.json").read_text())["calls"])
    old = (run_dir / "lf_03.py").read_text()
    program = llm.fix(3, old, summary, shown)
    assert program.status == "ok" and "channel" in program.code
    kept = llm.save_fixed(run_dir / "lf_03.py", program, old)
    assert kept.read_text() == old and "channel" in (run_dir / "lf_03.py").read_text()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert len(manifest["calls"]) == calls + 1 and manifest["calls"][-1]["stage"] == "refine"
    assert manifest["totals"]["llm_calls"] == calls + 1
    request = json.dumps(server.requests[-1]["body"])
    test_texts = [r["data"]["text"] for r in json.loads((DEMO_DIR /
                                                          "test.json").read_text()).values()]
    valid_texts = {r["data"]["text"] for s in ("train", "valid") for r in
                   json.loads((DEMO_DIR / f"{s}.json").read_text()).values()}
    assert not any(json.dumps(t)[1:-1] in request for t in test_texts if t not in valid_texts)  # never test rows


def test_more_programs_aimed_at_a_class_are_numbered_after_the_last(made_run):
    run_dir, server = made_run
    from alchemist.generate.review_requests import RunLLM

    settings = load_settings()
    config = reapply_config(settings, run_dir)
    llm = RunLLM(run_dir, settings, review.load_data(config, settings), config.limits)
    assert llm.price_more(2).worst > 0
    made = llm.more([4, 5], "Recognise the class 'ham' and abstain otherwise.")
    assert [p.name for p in made] == ["lf_04", "lf_05"] and (run_dir / "lf_05.py").exists()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert [p["name"] for p in manifest["programs"]][-2:] == ["lf_04", "lf_05"]
    assert all("Recognise the class 'ham'" in json.dumps(r["body"]) for r in server.requests[-2:])


def test_review_needs_a_terminal(tmp_path, capsys):
    assert main.main(["review", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "needs a terminal" in err and err.count("\n") == 1


# --- hostile programs and run folders on the review screen ------------------------------------------------
ESC = "\x1b]52;c;ZXZpbA==\x07\x1b[2J"


@pytest.fixture
def screen(monkeypatch):
    import io

    from rich.console import Console

    out = io.StringIO()
    monkeypatch.setattr(review, "console", Console(file=out, width=200, markup=False, highlight=False,
                                                  color_system=None))
    return out


def test_a_program_is_shown_line_by_line_with_nothing_hidden(tmp_path, screen):
    """Its lines as lines (a ' | ' in a comment cannot pass for a line break), and characters that would
    make it read differently than it runs (a zero-width space in a string, a form feed in an indent) shown."""
    source = ('def label_function(x):  # |     return -1\n    if "fr\u200bee" not in x:\n'
              f'    \x0c    return 1  # {ESC}\n    return 1\n')
    (tmp_path / "lf_01.py").write_text(source)
    review._show(load_run(tmp_path), "lf_01")
    shown = screen.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown and "\u200b" not in shown
    lines = shown.splitlines()
    assert "def label_function(x):  # |     return -1" in lines, lines
    assert any('if "fr\\u200bee" not in x:' in line for line in lines), lines
    assert any("\\x0c    return 1" in line for line in lines), lines


def test_a_run_folders_report_reaches_the_terminal_clean(tmp_path, screen):
    """report.json is read from the run folder: every value of it printed is cleaned."""
    from alchemist.report.evidence import ProgramRow, RunView

    (tmp_path / "lf_01.py").write_text("def label_function(x):\n    return 1\n")
    row = ProgramRow(f"lf_01{ESC}", tmp_path / "lf_01.py", True,
                     {"status": ESC, "coverage": 0.5, "valid_support": ESC, "conflict": ESC})
    review._table(RunView(tmp_path, None, {"programs": []}, [row]))
    assert "\x1b" not in screen.getvalue() and "\x07" not in screen.getvalue()


def test_the_editor_gets_a_path_it_cannot_take_for_an_option(tmp_path, monkeypatch, screen):
    """A program file named '+!cmd.py' in a run reviewed as `review .` must not reach vi as '+!cmd' (an
    Ex command: a shell command) or '-...' (an option): the editor gets an absolute path."""
    import sys

    name = "+!touch PWNED.py"
    (tmp_path / name).write_text("def label_function(x):\n    return 1\n")
    record = tmp_path / "argv.txt"
    editor = tmp_path / "editor.py"
    editor.write_text(f"import sys\nopen({str(record)!r}, 'w').write('\\n'.join(sys.argv[1:]))\n")
    monkeypatch.setenv("VISUAL", f"{sys.executable} {editor}")
    monkeypatch.chdir(tmp_path)
    view = load_run(Path("."))
    review._edit(view.program("+!touch PWNED").path, lambda code: "")
    (arg,) = record.read_text().splitlines()
    assert arg.startswith("/") and Path(arg) == (tmp_path / name).resolve(), arg


def test_program_names_in_menus_are_clean(tmp_path, monkeypatch, screen):
    """prompt_toolkit shows control characters as ^[, but not bidi overrides or zero-width characters."""
    from alchemist.core.safe_text import clean

    name = "lf_01\u202ekcehc\u200b"
    (tmp_path / f"{name}.py").write_text("def label_function(x):\n    return 1\n")
    asked: list[str] = []

    def select(message, choices, default=None):
        asked.extend([message, *(str(c.title) for c in choices)])
        return "back"

    monkeypatch.setattr(review.ask, "select", select)
    view = load_run(tmp_path)
    review._program(view, name, lambda code: "", None, lambda: None)
    assert asked and all(text == clean(text, 10_000) for text in asked), asked


def test_an_edit_that_breaks_the_program_keeps_the_good_one_and_offers_it_back(tmp_path, monkeypatch):
    from alchemist.cli import questions

    program = tmp_path / "lf_01.py"
    good = "def label_function(x):\n    return 1 if 'http' in x else -1\n"
    program.write_text(good)
    monkeypatch.setattr(questions, "open_in_editor", lambda path: path.write_text("def label_function(x)\n") and "")
    answers = iter(["again", "revert"])
    asked = []
    monkeypatch.setattr(questions, "select", lambda message, choices, default=None: asked.append(message)
                        or next(answers))
    check = lambda source: "" if source == good else "syntax error"
    review._edit(program, check)
    assert program.read_text() == good and len(asked) == 2  # edited twice, put back
    assert (tmp_path / "refinement" / "lf_01.before-edit.py").read_text() == good
    answers = iter(["keep"])
    review._edit(program, check)
    assert program.read_text() == "def label_function(x)\n"  # kept as the user chose; the good one is still aside
    assert (tmp_path / "refinement" / "lf_01.before-edit.py").read_text() == good


def test_the_review_screen_asks_a_person_for_the_rows_its_programs_are_unsure_of(made_run, monkeypatch, tmp_path):
    import io

    run_dir, _ = made_run
    monkeypatch.setenv("ALCHEMIST_HOME", str(tmp_path))
    monkeypatch.setattr(review.ask, "select", lambda *a, **k: "chosen")
    monkeypatch.setattr("sys.stdin", io.StringIO("2\nq\n"))
    review._annotate(run_dir, reapply_config(load_settings(), run_dir), load_settings())
    lines = [json.loads(x) for x in (tmp_path / "annotations" / "demo.jsonl").read_text().splitlines()]
    assert [(r["pool"], r["label"]) for r in lines if r["kind"] == "answer"] == [("chosen", "spam")]


def test_the_wizard_offers_gold_labels_only_to_data_without_them(monkeypatch, tmp_path):
    from helpers import reviews_csv

    from alchemist.cli import wizard
    from alchemist.data.datasets import load_dataset

    asked = []
    monkeypatch.setattr(wizard.ask, "select", lambda *a, **k: asked.append(a[0]) or "silver")
    assert wizard.ask_gold(load_dataset("demo", DEMO_DIR.parent)) == 0 and not asked
    from alchemist.data.readers import Columns

    unlabeled = load_dataset(str(reviews_csv(tmp_path / "mine.csv", labeled=False)), columns=Columns("review_text"),
                             classes=["ham", "spam"])
    assert wizard.ask_gold(unlabeled) == 100 and "no gold labels" in asked[0]


def test_the_wizard_summary_says_what_a_run_without_gold_scores_on(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from helpers import reviews_csv

    from alchemist.annotation.answers import open_for
    from alchemist.cli import wizard
    from alchemist.data.datasets import load_dataset
    from alchemist.data.readers import Columns

    monkeypatch.setenv("ALCHEMIST_HOME", str(tmp_path))
    data = load_dataset(str(reviews_csv(tmp_path / "mine.csv", labeled=False)), columns=Columns("review_text"),
                        classes=["ham", "spam"])
    plain, silver = SimpleNamespace(silver=0, code_model="m"), SimpleNamespace(silver=100, code_model="m")
    assert "can score nothing" in wizard._no_gold_note(data, plain)
    assert "m labels 100 rows first (silver" in wizard._no_gold_note(data, silver)
    answers = open_for(tmp_path / "annotations" / f"{data.name}.jsonl", data.name, data.train.ids, data.train.texts,
                       ["ham", "spam"])
    answers.answer(data.train.ids[0], data.train.texts[0], "spam", "random")
    assert "1 random answers in" in wizard._no_gold_note(data, plain)
