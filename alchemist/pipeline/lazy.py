"""Data too big for memory: `apply --backend dask` with a Parquet/CSV file. Apply, aggregate and distill
without ever holding the texts in memory: the label matrix (int8) is built partition by partition inside
Dask workers (programs/apply/dask_applier.py); distillation trains on a random sample of covered rows."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from alchemist.core.errors import AlchemistError
from alchemist.data.readers import cell_text
from alchemist.data.tasks import TaskCard, card_for_classes, load_card_file
from alchemist.distillation.fit import distill, prepare
from alchemist.distillation.model import MODEL_FILE
from alchemist.labeling.labels import Labels
from alchemist.pipeline.context import RunContext
from alchemist.programs.votes import Votes

DISTILL_SAMPLE = 100_000  # rows the distilled model trains on, at most


def lazy_card(ctx: RunContext) -> TaskCard:
    c = ctx.config
    if c.task_card is not None:
        return load_card_file(c.task_card)
    if not c.classes:
        raise AlchemistError("data read by Dask needs its classes: --classes a,b,... or --task-card FILE")
    return card_for_classes(Path(c.dataset).stem.replace("*", "") or "data", c.classes)


def distill_sample(ctx: RunContext, frame, votes: Votes, labels: Labels, card: TaskCard, out: Path) -> dict:
    """Distill on a random sample of covered rows, fetching only those texts, partition by partition."""
    c = ctx.config
    result = {"seeds": c.seeds, "test_mean": None, "test_std": None, "scores": [], "trained_on": 0}
    probs = labels.probs.get("train")
    if probs is None:
        return result
    covered = np.flatnonzero(labels.covered["train"])
    rows = np.sort(np.random.default_rng(0).choice(covered, min(len(covered), DISTILL_SAMPLE), replace=False))
    sizes = frame.map_partitions(len).compute().tolist()
    offsets = np.cumsum([0] + sizes)
    texts: list[str] = []
    for part, (lo, hi) in enumerate(zip(offsets[:-1], offsets[1:], strict=True)):
        local = rows[(rows >= lo) & (rows < hi)] - lo
        if len(local):
            column = frame.partitions[part][c.text_column].compute()
            texts += [cell_text(t) for t in column.iloc[local].tolist()]
    start = time.monotonic()
    if c.features == "embeddings":
        ctx.warn("the Dask backend distills with TF-IDF features (--features embeddings is for in-memory data)")
    sets, notes = prepare(["tfidf"], texts)
    ctx.warnings.extend(notes)
    with ctx.progress.stage(f"Distilling (TF-IDF + MLP, {c.seeds} seeds, {len(rows)} sampled rows)",
                            total=c.seeds, unit="fits") as stage:
        res = distill(sets, probs[rows].argmax(1), card.classes, c.seeds, on_fit=stage.advance)
    ctx.timings["distill"] = time.monotonic() - start
    if res.error:
        ctx.warn(f"no distilled model: {res.error}")
    if res.model is not None:
        res.model.save(out / MODEL_FILE)
        result["model_path"] = str(out / MODEL_FILE)
    result["trained_on"] = res.trained_on
    return result
