"""Argilla 2.x: a dataset folder in the layout its SDK's `Dataset.to_disk` writes and `Dataset.from_disk`
imports (dataset.json, settings.json, records.json): a text field, a label question, a suggestion per row
(the run's label, its confidence as score, the run as agent), the programs' votes and the row's place as
metadata. The records are made by the SDK's own Record class. Reading a reviewer's export back takes
the records' submitted responses."""

from __future__ import annotations

import math

QUESTION, FIELD = "label", "text"


def settings(classes: list[str], guidelines: str) -> dict:
    """settings.json, as the SDK's Settings.serialize() writes it."""
    def meta(name: str, kind: str) -> dict:
        extra = {"values": None} if kind == "terms" else {"min": None, "max": None}
        return {"id": None, "inserted_at": None, "updated_at": None, "name": name, "title": name,
                "settings": {"visible_for_annotators": True, "type": kind, **extra}, "visible_for_annotators": True,
                "dataset_id": None}

    return {
        "guidelines": guidelines,
        "questions": [{"id": None, "inserted_at": None, "updated_at": None, "name": QUESTION, "title": "Label",
                       "description": None, "required": True, "dataset_id": None, "type": "label_selection",
                       "settings": {"type": "label_selection", "visible_options": None,
                                    "options": [{"text": c, "value": c} for c in classes]}}],
        "fields": [{"id": None, "inserted_at": None, "updated_at": None, "name": FIELD, "title": "text",
                    "required": True, "description": None, "dataset_id": None, "type": "text",
                    "settings": {"type": "text", "use_markdown": False}}],
        "vectors": [],
        "metadata": [meta("split", "terms"), meta("label_source", "terms"), meta("confidence", "float")],
        "allow_extra_metadata": True,
        "distribution": {"strategy": "overlap", "min_submitted": 1},
        "mapping": None,
    }


def dataset_model(name: str, guidelines: str) -> dict:
    """dataset.json (the SDK's DatasetModel, dumped)."""
    return {"id": None, "inserted_at": None, "updated_at": None, "name": name, "status": "draft",
            "guidelines": guidelines, "allow_extra_metadata": True, "distribution": None, "workspace_id": None,
            "last_activity_at": None}


def record(row: dict, votes: dict[str, str], meta: dict) -> dict:
    """One record, made by the SDK's Record and written as its to_dict() gives it."""
    import argilla as rg

    suggestions = []
    if row["label_name"]:
        score = row["confidence"]
        suggestions.append(rg.Suggestion(QUESTION, row["label_name"],
                                         score=None if math.isnan(score) else round(float(score), 4),
                                         agent=meta["alchemist_run"]))
    metadata = {**meta, "split": row["split"], "label_source": row["label_source"] or "none",
                **({} if math.isnan(row["confidence"]) else {"confidence": round(float(row["confidence"]), 4)}),
                "votes": "; ".join(f"{n}: {v}" for n, v in votes.items()) or "no program voted"}
    return rg.Record(id=f"{row['split']}-{row['id']}", fields={FIELD: row["text"]}, metadata=metadata,
                     suggestions=suggestions).to_dict()


def reviewed(records: list, where: str) -> list[tuple[dict, str, int, bool]]:
    """(metadata, answered class name, record number, whether its reviewers disagreed) of every record with a
    submitted answer to the label question (several: the last one): nested records (Record.to_dict /
    records.to_json) or flattened ones (to_list(flatten=True))."""
    out = []
    for n, r in enumerate(records, start=1):
        if not isinstance(r, dict):
            continue
        meta = r.get("metadata") if isinstance(r.get("metadata"), dict) else {k: v for k, v in r.items()
                                                                               if k.startswith("alchemist_")}
        responses = (r.get("responses") or {}).get(QUESTION) if isinstance(r.get("responses"), dict) \
            else r.get(f"{QUESTION}.responses")
        statuses = r.get(f"{QUESTION}.responses.status")
        answers = _answers(responses, statuses)
        if answers:
            out.append((meta, answers[-1], n, len(set(answers)) > 1))
    return out


def _answers(responses: object, statuses: object) -> list[str]:
    if not isinstance(responses, list) or not responses:
        return []
    kept = []
    for i, resp in enumerate(responses):
        value = resp.get("value") if isinstance(resp, dict) else resp
        status = resp.get("status") if isinstance(resp, dict) else (statuses[i] if isinstance(statuses, list)
                                                                     and i < len(statuses) else None)
        if value is not None and status in (None, "submitted"):
            kept.append(str(value))
    return kept
