"""The distillation stage of a run: features (the images stage's CLIP embeddings for image data), then
distill/training.py chooses on valid and trains; the result is what report.json says of it."""

from __future__ import annotations

import time

import numpy as np

from alchemist.data.datasets import Dataset
from alchemist.distillation.embeddings import TextEncoder
from alchemist.distillation.gold import gold_only
from alchemist.distillation.training import (
    build_features,
    plan_features,
    predict_rows,
    stack_for,
    train,
    training_sample,
)
from alchemist.labeling.labels import Labels, uncalibrated_reason
from alchemist.pipeline.context import RunContext
from alchemist.pipeline.image_stage import ImageStage


class DistillStage:
    def __init__(self, ctx: RunContext, images: ImageStage):
        self.ctx = ctx
        self.images = images
        self._text_encoder: TextEncoder | None = None  # loaded only if embeddings are a candidate

    def encoder(self) -> TextEncoder:
        if self._text_encoder is None:
            c = self.ctx.config
            self._text_encoder = TextEncoder(self.ctx.settings.cache_root / "embeddings", model=c.embedding_model,
                                             device=c.device)
        return self._text_encoder

    def check_encoder(self) -> None:
        """A named embedding model or device that cannot load is one line now, before anything is spent."""
        c = self.ctx.config
        if c.distill and c.features in ("auto", "embeddings", "combined") and (c.embedding_model or c.device != "auto"):
            self.encoder().load()  # an EmbeddingError: one line

    def run(self, dataset: Dataset, labels: Labels) -> dict:
        """Distill; with several label models offered, the pair (training labels, features) best on valid
        wins. The run's labels stay those of the label model chosen on its own (each product is chosen
        on valid by its own score). Then the rows no program voted on get the model's label. The result's
        "model" is the fitted model (None without one)."""
        c = self.ctx.config
        result = {"seeds": c.seeds, "test_mean": None, "test_std": None, "scores": [], "trained_on": 0}
        if not c.distill:
            result["skipped"] = "--no-distill: no distilled model was trained"
            return result
        if "train" not in labels.probs:
            return result
        start = time.monotonic()
        data, options, rows = dataset, self._with_chosen(dataset, labels.options), None
        if dataset.modality == "image":
            sets = self.images.feature_sets(dataset)
        else:
            data, options, sampled, rows = training_sample(dataset, options)
            valid = data.get("valid")
            uncovered = [t for name, split in dataset.splits.items() if name in labels.covered
                         for t, hit in zip(split.texts, labels.covered[name], strict=True) if not hit]
            names, notes = plan_features(data, c.features, valid is not None and valid.has_labels, self.encoder(),
                                         uncovered)
            sets, built, embedding_s = build_features(data, names, self.encoder(), self.ctx.progress)
            self.ctx.warnings.extend([*([sampled] if sampled else []), *notes, *built])
            if embedding_s is not None:
                self.ctx.timings["embeddings"] = embedding_s
        silver = (dataset.gold_rows or {}).get("source") == "silver"  # for choices only: never trained on
        res = train(data, sets, options, c.seeds, self.ctx.progress, with_gold=not silver,
                    stack=stack_for(labels, sets, dataset.card.n_classes, rows))
        if res.model is not None:
            valid = data.get("valid")
            labels.calibrate_model(res.valid_probs, valid.labels if valid is not None else None,
                                   uncalibrated_reason(dataset))
            result["labeled_uncovered"] = self._label_uncovered(dataset, labels, res.model)
            if not silver:
                self._gold_baseline(data, sets, res, result)
        self.ctx.timings["distill"] = time.monotonic() - start
        if res.error:
            self.ctx.warn(f"no distilled model: {res.error}")
        embedded = any(s.features.name in ("embeddings", "combined") for s in sets)
        result.update(seeds=res.seeds, test_mean=res.mean, test_std=res.std, scores=res.scores,
                      trained_on=res.trained_on, per_class=res.per_class, valid=res.valid,
                      confusion_matrix=res.per_class["confusion_matrix"] if res.per_class else None,
                      features={"requested": "clip" if dataset.modality == "image" else c.features,
                                "chosen": res.features, "classifier": res.classifier, "labels": res.labels,
                                "candidates": res.candidates, "reason": res.reason, "selection": res.selection,
                                "embedding_model": self.encoder().description if embedded else
                                self.images.encoder().description if dataset.modality == "image" else None})
        result["model"] = res.model
        return result

    @staticmethod
    def _with_chosen(dataset: Dataset, options: dict) -> dict:
        """A person's answers to chosen train rows replace the programs' labels there (training only)."""
        gold = dataset.train_gold
        if gold is None:
            return options
        return {name: np.where(gold >= 0, gold, labels) for name, labels in options.items()}

    def _gold_baseline(self, data: Dataset, sets, res, result: dict) -> None:
        """The same features and classifier on valid's gold rows alone, beside the distilled model; when the
        programs do not beat it on test, the report says so first."""
        valid, test = data.get("valid"), data.get("test")
        chosen = next((s for s in sets if s.features.name == res.features), None)
        if chosen is None or valid is None or not valid.has_labels:
            return
        known = next((c["valid"] for c in res.candidates if c["labels"] == "gold only" and c["features"] == res.features),
                     None)  # the choice cross-fitted it already
        with self.ctx.progress.stage("Gold labels alone (the baseline)", total=None, unit="steps"):
            gold = gold_only(chosen, valid.labels, test.labels if test is not None and test.has_labels else None,
                             data.card.classes, self.ctx.config.seeds, data.card.metric, data.card.positive_class,
                             valid_cv=known)
        if gold is None:
            return
        result["gold_only"] = gold.to_dict()
        if gold.mean is not None and res.mean is not None:
            result["gold_only"]["difference"] = round(res.mean - gold.mean, 4)
            if res.mean <= gold.mean:
                self.ctx.warnings.insert(0, f"the programs do not beat the gold labels you already have: a "
                                            f"{gold.classifier} trained on the {gold.rows:,} gold rows of valid "
                                            f"alone scores {gold.mean:.3f} on test, the distilled model "
                                            f"{res.mean:.3f}")

    def _label_uncovered(self, dataset: Dataset, labels: Labels, model) -> int:
        """The distilled model labels the rows no program voted on (labels.csv marks them), a chunk at a time."""
        count = 0
        for name, split in dataset.splits.items():
            rows = np.flatnonzero(~labels.covered[name]) if name in labels.covered else np.arange(0)
            if not len(rows):
                continue
            if dataset.modality == "image":
                probs = model.proba_of(self.images.vectors[name][rows])
            else:
                probs = predict_rows(model, [split.texts[r] for r in rows], self.ctx.progress,
                                     f"Labeling {len(rows):,} {name} rows no program voted on")
            labels.by_model[name] = (rows, probs)
            count += len(rows)
        return count
