"""Progress lines off a terminal, and the HTML report: its sections and numbers on a real run, hostile
text escaped, long names, empty runs, and the page rendered by a real headless browser (when one exists)."""

from __future__ import annotations

import csv
import html
import io
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_DIR, DEMO_PROGRAMS
from helpers import chromium, needs_browser

from alchemist.cli import main
from alchemist.core.progress import PlainProgress, make_progress
from alchemist.report.html import render_html
from alchemist.report.page_data import agreement, generated_by, read_manifest

EVIL = "<script>alert(1)</script>\"' onmouseover=\"alert(2)\" \x1b[31m<img src=x>"


def test_plain_progress_lines_have_rate_eta_and_detail():
    out = io.StringIO()
    progress = make_progress(out)
    assert isinstance(progress, PlainProgress)  # not a terminal: plain lines, no live bar
    progress.every = 0.0
    with progress.stage("Applying 3 programs", total=100) as stage:
        stage.note("12 LLM calls, $0.0012")
        stage.advance(40)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Applying 3 programs..."
    assert "40/100 rows (40%)" in lines[1] and "rows/s" in lines[1] and "ETA" in lines[1]
    assert "$0.0012" in lines[1]
    assert lines[-1].startswith("Applying 3 programs: 40 rows in")


# --- helpers ----------------------------------------------------------------------------------------
class _Page(HTMLParser):
    """Every table's cell texts, by the id of the section it is in; every tag and attribute seen."""

    def __init__(self) -> None:
        super().__init__()
        self.section: str | None = None
        self.tables: dict[str | None, list[list[list[str]]]] = {}
        self.cell: list[str] | None = None
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "section":
            self.section = a.get("id")
        elif tag == "table":
            self.tables.setdefault(self.section, []).append([])
        elif tag == "tr":
            self.tables[self.section][-1].append([])
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.tables[self.section][-1][-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def rows_by_first_cell(table: list[list[str]]) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in table if row}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[dict, Path]:
    """One apply of the bundled demo programs (their caches kept apart): the report and its folder."""
    tmp = tmp_path_factory.mktemp("demo_report")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALCHEMIST_CACHE_DIR", str(tmp / "cache"))
        code = main.main(["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--seeds", "1", "--out", str(tmp / "runs")])
    assert code == 0
    (out,) = (tmp / "runs").iterdir()
    return json.loads((out / "report.json").read_text()), out


def minimal_report(**extra) -> dict:
    return {"dataset": "demo", "metric": "acc", "classes": ["ham", "spam"], "status": "ok", "programs": [], **extra}


# --- the page from a report dict ------------------------------------------------------------------
def test_html_report_has_bars_and_confusion_matrix():
    report = minimal_report(
        programs_source="runs/x", output_dir="runs/x/results/1", coverage=0.9, overlap=0.5,
        conflict=0.1, llm_calls=4, cached_calls=1, cost_usd=0.0012, run_dir="runs/x",
        programs=[{"name": "lf_01", "status": "ok", "coverage": 0.5, "valid_accuracy": 0.9, "errors": {}},
                  {"name": "lf_<2>", "status": "rejected", "reason": "import of 'os' <not allowed>",
                   "coverage": 0.0, "valid_accuracy": None, "errors": {}}],
        label_model={"name": "snorkel", "valid": 0.8, "test": 0.85},
        majority_vote={"valid": 0.7, "test": 0.75},
        distilled={"seeds": 2, "test_mean": 0.8, "test_std": 0.01, "confusion_matrix": [[40, 2], [5, 53]]},
        warnings=["something <odd>"])
    page = render_html(report)
    assert page.count('class="cov"') == 2 and page.count('class="acc"') == 2
    assert ">53</td>" in page and "gold \\ predicted" in page
    assert "lf_&lt;2&gt;" in page and "&lt;not allowed&gt;" in page and "<odd>" not in page  # escaped
    assert "0.850" in page and "$0.0012" in page


def test_status_and_warnings_come_before_the_scores():
    page = render_html(minimal_report(status="no signal", status_reason="no program voted on any row",
                                      warnings=["first warning", "second warning"],
                                      label_model={"name": "snorkel", "valid": None, "test": None}))
    status, scores = page.index('id="status"'), page.index('id="scores"')
    assert status < page.index("second warning") < page.index('id="run"') < scores
    assert 'class="status bad"' in page and "no program voted on any row" in page[status:scores]


def test_hostile_names_sources_and_texts_are_escaped():
    evil_source = "X = '</code></pre></details><script>alert(3)</script>'\n" + EVIL
    report = minimal_report(
        dataset=EVIL, classes=[EVIL, "b"], warnings=[EVIL], programs_source=EVIL, output_dir=EVIL, date=EVIL,
        command=EVIL, data={"dataset": EVIL, "text_column": EVIL, "label_column": EVIL}, data_note=EVIL,
        generated_by={"mode": EVIL, "code_model": EVIL, "knowledge_model": EVIL, "knowledge_type": EVIL,
                      "created": EVIL, "run_id": EVIL, "cost_usd": 0.1, "llm_calls": EVIL},
        timings_s={EVIL: 1.0}, sandbox={EVIL: EVIL}, sandbox_note=EVIL,
        zero_shot_estimate={"usd": 1.0, "rows": EVIL, "model": EVIL, "token_method": EVIL,
                            "output_assumption": EVIL, "times_more": EVIL},
        programs=[{"name": EVIL, "status": EVIL, "reason": EVIL, "errors": {EVIL: 2}, "error_samples": [EVIL],
                   "source": evil_source, "coverage": 0.5, "valid_accuracy": 0.7, "valid_support": EVIL},
                  {"name": "human_01", "status": "ok", "source": None}],
        label_model={"name": EVIL, "reason": EVIL, "requested": EVIL, "train_distribution": {EVIL: 0.4, "b": 0.6},
                     "test_per_class": {"classes": {EVIL: {"precision": 1, "recall": 1, "f1": 1, "support": EVIL}},
                                        "confusion_matrix": [[1, 0], [0, 1]]}},
        valid_balance={EVIL: 0.5, "b": 0.5},
        disagreements=[{"id": EVIL, "text": EVIL, "votes": {EVIL: EVIL, "p2": "b"}, "label": EVIL, "gold": "b"}],
        agreement={"programs": [EVIL, "p2"], "rows": [[3, 2], [2, 3]], "share": [[1.0, 0.5], [0.5, 1.0]]})
    page = render_html(report)
    assert "<script" not in page.lower() and "<img" not in page.lower() and "\x1b" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;script&gt;alert(3)" in page
    tags = parse(page).tags
    assert {tag for tag, _ in tags} <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p",
                                        "b", "ul", "li", "section", "table", "tr", "th", "td", "span", "code",
                                        "pre", "details", "summary", "div", "br"}
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]  # no attribute broke out
    assert page.count("<details>") == 2 and "No source" in page  # human votes have no source
    assert "default-src &#x27;none&#x27;" in page or "default-src 'none'" in page  # CSP: no script, no fetch


def test_long_program_names_are_cut_with_the_whole_name_in_a_tooltip():
    long, longest = "lf_" + "very_long_program_name_" * 7, "lf_" + "x" * 5000
    page = render_html(minimal_report(programs=[
        {"name": name, "status": "ok", "coverage": 0.9, "valid_accuracy": 0.8, "valid_support": 12}
        for name in (long, longest)]))
    assert f'<span class="name" title="{long}">{long}</span>' in page
    (table,) = parse(page).tables["programs"]
    assert table[1][0] == long and table[1][2].endswith("0.900") and table[1][5].endswith("0.800")  # own cells
    assert table[2][0] == longest[:199] + "…" and "x" * 201 not in page  # a huge name is clipped first


def test_a_report_with_no_programs_and_no_scores_renders():
    for report in ({"dataset": "x", "programs": []},
                   minimal_report(status="failed", error="boom", label_model={}, distilled={}, agreement={},
                                  disagreements=[])):
        page = render_html(report)
        for section in ("status", "run", "scores", "per-class", "confusion", "balance", "programs",
                        "disagreements", "agreement"):
            assert f'id="{section}"' in page
        assert "No programs." in page and "No per-class scores" in page
    assert "Status: failed</b> — boom" in page


def test_the_manifest_names_mode_models_and_knowledge(tmp_path):
    manifest = {"mode": "alchemist", "created": "2026-01-02T03:04:05+00:00", "run_id": "r1",
                "config": {"mode": "alchemist", "code_model": {"name": "gpt-x", "provider": "openai"},
                           "knowledge_model": {"name": "gpt-k", "provider": "anthropic"}, "knowledge_type": "rules"},
                "totals": {"llm_calls": 12, "cost_usd": 0.25}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert read_manifest(tmp_path / "absent") is None
    made = generated_by(read_manifest(tmp_path))
    assert made["code_model"] == "gpt-x (openai)" and made["knowledge_type"] == "rules"
    run = rows_by_first_cell(parse(render_html(minimal_report(generated_by=made))).tables["run"][0])
    assert run["mode"] == ["alchemist"] and run["knowledge model"] == ["gpt-k (anthropic)"]
    assert "$0.2500" in run["cost"][0] and "2026-01-02" in run["programs written"][0]


def test_agreement_counts_only_rows_both_vote():
    L = np.array([[0, 0, -1], [1, 0, -1], [1, 1, -1], [-1, 1, -1]], dtype=np.int8)
    a = agreement(L, ["a", "b", "silent"], 2)
    assert a["programs"] == ["a", "b"]  # a program that never votes is left out
    assert a["rows"] == [[3, 3], [3, 4]] and a["share"][0][1] == pytest.approx(2 / 3, abs=1e-4)


# --- the page of a real run -----------------------------------------------------------------------
def _demo_arrays(out: Path) -> tuple[dict, list[dict]]:
    npz = np.load(out / "label_matrix.npz")
    with open(out / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: npz[k] for k in npz.files}, rows


def test_demo_page_sections_hold_the_runs_numbers(demo_run):
    report, out = demo_run
    page = (out / "report.html").read_text()
    tables = parse(page).tables
    lm, dist, classes = report["label_model"], report["distilled"], report["classes"]
    # run info: mode-less apply, today's date, no LLM cost
    run = rows_by_first_cell(tables["run"][0])
    assert run["dataset"] == ["demo"] and run["command"] == [report["command_line"]] and report["command_line"].startswith("python main.py apply ") and run["date"] == [report["date"]]
    assert "no manifest.json" in run["written by"][0] and run["cost"] == ["$0: no LLM call"]
    # scores
    scores = rows_by_first_cell(tables["scores"][0])
    assert scores[f"label model ({lm['name']})"] == [f"{lm['valid']:.3f}", f"{lm['test']:.3f}"]
    # per class: precision / recall / F1 of both models, support from test
    per_class = rows_by_first_cell(tables["per-class"][0][2:])
    for c in classes:
        want = [str(lm["test_per_class"]["classes"][c]["support"])] + [
            f"{part['classes'][c][k]:.3f}" for part in (lm["test_per_class"], dist["per_class"])
            for k in ("precision", "recall", "f1")]
        assert per_class[c] == want
    # confusion matrices side by side, each summing to the test rows
    (lm_cm, dist_cm) = tables["confusion"]
    for table, matrix in ((lm_cm, lm["test_per_class"]["confusion_matrix"]), (dist_cm, dist["confusion_matrix"])):
        assert [[int(v) for v in row[1:]] for row in table[1:]] == matrix
        assert sum(map(sum, matrix)) == report["splits"]["test"]
    # predicted labels against valid's gold shares (counted here from the data file)
    gold = [row["label"] for row in json.loads((DEMO_DIR / "valid.json").read_text()).values()]
    balance = rows_by_first_cell(tables["balance"][0])
    for i, c in enumerate(classes):
        assert balance[c][0] == f"{gold.count(i) / len(gold):.3f}"
        assert balance[c][1] == f"{lm['train_distribution'][c]:.3f}"


def test_demo_page_programs_sources_and_valid_support(demo_run):
    report, out = demo_run
    page = (out / "report.html").read_text()
    matrices, rows = _demo_arrays(out)
    names = [str(n) for n in matrices["names"]]
    gold = np.array([int(r["gold"]) if r["gold"] else -1 for r in rows if r["split"] == "valid"])
    programs = rows_by_first_cell(parse(page).tables["programs"][0])
    for j, name in enumerate(names):
        support = int(((matrices["valid"][:, j] >= 0) & (gold >= 0)).sum())
        assert programs[name][6] == str(support)
        source = (DEMO_PROGRAMS / f"{name}.py").read_text()
        assert html.escape(source.strip()) in page  # the whole source, escaped, in its <details>
    assert page.count("<details>") == len(names)


def test_demo_page_disagreements_and_agreement_map(demo_run):
    report, out = demo_run
    page = (out / "report.html").read_text()
    tables = parse(page).tables
    matrices, rows = _demo_arrays(out)
    names, classes = [str(n) for n in matrices["names"]], report["classes"]
    L, train = matrices["train"], [r for r in rows if r["split"] == "train"]
    usable = [j for j, p in enumerate(report["programs"]) if p["status"] == "ok"]
    conflicting = [r for r in range(len(L)) if len({int(v) for v in L[r, usable] if v >= 0}) >= 2]
    shown = tables["disagreements"][0][1:]
    assert len(shown) == min(10, len(conflicting)) > 0
    for row_id, _text, votes, label, gold in shown:
        r = next(i for i, row in enumerate(train) if row["id"] == row_id)
        assert r in conflicting
        want = {}
        for j in usable:
            if L[r, j] >= 0:
                want.setdefault(classes[L[r, j]], []).append(names[j])
        assert votes == "\n".join(f"{c}: {', '.join(n)}" for c, n in want.items())
        assert label == train[r]["label_name"] and gold == classes[int(train[r]["gold"])]
    closeness = [sorted(np.bincount(L[r, usable][L[r, usable] >= 0], minlength=len(classes)))[-2]
                 for r in (next(i for i, row in enumerate(train) if row["id"] == s[0]) for s in shown)]
    assert closeness == sorted(closeness, reverse=True)  # the closest splits first
    # agreement: on rows both vote, the share voting the same class
    grid = tables["agreement"][0]
    for i, j in ((0, 1), (0, 4), (1, 3)):
        both = (L[:, i] >= 0) & (L[:, j] >= 0)
        cell = grid[i + 1][j + 1]
        assert cell == ("—" if not both.any() else f"{(L[both, i] == L[both, j]).mean():.2f}")


def test_no_test_split_still_renders(tmp_path):
    data = tmp_path / "notest"
    data.mkdir()
    for name in ("valid.json", "label.json", "task.json"):
        shutil.copy(DEMO_DIR / name, data / name)
    train = json.loads((DEMO_DIR / "train.json").read_text())
    for row in train.values():  # unlabeled train: no test split is held out of it
        row["label"] = None
    (data / "train.json").write_text(json.dumps(train))
    code = main.main(["apply", str(DEMO_PROGRAMS), "--dataset", str(data), "--seeds", "1", "--features", "tfidf",
                      "--label-model", "majority", "--out", str(tmp_path / "runs")])
    assert code == 0
    (out,) = (tmp_path / "runs").iterdir()
    page = (out / "report.html").read_text()
    assert page.index("no test split") < page.index('id="scores"')  # the warning comes first
    assert "No per-class scores: no test split" in page and page.count("None: no test split") == 2
    scores = rows_by_first_cell(parse(page).tables["scores"][0])
    assert scores["label model (majority)"][1] == "—"


# --- a real browser -------------------------------------------------------------------------------
@pytest.mark.slow
@needs_browser
def test_a_real_browser_renders_the_page(demo_run, tmp_path):
    report, out = demo_run
    dom = chromium(tmp_path, out / "report.html", "--dump-dom")
    lm = report["label_model"]
    assert "Alchemist report — demo" in dom and "Status: ok" in dom
    assert f"{lm['test']:.3f}" in dom and f"{report['distilled']['test_mean']:.3f}" in dom
    assert dom.count("<details>") == len(report["programs"]) and 'id="agreement"' in dom
    shot = tmp_path / "page.png"
    chromium(tmp_path, out / "report.html", f"--screenshot={shot}", "--window-size=1200,1600")
    from PIL import Image  # already installed with the stack; only read here

    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 50, "the page rendered blank"


@pytest.mark.slow
@needs_browser
def test_long_names_never_run_into_the_bars_in_a_browser(tmp_path):
    long = "lf_" + "a_very_long_and_descriptive_program_name_" * 6
    programs = [{"name": name, "status": "ok", "coverage": 0.6, "valid_accuracy": 0.7, "valid_support": 10}
                for name in (long, "lf_02", long + "_b")]
    page = render_html(minimal_report(programs=programs))
    probe = ("<script>let n = 0, hit = 0, cut = 0;"
             "for (const tr of document.querySelectorAll('table.programs tr')) {"
             " const name = tr.querySelector('.name'), bar = tr.querySelector('.bar');"
             " if (!name || !bar) continue; n++;"
             " const box = name.getBoundingClientRect(), text = document.createRange();"
             " text.selectNodeContents(name);"  # where the letters end, not just the box: what is seen
             " const right = getComputedStyle(name).overflowX === 'hidden'"
             "   ? Math.min(box.right, text.getBoundingClientRect().right) : text.getBoundingClientRect().right;"
             " if (right > bar.getBoundingClientRect().left) hit++;"
             " if (name.scrollWidth > name.clientWidth) cut++; }"
             "document.body.setAttribute('data-layout', n + ' ' + hit + ' ' + cut);</script></body>")
    test_page = tmp_path / "page.html"  # the page with its CSP lifted so the probe may run
    test_page.write_text(page.replace('http-equiv="Content-Security-Policy"', 'name="x"').replace("</body>", probe))
    dom = chromium(tmp_path, test_page, "--dump-dom", "--window-size=1000,800")
    assert 'data-layout="3 0 2"' in dom  # 3 rows, no name over a bar, the two long names cut


def test_invisible_characters_in_a_source_are_shown_not_dropped():
    """A zero-width space in a string, a form feed in an indent: dropped from the page, the code would read
    differently than it runs ("free" would look like the word it never matches)."""
    from alchemist.report.page_data import source_text

    source = 'def label_function(x):\n    if "fr\u200bee" not in x:\n    \x0c    return 1\n    return -1\n'
    page = render_html(minimal_report(programs=[{"name": "lf_01", "status": "ok", "source": source_text(source)}]))
    assert "fr\\u200bee" in page and "    \\x0c    return 1" in page
    assert "\u200b" not in page and "\x0c" not in page


def test_one_fit_shows_no_spread_and_refinement_names_its_score():
    from alchemist.report.console import refinement_line, render

    def report(scores):
        return minimal_report(programs_source="p", label_model={"name": "majority", "valid": 0.8, "test": 0.8},
                              majority_vote={"valid": 0.8, "test": 0.8},
                              distilled={"seeds": len(scores), "test_mean": 0.9, "test_std": 0.0, "scores": scores},
                              timings_s={"apply": 0, "label_model": 0, "distill": 0, "total": 0}, splits={"test": 9})

    for scores, shown in (([0.9], "0.900 ±"), ([0.9, 0.9], "0.900 ± 0.000")):
        out = io.StringIO()
        render(report(scores), out)
        assert (shown in out.getvalue()) == (len(scores) > 1) and (shown in render_html(report(scores))) == (
            len(scores) > 1)
    line = refinement_line({"rounds": 1, "guard": "g", "requests": [
        {"round": 1, "program": "lf_01", "weakness": "w", "status": "ok", "kept": "new", "old_score": 0.1,
         "new_score": 0.3}]})
    assert "votes above chance per row on the deciding half of valid: 0.100 -> 0.300" in line
