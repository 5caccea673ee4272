"""Confidence that means what it says: a label's confidence mapped to how often such labels are right.

A model's top probability (the label model's, or the distilled model's) is mapped to the chance that its
label is correct, learned from valid's gold rows: a logistic fit on the probability's logit (smooth and
monotone: a tied vote stays less sure than a unanimous one) or, with enough rows, isotonic regression —
or the model's own probability, whichever predicts best when cross-fitted (Brier score). Cross-fitting also gives the figures
shown: every valid row's calibrated confidence comes from a calibrator fitted on the other folds, so the
expected calibration error (ECE) "after" is never measured on rows the calibrator saw. The calibrator
the run keeps is fitted on all of them. Without enough gold rows the confidence stays the model's own
and is said to be uncalibrated.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

MIN_ROWS = 30  # fewer gold rows than this: a calibrator would be noise
ISOTONIC_MIN_ROWS = 200  # isotonic steps merge rare confidences (a tie) into common ones below this
FOLDS = 5
BINS = 10
EPS = 1e-4


@dataclass
class Calibrator:
    """Maps top probabilities to calibrated confidences (the chance the label is right)."""

    method: str  # "isotonic" | "logistic"
    model: object

    def __call__(self, confidence: np.ndarray) -> np.ndarray:
        x = np.asarray(confidence, dtype=float)
        out = np.full(x.shape, np.nan)
        ok = ~np.isnan(x)
        if ok.any():
            out[ok] = _predict(self.method, self.model, x[ok])
        return out


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p)).reshape(-1, 1)


def _fit(method: str, confidence: np.ndarray, correct: np.ndarray):
    if method == "none":
        return None
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(confidence, correct)
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(correct)) < 2:  # always right (or always wrong) on these rows
        return float(correct.mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegression(C=100.0).fit(_logit(confidence), correct)


def _predict(method: str, model, confidence: np.ndarray) -> np.ndarray:
    if method == "none":
        return np.asarray(confidence, float)
    if isinstance(model, float):
        return np.full(len(confidence), model)
    if method == "isotonic":
        return np.clip(model.predict(confidence), 0.0, 1.0)
    return model.predict_proba(_logit(confidence))[:, 1]


def reliability(confidence: np.ndarray, correct: np.ndarray, bins: int = BINS) -> tuple[float, list[dict]]:
    """Expected calibration error and the reliability table: per confidence bin, its rows, mean confidence
    and observed accuracy (empty bins are left out)."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        rows = which == b
        if not rows.any():
            continue
        conf, acc = float(confidence[rows].mean()), float(correct[rows].mean())
        ece += rows.mean() * abs(conf - acc)
        table.append({"low": round(float(edges[b]), 2), "high": round(float(edges[b + 1]), 2),
                      "rows": int(rows.sum()), "confidence": round(conf, 4), "accuracy": round(acc, 4)})
    return round(float(ece), 4), table


def calibrate(probs: np.ndarray, gold: np.ndarray, rows: np.ndarray | None = None, seed: int = 0
              ) -> tuple[Calibrator | None, dict]:
    """Fit a calibrator of `probs`' top probability on the gold rows (`rows`: which of them may be used, e.g.
    the rows some program voted on, or rows a model did not learn from). Returns it (None when there are
    too few rows) and what the report shows: rows, method, ECE and reliability table before and after."""
    probs, gold = np.asarray(probs, float), np.asarray(gold)
    use = (gold >= 0) & ~np.isnan(probs).any(axis=1)
    if rows is not None:
        use &= rows
    n = int(use.sum())
    if n < MIN_ROWS:
        return None, {"rows": n, "calibrated": False,
                      "reason": f"{n} gold rows to calibrate on, fewer than {MIN_ROWS}: the confidence is the "
                                "model's own probability, uncalibrated"}
    confidence = probs[use].max(axis=1)
    correct = (probs[use].argmax(axis=1) == gold[use]).astype(float)
    folds = np.random.default_rng(seed).permutation(n) % FOLDS
    out_of_fold, brier = {}, {}
    for method in ("none", "logistic", *(("isotonic",) if n >= ISOTONIC_MIN_ROWS else ())):
        oof = np.empty(n)
        for f in range(FOLDS):
            held = folds == f
            oof[held] = _predict(method, _fit(method, confidence[~held], correct[~held]), confidence[held])
        out_of_fold[method], brier[method] = oof, float(np.mean((oof - correct) ** 2))
    method = min(brier, key=lambda m: (brier[m], m != "none"))  # a tie keeps the model's own probability
    final = _fit(method, confidence, correct)
    if method == "logistic" and not isinstance(final, float) and final.coef_[0, 0] <= 0:
        method, final = "none", None  # surer must never mean less likely right
    ece_before, bins_before = reliability(confidence, correct)
    ece_after, bins_after = reliability(out_of_fold[method], correct)
    report = {"rows": n, "calibrated": True, "method": method, "folds": FOLDS,
              "ece_before": ece_before, "ece_after": ece_after, "accuracy": round(float(correct.mean()), 4),
              "bins_before": bins_before, "bins_after": bins_after,
              **({"note": "the model's own probabilities predicted best on cross-fitting: kept as they are"}
                 if method == "none" else {})}
    return (None if method == "none" else Calibrator(method, final)), report
