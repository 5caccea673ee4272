"""A new user's own files and the rough edges they hit: split for evaluation, re-apply from the manifest,
one-line errors, no scores of nothing, file permissions, nothing written into the clone, predict."""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from helpers import reviews_csv

from alchemist.cli import main
from alchemist.testing.fake_llm import FakeLLM, smart_reply

DEMO = ROOT / "datasets" / "demo"
DEMO_PROGRAMS = ROOT / "examples" / "demo_programs"


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return tmp_path


def cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def own_run(env: Path, server: FakeLLM, capsys, data: Path, *extra: str) -> tuple[int, dict, str]:
    report_path = env / f"r{len(list(env.glob('r*.json')))}.json"
    code, _, err = cli(["run", "--dataset", str(data), "--text-column", "review_text", "--label-column", "sentiment",
                        "--mode", "scriptoriumws", "--num-programs", "7", "--base-url", server.openai_url,
                        "--seeds", "1", "--refine-rounds", "0", "--features", "tfidf", "--out", str(env / "runs"),
                        "--json", str(report_path), *extra], capsys)
    return code, json.loads(report_path.read_text()) if report_path.exists() else {}, err


# --- 1, 2: one labeled file is split for evaluation; a run of own data re-applies with no flag ----------
def test_one_labeled_file_is_split_said_before_spending_and_reapplied_from_the_manifest(env, capsys):
    data = reviews_csv(env / "reviews.csv")
    with FakeLLM(smart_reply) as server:
        code, report, err = own_run(env, server, capsys, data)
    assert code == 0, err
    assert set(report["splits"]) == {"train", "valid", "test"} and report["splits"]["valid"] == 90
    assert report["label_model"]["test"] is not None and report["distilled"]["test_mean"] is not None
    assert "held out of train" in report["data_note"] and report["status"] == "ok"
    assert err.index("held out of train") < err.index("Writing 7 programs")  # said before any call
    run_dir = Path(report["run_dir"])
    assert json.loads((run_dir / "manifest.json").read_text())["config"]["data"]["text_column"] == "review_text"
    # the command at the top of every program file works as written, from anywhere, with no other flag
    command = (run_dir / "lf_01.py").read_text().splitlines()[1].removeprefix("# ").split("   (")[0]
    args = shlex.split(command)[2:]
    os.chdir(env)
    code, out, err = cli(args + ["--seeds", "1", "--features", "tfidf", "--json", str(env / "again.json")], capsys)
    os.chdir(ROOT)
    assert code == 0, err
    again = json.loads((env / "again.json").read_text())
    assert again["splits"] == report["splits"] and again["label_model"]["test"] == report["label_model"]["test"]


def test_unlabeled_data_says_before_spending_that_nothing_will_be_scored(env, capsys):
    data = reviews_csv(env / "unlabeled.csv", labeled=False)
    with FakeLLM(smart_reply) as server:
        code, report, err = own_run(env, server, capsys, data, "--classes", "ham,spam")
    assert code == 0, err
    assert err.index("can score nothing") < err.index("Writing 7 programs")


def test_apply_without_dataset_needs_a_run_folder_with_its_data(env, capsys):
    code, _, err = cli(["apply", str(DEMO_PROGRAMS)], capsys)
    assert code == 2 and "no manifest.json records which data" in err and err.count("\n") == 1


# --- 3: one-line errors, before anything is spent -------------------------------------------------------
def test_a_header_only_file_is_one_line_and_costs_nothing(env, capsys):
    empty = env / "empty.csv"
    empty.write_text("review_text,sentiment\n")
    code, _, err = cli(["apply", str(DEMO_PROGRAMS), "--dataset", str(empty), "--text-column", "review_text",
                        "--label-column", "sentiment"], capsys)
    assert code == 2 and "no rows" in err and err.count("\n") == 1 and "Traceback" not in err
    with FakeLLM(smart_reply) as server:
        code, _, err = own_run(env, server, capsys, empty)
        assert code == 2 and "no rows" in err and server.calls == 0


def test_predict_into_a_missing_folder_is_one_line(env, capsys):
    assert cli(["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--seeds", "1", "--out", str(env / "o")],
               capsys)[0] == 0
    (results,) = (env / "o").iterdir()
    code, _, err = cli(["predict", str(results), "--text", "hi", "--output", str(env / "nope" / "x.csv")], capsys)
    assert code == 2 and "does not exist" in err and err.count("\n") == 1


# --- 4: no scores of nothing ------------------------------------------------------------------------------
def test_zero_shot_with_no_usable_answer_shows_no_scores(env, capsys):
    with FakeLLM(lambda r: "I would rather not say.") as server:
        code, out, err = cli(["zero-shot", "--dataset", "demo", "--limit", "20", "--yes", "--base-url",
                              server.openai_url, "--seeds", "1", "--out", str(env / "runs"), "--json",
                              str(env / "z.json")], capsys)
    assert code == 1, err  # finished, with nothing to show: scripts can tell
    report = json.loads((env / "z.json").read_text())
    assert report["status"] == "no signal" and "no program voted" in report["status_reason"]
    assert report["label_model"]["test"] is None and report["majority_vote"]["test"] is None
    assert report["distilled"]["test_mean"] is None and "Status: no signal" in out


def test_no_usable_program_is_no_signal_and_the_page_does_not_blame_the_test_split(env, capsys, write_programs):
    folder = write_programs({"lf_01": "import os\ndef label_function(x):\n    return 1\n",
                             "lf_02": "def label_function(x):\n    return 1 // 0\n"})
    code, out, err = cli(["apply", str(folder), "--dataset", "demo", "--seeds", "1", "--out", str(env / "o"),
                          "--json", str(env / "r.json")], capsys)
    assert code == 1, err
    report = json.loads((env / "r.json").read_text())
    assert report["status"] == "no signal" and "no usable program" in report["status_reason"]
    html = (Path(report["output_dir"]) / "report.html").read_text()
    assert "no labeled test split" not in html and "the run has no signal" in html


def test_one_class_for_every_row_shows_no_scores(env, capsys, write_programs):
    folder = write_programs({"lf_01": "def label_function(x):\n    return 0\n"})
    code, out, err = cli(["apply", str(folder), "--dataset", "demo", "--seeds", "1", "--out", str(env / "o"),
                          "--json", str(env / "r.json")], capsys)
    assert code == 0, err  # labels were made, though they say one thing
    report = json.loads((env / "r.json").read_text())
    assert report["status"] == "no signal" and "one class (ham)" in report["status_reason"]
    assert report["label_model"]["valid"] is None and report["majority_vote"]["test"] is None
    html = (Path(report["output_dir"]) / "report.html").read_text()
    assert "no signal" in html


# --- 6: files follow the umask ----------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600)])
def test_outputs_follow_the_umask(env, umask, mode):
    script = (f"import os, sys; os.umask({umask}); sys.argv = ['main.py', 'apply', {str(DEMO_PROGRAMS)!r}, "
              f"'--dataset', 'demo', '--seeds', '1', '--features', 'tfidf', '--out', {str(env / 'o')!r}]\n"
              "import runpy; runpy.run_path('main.py', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-500:]
    (results,) = (env / "o").iterdir()
    for name in ("report.html", "report.json", "labels.csv"):
        assert stat.S_IMODE((results / name).stat().st_mode) == mode, name


# --- 7: nothing lands in the clone or beside the cache folder ----------------------------------------------
@pytest.mark.slow
def test_the_demo_leaves_a_clean_clone_clean(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("needs git")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    for path in ROOT.iterdir():  # the working tree as it is now (the tests may run before a commit)
        if (path.name not in (".git", ".venv", ".cache", "generated_lfs", "build") and not path.name.startswith(".")
                and not path.name.endswith(".egg-info")):
            target = clone / path.name
            if target.is_symlink() or target.is_file():
                target.unlink()
            elif target.is_dir():
                shutil.rmtree(target)
            if path.is_symlink():
                target.symlink_to(path.readlink())
            elif path.is_dir():
                shutil.copytree(path, target, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "results"))
            else:
                shutil.copy2(path, target)
    subprocess.run(["git", "add", "-A"], cwd=clone, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "now", "--allow-empty"],
                   cwd=clone, check=True)
    env = {k: v for k, v in os.environ.items() if k != "ALCHEMIST_CACHE_DIR"}
    done = subprocess.run([sys.executable, "main.py", "demo", "--seeds", "1"], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-800:]
    status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=clone, capture_output=True,
                            text=True, check=True).stdout.split("\n")
    written = sorted(line[3:] for line in status if line and "__pycache__" not in line)
    assert written == [".cache/", "generated_lfs/demo/"], written


def test_the_cache_folder_holds_every_cache_and_the_wizards_answers(env, monkeypatch, capsys):
    cache = env / "my-cache"
    monkeypatch.setenv("ALCHEMIST_CACHE_DIR", str(cache))
    from alchemist.pipeline.settings import load_settings

    settings = load_settings()
    assert settings.cache_root == cache and settings.cache_dir == cache / "llm"
    assert cli(["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--seeds", "1", "--out", str(env / "o")],
               capsys)[0] == 0
    assert sorted(p.name for p in env.iterdir()) == ["my-cache", "o"]  # nothing beside it


# --- 9: predict -------------------------------------------------------------------------------------------
def test_predict_from_a_run_folder_with_text_and_plain_text_input(env, capsys):
    data = reviews_csv(env / "reviews.csv")
    with FakeLLM(smart_reply) as server:
        code, report, err = own_run(env, server, capsys, data)
    assert code == 0, err
    lines = env / "new.txt"
    lines.write_text("subscribe to my channel http://bit.ly/1\n\nthe chorus of this song is beautiful\n")
    code, out, err = cli(["predict", report["run_dir"], "--input", str(lines)], capsys)
    assert code == 0, err
    assert "using the newest results of this run" in err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["text"] for r in rows] == ["subscribe to my channel http://bit.ly/1",
                                         "the chorus of this song is beautiful"]
    assert rows[0]["label_name"] == "spam"
    empty = env / "fresh-run"
    empty.mkdir()
    code, _, err = cli(["predict", str(empty), "--text", "x"], capsys)
    assert code == 2 and "results/<time>/distilled_model.skops" in err


@pytest.mark.parametrize("where", ["out", "json"])
def test_an_output_place_that_cannot_be_written_is_one_line_before_any_work(env, capsys, where):
    blocker = env / "a-file"
    blocker.write_text("not a folder")
    target = ["--out", str(blocker / "runs")] if where == "out" else ["--json", str(blocker / "sub" / "r.json")]
    with FakeLLM(smart_reply) as server:
        code, out, err = cli(["run", "--dataset", "demo", "--base-url", server.openai_url, "--num-programs", "1",
                              *target], capsys)
        assert server.calls == 0  # nothing spent
    assert code == 2 and err.count("\n") == 1 and "is a file" in err, err


def test_the_users_own_ids_go_through_labels_csv_and_predict(env, capsys):
    data = reviews_csv(env / "reviews.csv")
    lines = data.read_text().splitlines()  # ids of the user's own, ...
    data.write_text("\n".join(f"R-{line}" if i else line for i, line in enumerate(lines)) + "\n")
    code, _, err = cli(["apply", str(DEMO_PROGRAMS), "--dataset", str(data), "--text-column", "review_text",
                        "--label-column", "sentiment", "--id-column", "review_id", "--seeds", "1", "--features",
                        "tfidf", "--out", str(env / "o")], capsys)
    assert code == 0, err
    (results,) = (env / "o").iterdir()
    ids = [row["id"] for row in csv.DictReader((results / "labels.csv").open())]
    assert len(ids) == 600 and all(i.startswith("R-") for i in ids) and len(set(ids)) == 600
    code, out, err = cli(["predict", str(results), "--input", str(data), "--text-column", "review_text",
                          "--id-column", "review_id"], capsys)
    assert code == 0, err
    assert [row["id"] for row in csv.DictReader(io.StringIO(out))][:3] == ["R-0", "R-1", "R-2"]
