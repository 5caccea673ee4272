"""The real wizard, driven in a pseudo-terminal (pexpect) against the local fake LLM server."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pexpect
import pytest
from conftest import ROOT

from alchemist.cli import main
from alchemist.cli.parser import build_parser
from alchemist.testing.fake_llm import FakeLLM, angle_index, smart_reply

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals need a POSIX system"),
              pytest.mark.slow]  # a real terminal per test: `make test-fast` leaves them out

CLEAR = "\x15"  # Ctrl-U: clear a text prompt's default
# (question pattern, keys that answer it) for a new alchemist run on the demo data
STEPS = [
    (r"Which dataset\?", "demo\r"),
    (r"own words", "\r"),
    (r"Which mode\?", "without\r"),
    (r"\(code LLM\)\?", "gpt-4o-mini\r"),
    (r"\(knowledge LLM\)\?", "gpt-4o-mini\r"),
    (r"kind of prior knowledge\?", "rules\r"),
    (r"How many labeling programs\?", CLEAR + "2\r"),
    (r"How many refinement rounds\?", CLEAR + "0\r"),
    (r"Go ahead\?", "\r"),
]
TEXT_PROMPTS = {1, 6, 7}


@pytest.fixture
def server():
    with FakeLLM(smart_reply) as fake:
        yield fake


def spawn(tmp_path: Path, server: FakeLLM, **extra_env: str) -> pexpect.spawn:
    env = dict(os.environ, **extra_env, OPENAI_API_KEY="sk-test-openai", OPENAI_BASE_URL=server.openai_url,
               ALCHEMIST_CACHE_DIR=str(tmp_path / "cache"), TERM="xterm",
               PROMPT_TOOLKIT_NO_CPR="1")  # a pty never answers cursor-position requests
    env.pop("ANTHROPIC_API_KEY", None)
    child = pexpect.spawn(sys.executable, [str(ROOT / "main.py"), "wizard", "--data-dir", str(tmp_path / "nodata"),
                                           "--out", str(tmp_path / "runs")],
                          cwd=str(ROOT), env=env, encoding="utf-8", timeout=60, dimensions=(50, 180))
    child.logfile_read = open(tmp_path / "screen.log", "a")
    return child


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF, timeout=120)
    child.close()
    return child.exitstatus if child.exitstatus is not None else 128 + (child.signalstatus or 0)


def screen(tmp_path: Path) -> str:
    raw = (tmp_path / "screen.log").read_text()
    raw = re.sub(r"\x1b\[(\d*)C", lambda m: " " * int(m.group(1) or 1), raw)  # cursor-forward: spaces
    return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", raw).replace("\r", "")


def send(child: pexpect.spawn, keys: str) -> None:
    """Type like a person: the text, then Enter once the terminal has echoed it."""
    text, enter = (keys[:-1], True) if keys.endswith("\r") else (keys, False)
    if text:
        child.send(text)
        visible = text.replace(CLEAR, "").replace("\x7f", "").strip()
        if visible:
            child.expect(re.escape(visible[-3:]))
    if enter:
        child.send("\r")


def pick(child: pexpect.spawn, name: str) -> None:
    """Filter a menu down to `name`, then Enter: waits for the filter line ("/ name...") to show all of
    it, since the menu already listing the name proves nothing about what was typed so far."""
    child.send(name)
    child.expect(re.escape(name) + r"(\x1b\[[0-9;]*m)*\.\.\.")
    child.send("\r")


def on_screen(text: str) -> str:
    """A pattern for text as a terminal may draw it: a character already on screen at that spot is often
    skipped with a cursor move (ESC [ n C) instead of being written again."""
    return "".join(f"(?:{re.escape(c)}|\x1b\\[\\d*C)" for c in text)


def leave(child: pexpect.spawn, after_run: bool = True) -> None:
    """No export (asked after a run); back at the first menu: exit from there."""
    if after_run:
        child.expect(r"Export the labels\?")
        send(child, "\r")
    child.expect("What would you like to do")
    send(child, "exit\r")
    child.expect("Bye")


def answer(child: pexpect.spawn, steps=STEPS) -> None:
    for pattern, keys in steps:
        child.expect(pattern)
        send(child, keys)


def test_full_run(tmp_path, server):
    child = spawn(tmp_path, server)
    answer(child)
    child.expect("Report with plots", timeout=120)
    leave(child)
    assert finish(child) == 0
    assert server.calls == 4  # 2 programs x (knowledge + code)
    (run_dir,) = (tmp_path / "runs" / "demo" / "alchemist").iterdir()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["programs"]) == 2
    assert manifest["config"]["code_model"]["name"] == "gpt-4o-mini" and manifest["config"]["num_programs"] == 2
    text = screen(tmp_path)
    assert "estimated cost: about $" in text and "Summary" in text and "Traceback" not in text
    remembered = json.loads((tmp_path / "cache" / "wizard_last.json").read_text())
    assert remembered["dataset"] == "demo" and remembered["num_programs"] == 2


@pytest.mark.parametrize("at", range(len(STEPS)))
def test_exit_at_every_prompt(tmp_path, server, at):
    child = spawn(tmp_path, server)
    answer(child, STEPS[:at])
    child.expect(STEPS[at][0])
    send(child, (CLEAR + "Exit\r") if at in TEXT_PROMPTS else "  EXIT \r")
    child.expect("Bye")
    assert finish(child) == 0
    assert server.calls == 0 and not (tmp_path / "runs").exists()
    assert "Traceback" not in screen(tmp_path)


def test_ctrl_d_leaves_and_ctrl_c_interrupts(tmp_path, server):
    child = spawn(tmp_path, server)
    child.expect(STEPS[0][0])
    child.sendcontrol("d")
    child.expect("Bye")
    assert finish(child) == 0
    child = spawn(tmp_path, server)
    answer(child, STEPS[:2])
    child.expect(STEPS[2][0])
    child.sendcontrol("c")
    assert finish(child) == 130
    assert "Traceback" not in screen(tmp_path)


def test_invalid_answers_are_re_asked(tmp_path, server):
    child = spawn(tmp_path, server)
    child.expect(STEPS[0][0])
    send(child, "zzzz\r")  # matches no dataset: refused, still on the same question
    send(child, "\x7f" * 4 + "demo\r")
    answer(child, STEPS[1:6])
    child.expect(STEPS[6][0])
    send(child, CLEAR + "abc\r")
    child.expect("whole")  # "type a whole number"
    send(child, CLEAR + "0\r")
    child.expect("betw")  # "choose between 1 and 100 programs"
    send(child, CLEAR + "1\r")
    child.expect(STEPS[7][0])
    send(child, CLEAR + "9\r")
    child.expect("between 0 and 5")  # refinement rounds
    send(child, CLEAR + "2\r")
    child.expect(r"Go ahead\?")
    send(child, " exit \r")
    assert finish(child) == 0
    text = screen(tmp_path)
    assert "programs:       1, then 2 refinement round(s)" in text and "dataset:        demo" in text
    assert "and is refined" in text  # the estimate counts refinement requests


def _hang_on_lf_02(request: dict) -> str:
    """Answers like smart_reply, except that lf_02's code request (angle 2) never comes back in time."""
    prompt = FakeLLM._prompt_text(request["body"])
    if "expert annotator" not in prompt and angle_index(prompt) == 1:
        time.sleep(30)
        return "late"
    return smart_reply(request)


def test_ctrl_c_during_generation_leaves_a_consistent_run(tmp_path, server):
    server.default = _hang_on_lf_02  # programs are written side by side: lf_01 and lf_03 finish, lf_02 hangs
    child = spawn(tmp_path, server)
    answer(child, [(p, k.replace("2\r", "3\r")) for p, k in STEPS])
    child.expect("Writing 3 programs")
    while server.calls < 6:  # three knowledge and three code requests
        child.expect([pexpect.TIMEOUT], timeout=0.2)
    run_dir = next((tmp_path / "runs" / "demo" / "alchemist").iterdir())
    while not (run_dir / "lf_03.py").exists() or not (run_dir / "lf_01.py").exists():
        child.expect([pexpect.TIMEOUT], timeout=0.2)
    child.sendintr()
    assert finish(child) == 130
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert [p["name"] for p in manifest["programs"]] == ["lf_01", "lf_03"]
    assert not (run_dir / "lf_02.py").exists()
    assert not list(run_dir.glob(".*.tmp"))  # no half-written file
    text = screen(tmp_path)
    assert "Traceback" not in text and "made so far (2 program(s)) is kept" in text


def test_after_a_run_the_labels_can_be_exported_for_review(tmp_path, server):
    child = spawn(tmp_path, server)
    answer(child)
    child.expect("Report with plots", timeout=120)
    child.expect(r"Export the labels\?")
    send(child, "Label Studio\r")
    child.expect(r"Which rows first\?")
    send(child, "\r")
    child.expect("import-labels")
    child.expect("What would you like to do")
    send(child, "exit\r")
    child.expect("Bye")
    assert finish(child) == 0
    (tasks,) = (tmp_path / "runs" / "demo" / "alchemist").glob("*/results/*/exports/label-studio-train-all*/tasks.json")
    assert json.loads(tasks.read_text())[0]["data"]["alchemist_pool"] == "random"


def test_reapply_a_previous_run_without_llm_calls(tmp_path, server):
    child = spawn(tmp_path, server)
    answer(child)
    child.expect("Report with plots", timeout=120)
    leave(child)
    finish(child)
    calls = server.calls
    child = spawn(tmp_path, server)
    child.expect("What would you like to do")
    send(child, "re-apply\r")
    child.expect("Which run's programs")
    send(child, "\r")
    child.expect("Report with plots", timeout=120)
    leave(child)
    assert finish(child) == 0
    assert server.calls == calls
    (run_dir,) = (tmp_path / "runs" / "demo" / "alchemist").iterdir()
    assert len(list((run_dir / "results").iterdir())) == 2


def test_wizard_and_flags_make_the_same_run(tmp_path):
    from alchemist.cli import wizard
    from alchemist.pipeline.settings import load_settings

    settings = load_settings()
    answers = wizard.Answers(dataset="demo", descriptions={"demo": "Spam or not."}, mode="alchemist",
                             code_model="gpt-4o-mini", knowledge_model="gpt-4o", knowledge_type="keywords",
                             num_programs=7)
    from_wizard = wizard.config_for(answers, settings, tmp_path, tmp_path / "runs")
    args = build_parser(settings.defaults).parse_args(
        ["run", "--dataset", "demo", "--data-dir", str(tmp_path), "--out", str(tmp_path / "runs"),
         "--mode", "alchemist", "--code-model", "gpt-4o-mini", "--knowledge-model", "gpt-4o",
         "--knowledge-type", "keywords", "--num-programs", "7", "--description", "Spam or not."])
    assert main.config_from_args(args, settings) == from_wizard


def test_rag_mode_asks_for_documents(tmp_path, server):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text("Links and requests to subscribe are spam. Talk about the song is ham.")
    child = spawn(tmp_path, server)
    answer(child, STEPS[:2])
    child.expect(r"Which mode\?")
    send(child, "with RAG\r")
    child.expect("Your documents")
    send(child, str(tmp_path / "missing") + "\r")
    child.expect("no such file")
    empty = tmp_path / "empty-docs"
    empty.mkdir()
    send(child, "\x15" + str(empty) + "\r")
    child.expect(on_screen("folder is empty"))  # asked again now, not a failure after "Run it"
    send(child, "\x15" + str(docs) + "\r")
    answer(child, [(p, k.replace("2\r", "1\r")) for p, k in STEPS[3:]])
    child.expect("Report with plots", timeout=120)
    leave(child)
    assert finish(child) == 0
    (run_dir,) = (tmp_path / "runs" / "demo" / "alchemist-rag").iterdir()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["rag"]["files"] == [str(docs / "guide.md")]
    assert manifest["programs"][0]["retrieved_chunks"]
    assert "documents:" in screen(tmp_path)


def test_advanced_settings_set_requests_in_flight_and_the_budget(tmp_path, server):
    child = spawn(tmp_path, server)
    answer(child, STEPS[:-1])
    child.expect(r"Go ahead\?")
    send(child, "Advanced\r")
    child.expect("in flight at once")
    send(child, CLEAR + "0\r")
    child.expect("between 1 and 64")
    send(child, CLEAR + "3\r")
    child.expect("Budget cap")
    send(child, "abc\r")
    child.expect("number of dollars")
    send(child, CLEAR + "0.5\r")
    child.expect("Embedding model for the distilled model")
    send(child, "\r")
    child.expect("Where should embeddings run")
    send(child, "cpu\r")
    child.expect(r"Go ahead\?")
    send(child, "\r")
    child.expect("Report with plots", timeout=120)
    leave(child)
    assert finish(child) == 0
    (run_dir,) = (tmp_path / "runs" / "demo" / "alchemist").iterdir()
    config = json.loads((run_dir / "manifest.json").read_text())["config"]
    assert config["concurrency"] == 3 and config["max_cost"] == 0.5 and config["device"] == "cpu"
    assert 1 <= server.peak_in_flight <= 3
    assert "up to 3 LLM requests at once; budget cap $0.5" in screen(tmp_path)
    remembered = json.loads((tmp_path / "cache" / "wizard_last.json").read_text())
    assert remembered["concurrency"] == 3 and remembered["max_cost"] == "0.5"


def test_own_data_columns_are_offered_and_the_evaluation_split_is_in_the_summary(tmp_path, server):
    from helpers import reviews_csv

    data = reviews_csv(tmp_path / "reviews.csv")
    child = spawn(tmp_path, server)
    child.expect(r"Which dataset\?")
    send(child, "My own\r")
    child.expect("Path to your data")
    send(child, str(data) + "\r")
    child.expect("Which column holds the text")
    child.expect("review_id")  # the file's own columns, listed
    pick(child, "review_text")
    child.expect("Which column holds the labels")
    pick(child, "sentiment")
    child.expect("Class names")
    send(child, "\r")
    answer(child, [(r"own words", "Comments under music videos: spam or ham.\r"), *STEPS[2:-1]])
    child.expect(r"Go ahead\?")
    send(child, " exit \r")
    assert finish(child) == 0
    text = " ".join(screen(tmp_path).split())
    assert "evaluation: reviews.csv has no valid or test split: 90 valid, 90 test labeled rows are held out" in text


def test_arrows_over_greyed_out_choices_never_freeze_and_ctrl_c_still_leaves(tmp_path, server):
    child = spawn(tmp_path, server)
    child.expect(r"Which dataset\?")
    child.send("sms")  # only greyed-out choices are left (sms and medabs: not on disk)
    child.expect(r"sms(\x1b\[[0-9;]*m)*\.\.\.")
    child.send("\x1b[B\x1b[B\x1b[A")  # down, down, up: nothing to move to
    time.sleep(0.5)
    child.send("\x7f" * 3 + "demo")
    time.sleep(0.5)
    child.send("\r")
    child.expect("own words")  # still answering keys
    child.sendintr()
    assert finish(child) == 130


def test_filtering_shows_names_before_descriptions():
    from questionary import Choice

    from alchemist.cli.questions import _NamesFirst

    control = _NamesFirst.__new__(_NamesFirst)
    control.choices = [Choice("agnews   news article: World, Sports", "agnews"), Choice("sms      SMS message", "sms"),
                       Choice("demo     bundled demo data: video comments", "demo")]
    control.search_filter = "s"
    assert [c.value for c in control.filtered_choices] == ["sms", "agnews", "demo"]
    control.search_filter = "news"
    assert [c.value for c in control.filtered_choices] == ["agnews"] and control.found_in_search
    control.search_filter = "zzz"
    assert len(control.filtered_choices) == 3 and not control.found_in_search


def test_menus_say_why_an_answer_is_refused_and_how_to_get_missing_data(tmp_path, server):
    (tmp_path / "nodata" / "agnews").mkdir(parents=True)
    (tmp_path / "nodata" / "agnews" / "valid.json").write_text("{}")
    child = spawn(tmp_path, server)
    child.expect(r"Which dataset\?")
    send(child, "youtube\r")  # on disk nowhere: disabled
    child.expect("Not available")
    child.expect("main.py datasets")
    send(child, "\x7f" * 7 + "zzzz\r")
    child.expect("Nothing matches 'zzzz'")
    send(child, "\x7f" * 4 + "exit\r")
    assert finish(child) == 0
    text = screen(tmp_path)
    assert "partial: valid in" in text and "no train split" in text  # as `main.py datasets` says it


STUB_EDITOR = """import pathlib, sys
count = pathlib.Path(sys.argv[0]).with_suffix(".count")
n = int(count.read_text()) if count.exists() else 0
count.write_text(str(n + 1))
broken = "def label_function(comment)\\n    return 1\\n"
fixed = "# Strategy: edited by hand.\\ndef label_function(comment):\\n    return 0 if 'song' in comment.lower() else -1\\n"
pathlib.Path(sys.argv[1]).write_text(broken if n == 0 else fixed)
"""


def test_workbench_run_review_edit_reapply_and_exit(tmp_path, server):
    editor = tmp_path / "stub_editor.py"
    editor.write_text(STUB_EDITOR)
    child = spawn(tmp_path, server, EDITOR=f"{sys.executable} {editor}")
    answer(child)
    child.expect("Report with plots", timeout=120)
    child.expect(r"Export the labels\?")
    send(child, "\r")
    child.expect("What would you like to do")  # back at the first menu after the run
    send(child, "Review\r")
    child.expect("Which run's programs")
    send(child, "\r")
    child.expect("Which program")
    send(child, "lf_02\r")
    child.expect("Its votes on train rows")
    child.expect("Valid rows it gets wrong")
    child.expect("lf_02:")
    send(child, "Edit\r")
    child.expect("Problem: ")  # the editor left a syntax error: said at once
    child.expect("the one before it is kept")  # the working version is kept aside, and offered back
    send(child, "Edit it again\r")
    child.expect("OK: it passes")
    child.expect("lf_02:")
    send(child, "Back to\r")
    child.expect("Which program")
    send(child, "Re-apply\r")
    child.expect("Before and after", timeout=120)
    child.expect("Which program")
    send(child, "Back\r")
    leave(child, after_run=False)
    assert finish(child) == 0
    text = screen(tmp_path)
    assert "Traceback" not in text and "syntax error" in text
    (run_dir,) = (tmp_path / "runs" / "demo" / "alchemist").iterdir()
    assert "edited by hand" in (run_dir / "lf_02.py").read_text()
    assert len(list((run_dir / "results").iterdir())) == 2  # the run's apply, and the re-apply
    before_after = text[text.index("Before and after"):]
    assert "lf_02" in before_after and "label model test" in before_after


def test_image_run_lists_image_data_asks_for_clip_and_shows_concepts_to_edit(tmp_path):
    from helpers import concept_reply

    from alchemist.testing.tiny_clip import build_tiny_clip, make_images

    make_images(tmp_path / "nodata" / "birds")
    clip = build_tiny_clip(tmp_path / "tiny-clip")
    with FakeLLM(concept_reply) as server:
        child = spawn(tmp_path, server)
        child.expect(r"Which dataset\?")
        child.expect("images in class folders")  # found in the data folder and listed
        send(child, "birds\r")
        answer(child, [(r"own words", "\r"), (r"Which CLIP model", CLEAR + str(clip) + "\r"),
                       (r"Where do the concepts come from", "knowledge LLM\r"), (r"Which mode\?", "without\r"),
                       (r"\(code LLM\)\?", "gpt-4o-mini\r"), (r"lists the concepts and writes", "gpt-4o-mini\r"),
                       (r"kind of prior knowledge\?", "rules\r"), (r"How many labeling programs\?", CLEAR + "2\r"),
                       (r"How many refinement rounds\?", CLEAR + "0\r"), (r"Go ahead\?", "\r"),
                       (r"Use these concepts\?", "Type\r"),
                       (r"comma-separated", CLEAR + "water background, forest background, webbed feet\r"),
                       (r"Use these concepts\?", "Use them\r")])
        child.expect("Report with plots", timeout=120)
        leave(child)
        assert finish(child) == 0
    (run_dir,) = (tmp_path / "runs" / "birds" / "alchemist").iterdir()
    assert json.loads((run_dir / "concepts.json").read_text()) == ["water background", "forest background",
                                                                   "webbed feet"]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["concepts"]["source"].endswith("edited") and manifest["config"]["clip_model"] == str(clip)
    text = screen(tmp_path)
    assert "short pointed beak" in text  # the LLM's list was shown before it was replaced
    assert "Traceback" not in text
