"""The cost ledger: totals over run manifests, grouped and filtered (what `pricing.py` prints).

Every call in a manifest carries the dollars it cost when it was made, priced at the model that
served it, so a two-stage run's knowledge and code calls are each priced right. Cached calls count
apart, at $0. A manifest that is corrupt or not ours is skipped with a warning naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from alchemist.generate.run_store import MANIFEST

GROUPS = ("dataset", "mode", "model", "knowledge-type")


@dataclass
class Run:
    path: Path
    dataset: str
    mode: str
    created: str
    knowledge_type: str
    code_model: str
    programs: int
    calls: list[dict]


@dataclass
class Row:
    key: dict[str, str]
    runs: set = field(default_factory=set)
    programs: int = 0
    calls: int = 0
    cached_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def to_dict(self) -> dict:
        return {**self.key, "runs": len(self.runs), "programs": self.programs, "llm_calls": self.calls,
                "cached_calls": self.cached_calls, "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "cost_usd": round(self.cost_usd, 8)}


def _parse(path: Path) -> Run:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("tool") != "alchemist" or not isinstance(data.get("calls"), list):
        raise ValueError("not an Alchemist run manifest")
    config = data.get("config") or {}
    code = config.get("code_model") or {}
    calls = []
    for call in data["calls"]:
        if not isinstance(call, dict) or not isinstance(call.get("model"), str):
            raise ValueError("a call record has no model")
        for key in ("input_tokens", "output_tokens"):
            if not isinstance(call.get(key, 0), int):
                raise ValueError(f"a call's {key} is not a number")
        if not isinstance(call.get("cost_usd", 0), (int, float)):
            raise ValueError("a call's cost_usd is not a number")
        calls.append(call)
    return Run(path=path.parent, dataset=str(data.get("dataset", "?")), mode=str(data.get("mode", "?")),
               created=str(data.get("created", "")), knowledge_type=str(config.get("knowledge_type") or "-"),
               code_model=str(code.get("name") if isinstance(code, dict) else code or "-"),
               programs=len(data.get("programs") or []), calls=calls)


def scan(root: Path) -> tuple[list[Run], list[str]]:
    """Every run manifest under root; warnings for the ones that cannot be read."""
    runs, warnings = [], []
    for path in sorted(Path(root).rglob(MANIFEST)):
        try:
            runs.append(_parse(path))
        except (OSError, ValueError, TypeError, AttributeError) as e:
            warnings.append(f"skipped {path}: {e}")
    return runs, warnings


def keep(run: Run, dataset: str | None, mode: str | None, since: str | None) -> bool:
    return ((dataset is None or run.dataset == dataset) and (mode is None or run.mode == mode)
            and (since is None or run.created[:10] >= since))


def totals(runs: list[Run], by: list[str], model: str | None = None) -> list[Row]:
    """Rows grouped by the `by` fields (dataset, mode, model, knowledge-type)."""
    rows: dict[tuple, Row] = {}

    def row_for(run: Run, call_model: str) -> Row:
        values = {"dataset": run.dataset, "mode": run.mode, "model": call_model,
                  "knowledge-type": run.knowledge_type}
        key = tuple(values[f] for f in by)
        if key not in rows:
            rows[key] = Row(key={f: values[f] for f in by})
        return rows[key]

    for run in runs:
        models = {c["model"] for c in run.calls} or {run.code_model}
        if model is not None and model not in models:
            continue
        if model is None or run.code_model == model:  # programs belong to the code model's row
            owner = row_for(run, run.code_model)
            owner.runs.add(run.path)
            owner.programs += run.programs
        for call in run.calls:
            if model is not None and call["model"] != model:
                continue
            row = row_for(run, call["model"])
            row.runs.add(run.path)
            row.calls += 1
            row.cached_calls += bool(call.get("cached"))
            row.input_tokens += int(call.get("input_tokens", 0))
            row.output_tokens += int(call.get("output_tokens", 0))
            row.cost_usd += float(call.get("cost_usd", 0.0))
    return sorted(rows.values(), key=lambda r: tuple(r.key.values()))


def group_fields(text: str) -> list[str]:
    fields = [f.strip() for f in text.split(",") if f.strip()]
    bad = [f for f in fields if f not in GROUPS]
    if bad or not fields:
        raise ValueError(f"--by takes a comma-separated list of {', '.join(GROUPS)}")
    return fields


@dataclass
class ZeroShotUsage:
    """The tokens past zero-shot runs' calls really took, as the API reported them."""

    runs: int
    calls: int
    labels: int
    input_tokens: int
    output_tokens: int

    @property
    def output_tokens_per_label(self) -> float:
        return round(self.output_tokens / self.labels, 2)

    def to_dict(self) -> dict:
        return {**self.__dict__, "output_tokens_per_label": self.output_tokens_per_label}


def zero_shot_usage(runs: list[Run], dataset: str, model: str) -> ZeroShotUsage | None:
    """The zero-shot calls of `dataset` answered by `model`; None if there are none. Each distinct request
    counts once: a reply replayed from the cache is the same reply again, not a second measurement."""
    seen: dict[str, dict] = {}
    owners: set[Path] = set()
    for run in runs:
        if run.mode != "zero-shot" or run.dataset != dataset:
            continue
        for call in run.calls:
            rows = call.get("rows")  # [first, end) of the batch: how many labels the reply held
            if (call["model"] == model and call.get("stage") == "zero-shot" and isinstance(rows, list)
                    and len(rows) == 2 and all(isinstance(r, int) for r in rows)):
                seen.setdefault(str(call.get("key") or f"{run.path}#{call.get('index')}"), call)
                owners.add(run.path)
    labels = sum(c["rows"][1] - c["rows"][0] for c in seen.values())
    if labels <= 0:
        return None
    return ZeroShotUsage(len(owners), len(seen), labels, sum(int(c.get("input_tokens", 0)) for c in seen.values()),
                         sum(int(c.get("output_tokens", 0)) for c in seen.values()))
