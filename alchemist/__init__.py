"""Alchemist: label data for the price of a few LLM calls.

An LLM writes labeling programs; they run in a sandbox over every row; a label model combines their
votes; a small classifier is distilled from the result. The public API (alchemist/api.py, docs/api.md):

    import alchemist
    data = alchemist.load_data("demo")                        # a built-in name, a file, or a DataFrame
    programs = alchemist.load_programs("examples/demo_programs")  # or alchemist.write_programs(data, n=10)
    votes = alchemist.apply(programs, data)                   # sandboxed
    labels = alchemist.label(votes, data)                     # label model chosen on valid
    model = alchemist.distill(labels, data)

The package, by concern (each subpackage's __init__ maps its modules; docs/layout.md):

    core/       errors, atomic files, safe text, progress, concurrency, the vector cache, where data lives
    data/       readers (WRENCH, CSV, JSONL), datasets and splits, task cards, image datasets, download/
    llm/        one session over the official SDKs, the reply cache, the model catalogue, token counts
    generate/   prompts, extraction, the modes' registry, refinement, zero-shot, estimates, the ledger, RAG
    sandbox/    the static gate and the process sandbox that runs generated code
    programs/   program files, the votes container, apply backends (local and Dask), trials, column cache
    labeling/   label models, their choice on valid, vetting, calibration, analysis, metrics
    distillation/  features, embeddings, fitting and choice on valid (with gold rows too), saved models
    annotation/ a person's gold labels: the append-only answers file, random and chosen pools, their use
    exchange/   labels out (Hugging Face, Label Studio, Argilla, CSV) and reviewers' answers back
    images/     CLIP embeddings and concepts
    report/     console, HTML, labels.csv, the review screen's evidence
    pipeline/   settings, RunConfig, the Executor and its stages
    cli/        the command line (`alchemist`, `python main.py`), the wizard, the review screen, pricing
    testing/    offline stand-ins for tests and benchmarks (a fake LLM server, a tiny CLIP)

Importing this package loads nothing heavy: each name is imported when first used.
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

_API = ("load_data", "load_programs", "write_programs", "apply", "program_stats", "label", "distill", "predict")
_LAZY = {**{name: "alchemist.api" for name in _API},
         "AlchemistError": "alchemist.core.errors", "Dataset": "alchemist.data.datasets",
         "Programs": "alchemist.programs.program_files", "Votes": "alchemist.programs.votes",
         "Labels": "alchemist.labeling.labels", "DistillResult": "alchemist.distillation.fit",
         "DistilledModel": "alchemist.distillation.model", "load_model": "alchemist.distillation.model",
         "RunConfig": "alchemist.pipeline.run_config", "Executor": "alchemist.pipeline.executor"}
__all__ = [*_API, "AlchemistError", "Dataset", "DistillResult", "DistilledModel", "Executor", "Labels", "Programs",
           "RunConfig", "Votes", "load_model", "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # once
        return value
    raise AttributeError(f"module 'alchemist' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
