"""The public API: the whole flow from a notebook, over the same engine the command line runs.

    data = alchemist.load_data("demo")                         # a built-in name, a file or folder, or a DataFrame
    programs = alchemist.load_programs("examples/demo_programs")  # or alchemist.write_programs(data, n=10)
    votes = alchemist.apply(programs, data)                    # in the sandbox; votes.frame("train")
    alchemist.program_stats(votes, data)                       # a DataFrame: coverage, accuracy on valid, ...
    labels = alchemist.label(votes, data)                      # label model chosen on valid; labels.frame(data)
    model = alchemist.distill(labels, data)                    # model.mean on test, model.model
    alchemist.predict(model, ["free gift card, click here"])   # a DataFrame of labels

Settings (the model catalogue, caches) are read as the command line reads them: the bundled config.json
and the project folder's own (core/paths.py). Everything returns plain objects holding numpy arrays, or
pandas DataFrames. Generated programs run only in the sandbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from alchemist.core.errors import AlchemistError


def _need(value, kind: str, what: str, hint: str):
    """The API's arguments checked by kind: a wrong one is one line saying what was expected."""
    import importlib

    module, _, name = kind.rpartition(".")
    expected = getattr(importlib.import_module(module), name)
    if not isinstance(value, expected):
        raise AlchemistError(f"{what} should be a {name} ({hint}), not {type(value).__name__}")
    return value


def _data(value):
    return _need(value, "alchemist.data.datasets.Dataset", "the data", "what alchemist.load_data returns")


def _progress(show: bool):
    from alchemist.core.progress import NullProgress, make_progress

    return make_progress() if show else NullProgress()


def load_data(source, *, text_column: str = "text", label_column: str | None = "label",
              classes: Sequence[str] | None = None, task_card: str | Path | None = None,
              data_dir: str | Path | None = None, name: str | None = None, hold_out: bool = True,
              id_column: str | None = None, encoding: str = "utf-8"):
    """A Dataset (splits of texts and gold labels, and the task card) from a built-in task's name, a CSV /
    JSONL / WRENCH file or folder, or a pandas DataFrame (text and label columns, an optional `split`
    column). A labeled source without valid/test splits gets them held out of train (15% each,
    stratified; `hold_out=False` keeps every row in train), as a run does."""
    from alchemist.data.datasets import EvalSplit, dataset_from_frame, load_dataset, split_for_evaluation
    from alchemist.data.readers import Columns
    from alchemist.pipeline.settings import load_settings, resolve_data_dir

    if hasattr(source, "columns") and hasattr(source, "iloc"):  # a pandas DataFrame
        dataset = dataset_from_frame(source, name or "data", text_column, label_column,
                                     list(classes) if classes else None, id_column=id_column)
    elif isinstance(source, (str, Path)):
        folder = Path(data_dir) if data_dir else resolve_data_dir(None, load_settings())
        dataset = load_dataset(str(source), folder, Columns(text_column, label_column, id=id_column,
                                                            encoding=encoding),
                               list(classes) if classes else None, Path(task_card) if task_card else None)
    else:
        raise AlchemistError(f"load_data takes a built-in task's name, a path, or a pandas DataFrame, not "
                             f"{type(source).__name__} (for a Series: load_data(series.to_frame('text')))")
    if hold_out:
        notes = dataset.notes
        dataset, note = split_for_evaluation(dataset, EvalSplit())
        dataset.notes = notes + ([note] if note else [])
    return dataset


def load_programs(folder: str | Path):
    """The labeling programs of a folder (`*.py`, each passed through the static gate; rejected ones keep
    their reason and get a column of abstains when applied)."""
    from alchemist.programs.program_files import Programs, load_program_dir

    return Programs(load_program_dir(Path(folder)), Path(folder))


def write_programs(data, *, n: int = 10, mode: str | None = None, code_model: str | None = None,
                   knowledge_model: str | None = None, knowledge_type: str | None = None,
                   description: str | None = None, max_cost: float | None = None, base_url: str | None = None,
                   out: str | Path | None = None, refine_rounds: int | None = None, concurrency: int | None = None,
                   progress: bool = True):
    """Have an LLM write `n` labeling programs for `data`, exactly as `alchemist run` does (the same modes,
    trial runs in the sandbox, refinement on valid, budget cap `max_cost` in dollars): saved with their
    manifest (every prompt, reply, token and dollar) in a run folder under `out` (default: generated_lfs/).
    Shows its progress (LLM calls take a while) unless `progress=False`.
    Defaults come from config.json; the knowledge model defaults to config.json's where it goes to the same
    provider as the code model, else to the code model itself."""
    from alchemist.pipeline.context import RunContext
    from alchemist.pipeline.generation_stage import GenerationStage
    from alchemist.pipeline.image_stage import ImageStage
    from alchemist.pipeline.run_config import run_config
    from alchemist.pipeline.settings import load_settings
    from alchemist.programs.apply import make_applier
    from alchemist.programs.program_files import Programs, load_program_dir

    if _data(data).modality != "text":
        raise AlchemistError("write_programs takes text data; image runs go through `alchemist run` (docs/images.md)")
    settings = load_settings()
    given = {"mode": mode, "code_model": code_model, "knowledge_model": knowledge_model,
             "knowledge_type": knowledge_type, "refine_rounds": refine_rounds, "concurrency": concurrency}
    config = run_config(settings, dataset=data.name, num_programs=n, description=description, max_cost=max_cost,
                        base_url=base_url, out_dir=Path(out) if out else None,
                        **{k: v for k, v in given.items() if v is not None})
    config.validate()
    ctx = RunContext(config, settings, _progress(progress))
    stage = GenerationStage(ctx, ImageStage(ctx), lambda k: make_applier(config.backend, k, config.limits))
    folder = stage.generate(data)
    for warning in ctx.warnings:
        ctx.progress.log(f"warning: {warning}")
    return Programs(load_program_dir(folder), folder, stage.run_store.manifest if stage.run_store else None)


def apply(programs, data, *, backend: str = "local", scheduler: str | None = None, limits=None,
          cache: bool = True, progress: bool = False):
    """Votes of every program on every split, each program run in its own locked-down process (local, or
    inside Dask workers with backend="dask"). Columns of unchanged programs on unchanged data come from
    the column cache (`cache=False`: run everything). Returns Votes: `.matrices[split]` (int8, -1 =
    abstain), `.frame(split)`, `.statuses`, `.reasons`."""
    from alchemist.pipeline.settings import load_settings
    from alchemist.programs.apply import make_applier
    from alchemist.programs.program_files import Program

    _data(data)
    if backend not in ("local", "dask"):
        raise AlchemistError(f"unknown backend {backend!r} (choose local or dask)")
    programs = list(programs)
    if not all(isinstance(p, Program) for p in programs):
        raise AlchemistError("apply takes programs from alchemist.load_programs(folder) or write_programs(...), "
                             "not file names or text")
    folder = load_settings().cache_root / "columns" if cache else None
    applier = make_applier(backend, data.card.n_classes, limits, cache_folder=folder, scheduler=scheduler)
    splits = {name: split.rows for name, split in data.splits.items()}
    return applier.apply(list(programs), splits, _progress(progress))


def program_stats(votes, data):
    """A DataFrame with a row per program: status and reason, coverage, overlap and conflict on train,
    accuracy on valid's gold labels (with its support and what chance would score), errors."""
    import pandas as pd

    from alchemist.labeling.labels import vet_votes
    from alchemist.report.outputs import program_rows

    _need(votes, "alchemist.programs.votes.Votes", "the votes", "what alchemist.apply returns")
    verdicts, _ = vet_votes(votes, _data(data), leave_out=False)
    rows, _ = program_rows(data, votes, verdicts)
    columns = ["name", "status", "reason", "coverage", "overlap", "conflict", "valid_accuracy", "valid_support",
               "valid_chance", "errors", "faults", "from_cache"]
    return pd.DataFrame([{k: r[k] for k in columns} for r in rows], columns=columns)


def label(votes, data, *, label_model: str = "auto", vetting: bool = True, progress: bool = False):
    """Vet the programs on valid (duplicates, no votes, no better than chance: left out, with the reason)
    and combine their votes with the label model (`auto`: snorkel, majority or weighted, chosen on valid).
    Returns Labels: `.probs[split]` (n_rows x n_classes), `.label_of(split)`, `.frame(data, split)`, the
    scores in `.label_model` and `.majority_vote`. The votes' statuses are updated by vetting."""
    from alchemist.core.choices import LABEL_MODELS
    from alchemist.labeling.labels import make_labels, vet_votes

    if label_model not in LABEL_MODELS:
        raise AlchemistError(f"unknown label model '{label_model}' (choose from {', '.join(LABEL_MODELS)})")
    _need(votes, "alchemist.programs.votes.Votes", "the votes", "what alchemist.apply returns")
    _, notes = vet_votes(votes, _data(data), leave_out=vetting)
    labels = make_labels(votes, data, label_model, _progress(progress))
    labels.warnings[:0] = notes
    return labels


def distill(labels, data, *, features: str = "auto", seeds: int = 5, progress: bool = False,
            embedding_model: str | None = None, device: str = "auto"):
    """Train the distilled classifier on the labels of the rows some program voted on (features and
    label model chosen on valid, never scored on a row they learned from), scored on test over `seeds`.
    `embedding_model`: a sentence-transformers model (Hugging Face name or folder) for the embedding
    features (default: the bundled MiniLM); `device`: auto (CUDA, then MPS, then CPU), cpu, cuda or mps.
    Returns a DistillResult: `.model` (`.predict_proba(texts)`, `.save(path)`), `.mean` and `.std` on
    test, `.valid`, `.features`, `.candidates`."""
    from alchemist.core.choices import FEATURES
    from alchemist.distillation.embeddings import TextEncoder
    from alchemist.distillation.training import build_features, plan_features, stack_for, train, training_sample
    from alchemist.pipeline.settings import load_settings

    if features not in FEATURES:
        raise AlchemistError(f"unknown features '{features}' (choose from {', '.join(FEATURES)})")
    if not isinstance(seeds, int) or seeds < 1:
        raise AlchemistError(f"seeds must be a whole number of at least 1, not {seeds!r}")
    _need(labels, "alchemist.labeling.labels.Labels", "the labels", "what alchemist.label returns")
    if _data(data).modality != "text":
        raise AlchemistError("distill takes text data; image runs distill on CLIP embeddings through `alchemist run`")
    if "train" not in labels.probs:
        raise AlchemistError("no labels to distill from (no usable program voted on train); see labels.warnings")
    shown = _progress(progress)
    sample, options, _, rows = training_sample(data, labels.options)
    valid = sample.get("valid")
    encoder = TextEncoder(load_settings().cache_root / "embeddings", model=embedding_model, device=device)
    names, _ = plan_features(sample, features, valid is not None and valid.has_labels, encoder)
    sets, _, _ = build_features(sample, names, encoder, shown)
    result = train(sample, sets, options, seeds, shown, stack=stack_for(labels, sets, data.card.n_classes, rows))
    if result.error:
        raise AlchemistError(f"no distilled model: {result.error}")
    return result


def predict(model, texts: Sequence[str]):
    """Label new texts with a distilled model (a DistillResult, a DistilledModel, or the path of a saved
    one): a DataFrame of text, label, label_name, confidence."""
    import pandas as pd

    from alchemist.distillation.model import load_model

    if isinstance(model, (str, Path)):
        model = load_model(Path(model))
    model = getattr(model, "model", model)  # a DistillResult holds the model
    if not hasattr(model, "predict_proba") or not hasattr(model, "classes"):
        raise AlchemistError("predict takes what alchemist.distill returns, a DistilledModel, or a saved model's path")
    texts = [texts] if isinstance(texts, str) else [str(t) for t in texts]  # one text is one row, not its letters
    probs = model.predict_proba(texts)
    label = probs.argmax(1)
    return pd.DataFrame({"text": texts, "label": label, "label_name": [model.classes[k] for k in label],
                         "confidence": probs.max(1)})
