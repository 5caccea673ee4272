"""The distillation stage of a run: features (the images stage's CLIP embeddings for image data), then
distill/training.py chooses on valid and trains; the result is what report.json says of it."""

from __future__ import annotations

import time

from alchemist.data.datasets import Dataset
from alchemist.distillation.embeddings import TextEncoder
from alchemist.distillation.training import build_features, train
from alchemist.labeling.labels import Labels
from alchemist.pipeline.context import RunContext
from alchemist.pipeline.image_stage import ImageStage


class DistillStage:
    def __init__(self, ctx: RunContext, images: ImageStage):
        self.ctx = ctx
        self.images = images
        self._text_encoder: TextEncoder | None = None  # loaded only if embeddings are a candidate

    def encoder(self) -> TextEncoder:
        if self._text_encoder is None:
            self._text_encoder = TextEncoder(self.ctx.settings.cache_root / "embeddings")
        return self._text_encoder

    def run(self, dataset: Dataset, labels: Labels) -> dict:
        """Distill; with several label models offered, the pair (training labels, features) best on valid
        wins. The run's labels stay those of the label model chosen on its own (each product is chosen
        on valid by its own score). The result's "model" is the fitted model (None without one)."""
        c = self.ctx.config
        result = {"seeds": c.seeds, "test_mean": None, "test_std": None, "scores": [], "trained_on": 0}
        if "train" not in labels.probs:
            return result
        valid = dataset.get("valid")
        start = time.monotonic()
        if dataset.modality == "image":
            sets = self.images.feature_sets(dataset)
        else:
            sets, notes, embedding_s = build_features(dataset, c.features, valid is not None and valid.has_labels,
                                                      self.encoder(), self.ctx.progress)
            self.ctx.warnings.extend(notes)
            if embedding_s is not None:
                self.ctx.timings["embeddings"] = embedding_s
        res = train(dataset, sets, labels.options, c.seeds, self.ctx.progress)
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
