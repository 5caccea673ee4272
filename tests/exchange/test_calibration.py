"""Calibrated confidence: cross-fitted figures, a calibrator that fixes over-confidence, honest refusals."""

from __future__ import annotations

import numpy as np

from alchemist.labeling.calibration import MIN_ROWS, calibrate, reliability


def overconfident(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two classes; the model says 0.95 for everything but is right 70% of the time."""
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 2, n)
    right = rng.random(n) < 0.7
    predicted = np.where(right, gold, 1 - gold)
    probs = np.full((n, 2), 0.05)
    probs[np.arange(n), predicted] = 0.95
    return probs, gold


def test_over_confidence_is_corrected_and_the_after_figure_is_cross_fitted():
    probs, gold = overconfident(400)
    calibrator, report = calibrate(probs, gold)
    assert report["calibrated"] and report["rows"] == 400
    assert report["ece_before"] > 0.2 and report["ece_after"] < 0.06
    assert abs(float(calibrator(np.array([0.95]))[0]) - 0.7) < 0.06
    assert sum(b["rows"] for b in report["bins_after"]) == 400


def test_too_few_gold_rows_leave_the_confidence_uncalibrated_and_say_why():
    probs, gold = overconfident(MIN_ROWS - 1)
    calibrator, report = calibrate(probs, gold)
    assert calibrator is None and not report["calibrated"] and "uncalibrated" in report["reason"]


def test_rows_without_gold_or_outside_the_mask_are_not_learned_from():
    probs, gold = overconfident(200)
    gold[:100] = -1
    mask = np.ones(200, bool)
    mask[150:] = False
    _, report = calibrate(probs, gold, mask)
    assert report["rows"] == 50


def test_reliability_bins_hold_mean_confidence_and_observed_accuracy():
    ece, table = reliability(np.array([0.55, 0.55, 0.95, 0.95]), np.array([1, 0, 1, 1]))
    assert [(b["rows"], b["accuracy"]) for b in table] == [(2, 0.5), (2, 1.0)]
    assert abs(ece - (0.5 * 0.05 + 0.5 * 0.05)) < 1e-6


def test_a_tie_stays_less_sure_than_a_unanimous_vote_even_when_ties_are_rare():
    rng = np.random.default_rng(1)
    n = 60
    top = np.where(np.arange(n) < 3, 0.5, 1.0)  # 3 ties among 57 unanimous rows
    probs = np.stack([top, 1 - top], axis=1)
    gold = np.where(rng.random(n) < np.where(top == 1.0, 0.9, 0.5), 0, 1)
    calibrator, report = calibrate(probs, gold)
    assert report["method"] in ("logistic", "none")  # too few rows for isotonic's steps
    tie, unanimous = calibrator(np.array([0.5, 1.0])) if calibrator else (0.5, 1.0)
    assert tie < unanimous


def test_calibration_that_would_not_help_keeps_the_models_own_probability():
    rng = np.random.default_rng(2)
    n = 400
    conf = rng.uniform(0.5, 1.0, n)
    probs = np.stack([conf, 1 - conf], axis=1)
    gold = np.where(rng.random(n) < conf, 0, 1)  # already calibrated
    calibrator, report = calibrate(probs, gold)
    assert report["method"] == "none" or report["ece_after"] <= report["ece_before"] + 0.02
    if report["method"] == "none":
        assert calibrator is None and "kept as they are" in report["note"]
