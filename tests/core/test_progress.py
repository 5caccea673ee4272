"""Progress lines say what a person expects: counts in words, rates that are never '0 fits/s', no '0/?' for
work of unknown size, and the cost still on the line after it ends."""

from __future__ import annotations

import io
import time

from alchemist.core.progress import PlainProgress, RichProgress, plural


def test_counts_are_in_words():
    assert plural(1, "program") == "1 program" and plural(2, "program") == "2 programs"
    assert plural(1200, "row") == "1,200 rows"


def test_slow_work_is_seconds_each_not_zero_per_second():
    out = io.StringIO()
    with PlainProgress(out, every=0.0).stage("Distilling", total=3, unit="fits") as stage:
        stage.start -= 9.0  # three fits over nine seconds
        stage.advance(3)
    text = out.getvalue()
    assert "0 fits/s" not in text and "s per fit" in text


def test_rich_lines_keep_the_cost_and_never_show_a_count_of_unknown_size():
    out = io.StringIO()
    progress = RichProgress(out)
    progress.console.width = 200
    with progress.stage("Label model (auto)", total=None, unit="steps"):
        time.sleep(0.01)
    with progress.stage("Writing 2 programs", total=2, unit="programs") as stage:
        stage.note("0 in flight, 2 calls done (0 cached), 1,234 tokens, $0.0012")
        stage.advance(1)
        stage.advance(1)  # advancing must not wipe the note
    text = out.getvalue()
    assert "0/?" not in text and "Label model (auto)" in text
    assert "2/2" in text and "$0.0012" in text.split("Writing 2 programs")[-1]


def test_a_report_with_no_model_says_none_was_trained():
    from alchemist.report.console import distilled_label

    assert distilled_label({"seeds": 5, "trained_on": 300, "test_mean": None}) == "distilled model (none trained)"


def test_a_count_past_the_total_never_shows_past_100_percent():
    out = io.StringIO()
    with PlainProgress(out, every=0.0).stage("Embedding texts", total=10, unit="rows") as stage:
        stage.advance(8)
        stage.advance(5)  # a caller counted more than it announced
    assert "13/10" not in out.getvalue() and "(130%)" not in out.getvalue() and "10/10 rows (100%)" in out.getvalue()
    rich = io.StringIO()
    progress = RichProgress(rich)
    progress.console.width = 200
    with progress.stage("Embedding texts", total=10, unit="rows") as stage:
        stage.advance(13)
    assert "13/10" not in rich.getvalue() and "10/10" in rich.getvalue()
