"""From votes to labels: vetting on valid, then the label model (chosen on valid with `auto`), with the
majority vote always beside it. The one place that decides how a run's labels are made; the executor
and the public API (`alchemist.label`) both call it.

Test labels are only ever scored. A run whose programs voted on nothing, or gave every labeled row one
class, has "no signal": its labels are kept but no score is shown (a score would measure nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from alchemist.core.progress import NullProgress, Progress
from alchemist.data.datasets import Dataset
from alchemist.labeling.calibration import Calibrator, calibrate
from alchemist.labeling.choice import choose, valid_proba
from alchemist.labeling.label_models import MajorityVote
from alchemist.labeling.metrics import class_balance, distribution, per_class, score
from alchemist.labeling.vetting import MIN_SUPPORT, Verdict, vet
from alchemist.programs.votes import Votes


@dataclass
class Labels:
    """What the label model made of the votes: class probabilities of every split, scores, the choice."""

    probs: dict[str, np.ndarray] = field(default_factory=dict)  # split -> (n_rows, n_classes)
    label_model: dict = field(default_factory=dict)  # name, requested, reason, candidates, valid/test scores
    majority_vote: dict = field(default_factory=lambda: {"valid": None, "test": None})
    options: dict[str, np.ndarray] = field(default_factory=dict)  # label model -> train labels to distill from
    covered: dict[str, np.ndarray] = field(default_factory=dict)  # split -> rows some usable program voted on
    votes: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # split -> the usable programs' votes
    no_signal: str = ""  # why the scores mean nothing ("" when they do)
    warnings: list[str] = field(default_factory=list)
    by_model: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # split -> (rows, probs):
    # the distilled model's labels of the rows no program voted on, once there is a distilled model
    calibrators: dict[str, Calibrator] = field(default_factory=dict, repr=False)  # "programs" / "distilled model"
    calibration: dict = field(default_factory=dict)  # "label_model" / "distilled": what report.json shows

    def __repr__(self) -> str:
        lm = self.label_model
        return (f"Labels(label model {lm.get('name')!r}: valid {lm.get('valid')}, test {lm.get('test')}; "
                f"covered rows: {', '.join(f'{k} {int(v.sum()):,}' for k, v in self.covered.items()) or 'none'}"
                + (f"; no signal: {self.no_signal}" if self.no_signal else "") + ")")

    def final(self, split: str, n_rows: int, person: np.ndarray | None = None, calibrated: bool = True
              ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Every row's label, confidence and where the label came from: the label model where a program
        voted ("programs"), the distilled model where none did ("distilled model"), a person's answer
        where `person` has one ("person"), else -1 / nan / "". The confidence is calibrated on valid's
        gold rows where that was possible (see calibration.py), else the model's own top probability."""
        label, confidence = np.full(n_rows, -1), np.full(n_rows, np.nan)
        source = [""] * n_rows
        probs = self.probs.get(split)
        if probs is not None:
            covered = self.covered[split]
            label[covered], confidence[covered] = probs[covered].argmax(1), self._confidence(probs[covered],
                                                                                              "programs", calibrated)
            for r in np.flatnonzero(covered):
                source[r] = "programs"
        if split in self.by_model:
            rows, model_probs = self.by_model[split]
            label[rows] = model_probs.argmax(1)
            confidence[rows] = self._confidence(model_probs, "distilled model", calibrated)
            for r in rows:
                source[r] = "distilled model"
        if person is not None:  # a person answered these train rows (annotate's chosen pool)
            for r in np.flatnonzero(person >= 0):
                label[r], confidence[r], source[r] = person[r], 1.0, "person"
        return label, confidence, source

    def _confidence(self, probs: np.ndarray, source: str, calibrated: bool) -> np.ndarray:
        top = probs.max(1) if len(probs) else np.zeros(0)
        calibrator = self.calibrators.get(source) if calibrated else None
        return calibrator(top) if calibrator is not None else top

    def calibrate_model(self, valid_probs: np.ndarray | None, gold: np.ndarray | None, why_not: str = "") -> None:
        """The distilled model's confidence, calibrated on valid rows it did not learn from (`valid_probs`:
        NaN rows were not predicted out of sample)."""
        if valid_probs is None or gold is None or why_not:
            self.calibration["distilled"] = _uncalibrated(why_not or "no valid rows the distilled model did not "
                                                                     "learn from, with gold labels")
            return
        calibrator, self.calibration["distilled"] = calibrate(valid_probs, gold)
        if calibrator is not None:
            self.calibrators["distilled model"] = calibrator

    def frame(self, dataset: Dataset, split: str = "train"):
        """One split's labels as a pandas DataFrame: id, text, label, label_name, confidence, covered, gold,
        label_source (labels.csv's columns): rows no program voted on get the distilled model's label when
        there is one, marked "distilled model"; else label -1 and no confidence. Train rows a person
        answered (annotate's chosen pool) get that answer, marked "person"."""
        import pandas as pd

        rows = dataset.splits[split]
        label, confidence, source = self.final(split, len(rows), dataset.train_gold if split == "train" else None)
        return pd.DataFrame({"id": rows.ids, "text": rows.texts, "label": label,
                             "label_name": [dataset.card.classes[k] if k >= 0 else "" for k in label],
                             "confidence": confidence,
                             "covered": self.covered.get(split, np.zeros(len(rows), bool)),
                             "gold": rows.labels, "label_source": source})

    def label_of(self, split: str) -> np.ndarray:
        """Class ids of a split's rows, -1 where no program voted."""
        probs = self.probs.get(split)
        if probs is None:
            return np.full(len(self.covered.get(split, [])), -1)
        return np.where(self.covered[split], probs.argmax(1), -1)


def vet_votes(votes: Votes, dataset: Dataset, leave_out: bool = True) -> tuple[list[Verdict], list[str]]:
    """A verdict per program on valid; with `leave_out`, duplicates, programs without votes and ones no
    better than chance get that status (and are left out of the label model). Returns the warnings too."""
    train = votes.matrices.get("train")
    if train is None:
        return [], []
    valid = dataset.get("valid")
    verdicts = vet(train, votes.matrices.get("valid"), valid.labels if valid is not None else None,
                   dataset.card.n_classes, votes.names)
    if not leave_out:
        return verdicts, []
    usable = votes.usable
    judging = valid is not None and valid.has_labels and "valid" in votes.matrices
    for i, v in enumerate(verdicts):
        if i in usable and v.status != "ok":
            votes.statuses[i], votes.reasons[i] = v.status, v.reason
        elif i in usable and judging and not v.judged and not votes.reasons[i]:
            votes.reasons[i] = (f"unjudged: {v.valid_support} labeled valid vote(s), fewer than {MIN_SUPPORT}; "
                                "it cannot outweigh a judged program")
    below = [i for i in usable if verdicts[i].status == "below chance"]
    if usable and not votes.usable and below:  # every program vetted out: keep the distinct ones that vote
        for i in below:
            votes.statuses[i], votes.reasons[i] = "ok", ""
        return verdicts, ["every program is no better than chance on valid: they label this run anyway"]
    return verdicts, []


def make_labels(votes: Votes, dataset: Dataset, requested: str = "auto", progress: Progress | None = None) -> Labels:
    """Choose (on valid) and fit the label model over the usable programs; score it and the majority vote
    on valid and test; offer the train labels of the label models close on valid for distillation."""
    card, cols = dataset.card, votes.usable
    out = Labels(label_model={"name": requested, "requested": requested, "valid": None, "test": None})
    if not cols:
        _no_signal(out, "no usable program (every program was rejected, failed or was left out): no label model, "
                        "no labels, no distilled model")
        return out
    if not any((L[:, cols] >= 0).any() for L in votes.matrices.values()):
        _no_signal(out, "no program voted on any row (every answer was an abstain)")
        return out
    valid = dataset.get("valid")
    balance = class_balance(valid.labels, card.n_classes) if valid is not None else None
    train_L = votes.matrices["train"][:, cols]
    valid_L = votes.matrices["valid"][:, cols] if "valid" in votes.matrices else None
    with (progress or NullProgress()).stage(f"Label model ({requested})", total=None, unit="steps"):
        choice = choose(requested, train_L, valid_L, valid.labels if valid is not None else None,
                        card.n_classes, card.metric, card.positive_class, balance)
    if choice.name != requested and requested != "auto":
        out.warnings.append(choice.reason)
    out.label_model.update(reason=choice.reason, candidates=choice.candidates)
    _fill(out, votes, dataset, choice.name, choice.model)
    _calibrate(out, dataset, choice, valid_L, balance)
    # The train labels to distill from: with auto, label models close on valid compete there too.
    out.options = (choice.finalists(train_L) if requested == "auto" else {choice.name: out.label_of("train")})
    given = np.unique(out.probs["train"].argmax(1)[out.covered["train"]])
    if len(given) == 1:
        _no_signal(out, f"every labeled row got one class ({card.classes[int(given[0])]}): scores would only "
                        "measure how common that class is")
        for part in (out.label_model, out.majority_vote):
            part.update(valid=None, test=None)
            part.pop("valid_per_class", None)
            part.pop("test_per_class", None)  # no per-class scores of nothing either
    return out


def uncalibrated_reason(dataset: Dataset) -> str:
    """Why confidences cannot be calibrated on this data ("" when they can)."""
    valid = dataset.get("valid")
    if valid is None or not valid.has_labels:
        return "no gold labels in valid: the confidence is the model's own probability, uncalibrated"
    if (dataset.gold_rows or {}).get("source") == "silver":
        return "valid holds silver rows (LLM labels), not gold: the confidence is uncalibrated"
    return ""


def _uncalibrated(reason: str) -> dict:
    return {"rows": 0, "calibrated": False, "reason": reason}


def _calibrate(out: Labels, dataset: Dataset, choice, valid_L: np.ndarray | None, balance) -> None:
    """The label model's confidence calibrated on the covered gold rows of valid (cross-fitted figures)."""
    why = uncalibrated_reason(dataset) or ("" if valid_L is not None else "no votes on valid")
    if why:
        out.calibration["label_model"] = _uncalibrated(why)
        return
    valid = dataset.splits["valid"]
    probs = valid_proba(choice.name, choice.model, valid_L, valid.labels, dataset.card.n_classes, balance)
    calibrator, out.calibration["label_model"] = calibrate(probs, valid.labels, out.covered["valid"])
    if calibrator is not None:
        out.calibrators["programs"] = calibrator


def _no_signal(out: Labels, why: str) -> None:
    out.no_signal = why
    out.warnings.insert(0, f"{why}; no scores are shown")


def _fill(out: Labels, votes: Votes, dataset: Dataset, name: str, model) -> None:
    """Probabilities of every split from label model `name`, and its scores (majority vote's beside)."""
    card, cols = dataset.card, votes.usable
    mv = MajorityVote(card.n_classes)
    out.label_model["name"] = name
    for split_name, L in votes.matrices.items():
        probs = model.predict_proba(L[:, cols])
        out.probs[split_name] = probs
        out.votes[split_name] = L[:, cols]
        out.covered[split_name] = (L[:, cols] >= 0).any(axis=1)
        if split_name == "train":  # what the distilled model learns from: the covered rows' labels
            out.label_model["train_distribution"] = distribution(probs.argmax(1)[out.covered["train"]],
                                                                 card.classes)
        if split_name in ("valid", "test"):
            split = dataset.splits[split_name]
            predicted = probs.argmax(1)
            out.label_model[split_name] = score(split.labels, predicted, card.metric, card.positive_class)
            out.label_model[f"{split_name}_per_class"] = per_class(split.labels, predicted, card.classes)
            out.majority_vote[split_name] = score(split.labels, mv.predict(L[:, cols]), card.metric,
                                                  card.positive_class)
