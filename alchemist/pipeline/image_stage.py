"""The image stages of a run: CLIP image embeddings, concepts, concept scores, CLIP features, groups.

A stage object of `Executor` (which alone orders the stages). Images are embedded once, before any
LLM call (an unreadable image stops the run before anything is spent); the concepts — from the
knowledge LLM, a --concepts file, or a run folder's concepts.json — then turn the embeddings into one
dict of concept scores per image, which is what the labeling programs receive in the sandbox.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from alchemist.core.errors import AlchemistError
from alchemist.core.progress import plural
from alchemist.data.datasets import SPLITS, Dataset
from alchemist.images import concepts as concept_files
from alchemist.labeling.labels import Labels
from alchemist.labeling.metrics import group_scores
from alchemist.pipeline.context import RunContext
from alchemist.sandbox.rows import ScoreRows


class ImageStage:
    def __init__(self, ctx: RunContext):
        self.ctx = ctx
        self._clip = None  # the CLIP encoder, loaded when first needed (text runs never load it)
        self.vectors: dict[str, np.ndarray] | None = None  # each split's image embeddings, once embedded

    def encoder(self):
        from alchemist.images.clip import ClipEncoder

        if self._clip is None:
            self._clip = ClipEncoder(self.ctx.config.clip_model, self.ctx.settings.cache_root / "clip",
                                     self.ctx.config.device)
        return self._clip

    def embed(self, dataset: Dataset) -> None:
        """Every image's CLIP embedding (from the cache, or computed once and cached)."""
        encoder = self.encoder()
        splits = [s for s in SPLITS if dataset.get(s) is not None]
        todo = sum(encoder.missing(dataset.get(s).texts) for s in splits)
        start = time.monotonic()
        total = sum(len(dataset.get(s)) for s in splits)
        title = (f"Embedding {plural(todo, 'image')} ({encoder.description})" if todo
                 else f"Reading {plural(total, 'image')}' embeddings from the cache")
        with self.ctx.progress.stage(title, total=todo or None, unit="images") as stage:
            self.vectors = {s: encoder.images(dataset.get(s).texts, stage.advance if todo else None)
                                   for s in splits}
        self.ctx.timings["embeddings"] = time.monotonic() - start

    def concepts_of(self, programs_dir: Path | None) -> list[str]:
        """The concepts of an `apply`: --concepts FILE, else the programs' own concepts.json."""
        c = self.ctx.config
        if c.concepts_path is not None:
            return concept_files.load(c.concepts_path)
        if programs_dir is None:
            raise AlchemistError("an image dataset needs concepts: --concepts FILE (a JSON list of strings)")
        return concept_files.load(Path(programs_dir) / concept_files.FILE)

    def score(self, dataset: Dataset, concepts: list[str]) -> None:
        """Each image's similarity to each concept: what the programs are called with."""
        if self.vectors is None:
            self.embed(dataset)
        encoder = self.encoder()
        dataset.concepts = list(concepts)
        for name, vectors in self.vectors.items():
            dataset.splits[name].program_rows = ScoreRows(encoder.similarities(vectors, concepts), concepts)

    def feature_sets(self, dataset: Dataset) -> list:
        """The distilled classifier's features: the CLIP image embeddings already computed."""
        from alchemist.distillation.features import ClipFeatures
        from alchemist.distillation.fit import FeatureSet

        v = self.vectors or {}
        return [FeatureSet(ClipFeatures(self.encoder()), v.get("train"), v.get("valid"), v.get("test"))]

    def group_report(self, dataset: Dataset, labels: Labels, model) -> dict | None:
        """Per-group accuracy (and the worst group) of the label model and the distilled model, where a
        split has groups and gold labels."""
        out = {}
        for name in ("valid", "test"):
            split = dataset.get(name)
            if split is None or split.groups is None or not split.has_labels:
                continue
            part = {}
            probs = labels.probs.get(name)
            if probs is not None:
                part["label_model"] = group_scores(split.labels, probs.argmax(1), split.groups)
            if model is not None and name == "test" and self.vectors and "test" in self.vectors:
                predicted = model.proba_of(self.vectors["test"]).argmax(1)
                part["distilled"] = group_scores(split.labels, predicted, split.groups)
            if part:
                out[name] = part
        return out or None
