"""Progress lines off a terminal, and the HTML report."""

from __future__ import annotations

import io

from alchemist.progress import PlainProgress, make_progress
from alchemist.report_html import render_html


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


def test_html_report_has_plots_and_confusion_matrix():
    report = {
        "dataset": "demo", "metric": "acc", "classes": ["ham", "spam"], "status": "ok",
        "programs_source": "runs/x", "output_dir": "runs/x/results/1", "coverage": 0.9, "overlap": 0.5,
        "conflict": 0.1, "llm_calls": 4, "cached_calls": 1, "cost_usd": 0.0012, "run_dir": "runs/x",
        "programs": [{"name": "lf_01", "status": "ok", "coverage": 0.5, "valid_accuracy": 0.9, "errors": {}},
                     {"name": "lf_<2>", "status": "rejected", "reason": "import of 'os' <not allowed>",
                      "coverage": 0.0, "valid_accuracy": None, "errors": {}}],
        "label_model": {"name": "snorkel", "valid": 0.8, "test": 0.85},
        "majority_vote": {"valid": 0.7, "test": 0.75},
        "distilled": {"seeds": 2, "test_mean": 0.8, "test_std": 0.01, "confusion_matrix": [[40, 2], [5, 53]]},
        "warnings": ["something <odd>"],
    }
    html = render_html(report)
    assert html.count("<svg") == 1 and html.count('class="cov"') == 2 and html.count('class="acc"') == 2
    assert ">53</td>" in html and "gold \\ predicted" in html
    assert "lf_&lt;2&gt;" in html and "&lt;not allowed&gt;" in html and "<odd>" not in html  # escaped
    assert "0.850" in html and "$0.0012" in html
