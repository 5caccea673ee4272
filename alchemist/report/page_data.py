"""What report.html shows beyond the scores, computed once and kept in report.json (so a saved report
renders the same page): who made the programs, rows where programs disagree, program x program
agreement, the valid class balance. Texts and sources are cleaned here: they are hostile.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from alchemist.core.safe_text import clean, code_text
from alchemist.data.datasets import Split
from alchemist.labeling.metrics import distribution
from alchemist.sandbox.policy import MAX_SOURCE_BYTES

MAX_SOURCE = MAX_SOURCE_BYTES  # a program that can run is kept whole (the gate refuses bigger ones)
TEXT_CHARS = 300  # characters of a row's text shown among the disagreements
DISAGREEMENTS = 10
MAX_MAP = 40  # programs in the agreement map: beyond that a table of pairs is unreadable
CHUNK = 50_000  # rows per step of the agreement counts: memory stays bounded on big data


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_manifest(folder: Path | str | None) -> dict | None:
    """The manifest.json of a run folder of programs; None for a plain folder or an unreadable one
    (the page then just leaves out who made the programs)."""
    if folder is None:
        return None
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _model_name(value: object) -> str | None:
    if isinstance(value, dict):  # a ModelSpec as the manifest records it
        name, provider = value.get("name"), value.get("provider")
        if not name:
            return None
        return f"{name} ({provider})" if provider else str(name)
    return None if value in (None, "") else str(value)


def generated_by(manifest: dict | None) -> dict:
    """Mode, models, knowledge type, date and cost of the LLM run that wrote the programs."""
    if not isinstance(manifest, dict):
        return {}
    config = manifest.get("config") if isinstance(manifest.get("config"), dict) else {}
    totals = manifest.get("totals") if isinstance(manifest.get("totals"), dict) else {}
    info = {"mode": config.get("mode") or manifest.get("mode"), "code_model": _model_name(config.get("code_model")),
            "knowledge_model": _model_name(config.get("knowledge_model")),
            "knowledge_type": config.get("knowledge_type"), "created": manifest.get("created"),
            "run_id": manifest.get("run_id"), "status": manifest.get("status"),
            "llm_calls": totals.get("llm_calls"), "cost_usd": totals.get("cost_usd")}
    return {k: v for k, v in info.items() if v not in (None, "")}


def source_text(source: str | None) -> str | None:
    """A program's source as the report keeps it: control and invisible characters as visible escapes,
    secrets redacted."""
    return None if source is None else code_text(source, MAX_SOURCE)


def valid_balance(split: Split | None, classes: list[str]) -> dict[str, float] | None:
    """Gold class shares on valid (never test): what the predicted distribution is compared with."""
    if split is None or not split.has_labels:
        return None
    return distribution(split.labels, classes)


def _class_name(classes: list[str], value: int) -> str:
    return classes[value] if 0 <= value < len(classes) else str(value)


def disagreements(split: Split | None, L: np.ndarray | None, cols: list[int], names: list[str],
                  probs: np.ndarray | None, classes: list[str], limit: int = DISAGREEMENTS) -> list[dict]:
    """Up to `limit` rows where the label model's programs vote different classes: the closest splits
    first (most votes for a losing class), then most voters, then row order, so the same rows every time."""
    if split is None or L is None or not cols or not len(L):
        return []
    V = L[:, cols]  # int8, as stored: big data stays small here
    counts = np.stack([(V == c).sum(axis=1, dtype=np.int32) for c in range(len(classes))], axis=1)
    rows = np.flatnonzero((counts > 0).sum(axis=1) >= 2)
    if not rows.size:
        return []
    second = np.sort(counts[rows], axis=1)[:, -2]
    order = np.lexsort((rows, -(counts[rows].sum(axis=1)), -second))
    out = []
    for r in rows[order[:limit]]:
        gold = int(split.labels[r])
        out.append({"id": clean(split.ids[r], 100), "text": clean(split.texts[r], TEXT_CHARS),
                    "votes": {names[j]: _class_name(classes, int(V[r, k])) for k, j in enumerate(cols) if V[r, k] >= 0},
                    "label": _class_name(classes, int(probs[r].argmax())) if probs is not None else None,
                    "gold": _class_name(classes, gold) if gold >= 0 else None})
    return out


def agreement(L: np.ndarray | None, names: list[str], n_classes: int) -> dict:
    """For each pair of programs that vote at all: on the rows both vote, how many, and the share
    where they vote the same class."""
    if L is None or not L.size:
        return {"programs": [], "rows": [], "share": [], "left_out": 0}
    voting = [j for j in range(L.shape[1]) if (L[:, j] >= 0).any()]
    keep = voting[:MAX_MAP]
    both = np.zeros((len(keep), len(keep)))
    same = np.zeros_like(both)
    for start in range(0, len(L), CHUNK):
        V = L[start:start + CHUNK][:, keep]
        voted = (V >= 0).astype(np.float64)
        both += voted.T @ voted
        for c in range(n_classes):
            hit = (V == c).astype(np.float64)
            same += hit.T @ hit
    share = [[round(float(s / b), 4) if b else None for s, b in zip(srow, brow, strict=True)]
             for srow, brow in zip(same, both, strict=True)]
    return {"programs": [names[j] for j in keep], "rows": both.astype(int).tolist(), "share": share,
            "left_out": len(voting) - len(keep)}
