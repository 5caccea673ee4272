"""Executor: runs one RunConfig end to end. The only place that knows the order of the stages.

dataset -> programs (gate) -> sandboxed apply -> label model (+ majority vote) -> distillation
-> analysis -> report. Each stage is an object that gets what it needs when it is made (the run's
context, and the other stages it uses); the work itself is done by engine functions a notebook can call
too. Outputs are written stage by stage into a fresh results folder, so a failure late in the run keeps
what the earlier stages produced.
"""

from __future__ import annotations

import io
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from alchemist.core.files import atomic_write_bytes, atomic_write_json, new_run_dir
from alchemist.core.progress import NullProgress, Progress
from alchemist.data.datasets import Dataset, sample_splits
from alchemist.data.images import csv_image_column
from alchemist.distillation.model import MODEL_FILE
from alchemist.labeling.labels import Labels, make_labels, vet_votes
from alchemist.labeling.vetting import Verdict
from alchemist.pipeline.context import RunContext
from alchemist.pipeline.data_stage import DataStage
from alchemist.pipeline.distill_stage import DistillStage
from alchemist.pipeline.generation_stage import GenerationStage
from alchemist.pipeline.image_stage import ImageStage
from alchemist.pipeline.lazy import distill_sample, lazy_card
from alchemist.pipeline.run_config import RunConfig
from alchemist.pipeline.settings import Settings, load_settings
from alchemist.programs.apply import make_applier
from alchemist.programs.apply.base import ProgramApplier
from alchemist.programs.apply.dask_applier import is_lazy_source, read_frame
from alchemist.programs.program_files import load_program_dir
from alchemist.programs.votes import Votes, human_votes
from alchemist.report.html import write_html
from alchemist.report.outputs import program_rows, write_labels, write_row_labels
from alchemist.report.page_data import agreement, disagreements, generated_by, now, read_manifest, valid_balance


def gold_rows(dataset: Dataset) -> dict:
    """How many gold rows each use rests on, and where they came from."""
    valid = dataset.get("valid")
    n_valid = int(valid.labeled.sum()) if valid is not None else 0
    given = dataset.gold_rows or {}
    chosen = int((dataset.train_gold >= 0).sum()) if dataset.train_gold is not None else 0
    if given.get("source") == "silver":
        return {**given, "scores_vetting_choices": n_valid, "training_only": 0}
    return {"source": "answers file" if given else "the data's valid split" if n_valid else "none",
            **({"file": given["file"], "answers": given.get("random", 0), "from_review": given.get("from_review", 0)}
               if given else {}),
            "scores_vetting_choices": n_valid, "training_only": chosen}


class Executor:
    def __init__(self, config: RunConfig, progress: Progress | None = None, settings: Settings | None = None):
        config.validate()
        config.check_outputs()
        self.ctx = RunContext(config, settings or load_settings(), progress or NullProgress())
        self.data = DataStage(self.ctx)
        self.images = ImageStage(self.ctx)
        self.generation = GenerationStage(self.ctx, self.images, self.applier)
        self.distiller = DistillStage(self.ctx, self.images)
        self.verdicts: list[Verdict] = []  # vetting on valid, one per program
        self.no_signal = ""  # why the run's scores mean nothing (no votes at all, one class for every row)

    @property
    def config(self) -> RunConfig:
        return self.ctx.config

    @property
    def warnings(self) -> list[str]:
        return self.ctx.warnings

    @property
    def on_concepts(self):
        return self.generation.on_concepts

    @on_concepts.setter
    def on_concepts(self, hook) -> None:  # image runs: the wizard shows the concepts and may edit them
        self.generation.on_concepts = hook

    # --- the stages' shared pieces ----------------------------------------------------------------
    def applier(self, n_classes: int, cached: bool = False) -> ProgramApplier:
        """The run's applier (--backend); `cached`: columns of unchanged programs come from the column cache."""
        c = self.config
        folder = self.ctx.settings.cache_root / "columns" if cached and c.column_cache else None
        return make_applier(c.backend, n_classes, c.limits, cache_folder=folder, scheduler=c.scheduler,
                            partition_rows=c.partition_rows)

    def load_rows(self) -> Dataset:
        """The data as the programs see it: for image data each image's concept scores too (from --concepts
        or the programs' concepts.json). What the review screen reads."""
        dataset = self.data.load()
        if dataset.modality == "image":
            self.images.score(dataset, self.images.concepts_of(self.config.programs_dir))
        return dataset

    def output_dir(self, dataset: Dataset, programs_dir: Path | None) -> Path:
        c = self.config
        if c.command == "apply" and c.out_dir is not None:
            return new_run_dir(c.out_dir)
        if c.human:
            return new_run_dir(c.saved_dir / dataset.name / "human")
        return new_run_dir(Path(programs_dir) / "results")

    def _apply(self, dataset: Dataset, programs) -> Votes:
        start = time.monotonic()
        splits = {name: split.rows for name, split in dataset.splits.items()}  # texts, or concept scores
        votes = self.applier(dataset.card.n_classes, cached=True).apply(programs, splits, self.ctx.progress)
        self.ctx.timings["apply"] = time.monotonic() - start
        return votes

    def _label(self, dataset: Dataset, votes: Votes) -> Labels:
        """Vetting on valid, then the label model; its warnings join the run's (no signal first)."""
        c = self.config
        self.verdicts, notes = vet_votes(votes, dataset, leave_out=c.vetting and c.command != "zero-shot")
        self.ctx.warnings.extend(notes)
        requested = "majority" if c.command == "zero-shot" else c.label_model  # one column: the answers are labels
        start = time.monotonic()
        labels = make_labels(votes, dataset, requested, self.ctx.progress)
        if labels.probs:
            self.ctx.timings["label_model"] = time.monotonic() - start
        for warning in labels.warnings:
            if labels.no_signal and warning.startswith(labels.no_signal):
                self.ctx.warnings.insert(0, warning)
            else:
                self.ctx.warn(warning)
        self.no_signal = labels.no_signal
        return labels

    @staticmethod
    def _save_matrix(out: Path, votes: Votes) -> None:
        np.savez_compressed(buf := io.BytesIO(), names=np.array(votes.names), **votes.matrices)
        atomic_write_bytes(out / "label_matrix.npz", buf.getvalue())

    @contextmanager
    def _reporting(self, out: Path, report: dict, t0: float):
        """Whatever happens inside, report.json (and .html) is written with the status and timings."""
        c, timings = self.config, self.ctx.timings
        try:
            yield
            report["status"] = "no signal" if self.no_signal else "ok"
            if self.no_signal:
                report["status_reason"] = self.no_signal
        except BaseException as e:
            report.update(status="interrupted" if isinstance(e, KeyboardInterrupt) else "failed",
                          error=str(e) or type(e).__name__)
            raise
        finally:
            timings["total"] = time.monotonic() - t0
            keys = (("generate",) if c.command != "apply" else ()) + ("apply", "label_model") + (
                ("embeddings",) if "embeddings" in timings else ()) + ("distill", "total")
            report["timings_s"] = {k: round(timings.get(k, 0.0), 3) for k in keys}
            report["warnings"] = self.ctx.warnings
            atomic_write_json(out / "report.json", report)
            write_html(report, out / "report.html")
            if c.json_path is not None and report["status"] in ("ok", "no signal"):
                atomic_write_json(Path(c.json_path), report)

    # --- the order of the stages ------------------------------------------------------------------
    def run(self) -> dict:
        """Run every stage; return the report dict (also written as report.json)."""
        c = self.config
        if (c.backend == "dask" and c.command == "apply" and not c.human and is_lazy_source(c.dataset)
                and not csv_image_column(Path(c.dataset).expanduser(), c.text_column)):  # image CSVs: in memory
            return self.run_lazy()
        t0 = time.monotonic()
        dataset = self.data.load()
        if dataset.modality == "text":
            self.distiller.check_encoder()  # before any LLM call: a model that cannot load costs nothing
        votes = files = None
        if c.command == "zero-shot":
            dataset = sample_splits(dataset, c.limit)
            votes, programs_dir = self.generation.zero_shot_votes(dataset)
        else:
            if dataset.modality == "image":  # before any LLM call: an unreadable image costs nothing
                self.images.embed(dataset)
                if c.command == "apply":
                    self.images.score(dataset, self.images.concepts_of(c.programs_dir))
            programs_dir = self.generation.generate(dataset) if c.command == "run" else c.programs_dir
            # Read everything that can fail on bad input before a results folder is created.
            if c.human:
                votes, notes = human_votes(dataset.splits, str(dataset.train.path))
                self.ctx.warnings.extend(notes)
            else:
                files = load_program_dir(Path(programs_dir))
        out = self.output_dir(dataset, programs_dir)
        generation = self.generation.summary
        if c.command == "run" and dataset.modality == "text":  # a text LLM cannot label images directly
            generation["zero_shot_estimate"] = self.generation.zero_shot_comparison(dataset)
        store = self.generation.run_store
        report = {"dataset": dataset.name, "metric": dataset.card.metric,
                  "classes": dataset.card.classes, "output_dir": str(out),
                  "programs_source": ("human (weak_labels)" if c.human else
                                      f"zero-shot answers ({c.code_model})" if c.command == "zero-shot"
                                      else str(programs_dir)),
                  "splits": {s: len(sp) for s, sp in dataset.splits.items()}, "status": "running",
                  "data": c.data_spec(), **({"data_note": self.data.note} if self.data.note else {}),
                  "date": now(), "command": c.command, **({"command_line": c.command_line} if c.command_line else {}),
                  "generated_by": generated_by(store.manifest if store
                                               else read_manifest(None if c.human else c.programs_dir)),
                  "valid_balance": valid_balance(dataset.get("valid"), dataset.card.classes),
                  "gold_rows": gold_rows(dataset),
                  **({"modality": "image", "concepts": dataset.concepts, "clip_model": c.clip_model}
                     if dataset.modality == "image" else {}),
                  **generation}
        with self._reporting(out, report, t0):
            if votes is None:
                votes = self._apply(dataset, files)
            else:
                self.ctx.timings["apply"] = 0.0
            self._save_matrix(out, votes)
            labels = self._label(dataset, votes)
            report["labeled_rows"] = sum(int(c.sum()) for c in labels.covered.values())
            write_labels(out, dataset, labels, self.ctx.progress)  # kept even if distillation fails
            dist = self.distiller.run(dataset, labels)
            if labels.by_model:  # rows no program voted on now have the distilled model's label
                write_labels(out, dataset, labels, self.ctx.progress)
            model = dist.pop("model", None)
            if model is not None:
                model.save(out / MODEL_FILE)
                dist["model_path"] = str(out / MODEL_FILE)
            if dataset.modality == "image" and not self.no_signal:  # no scores shown: no group scores either
                report["groups"] = self.images.group_report(dataset, labels, model)
            rows, overall = program_rows(dataset, votes, self.verdicts, files)
            report.update(overall)
            train = votes.matrices.get("train")
            report.update(programs=rows, label_model=labels.label_model, majority_vote=labels.majority_vote,
                          distilled=dist, calibration=labels.calibration, sandbox=votes.layers, sandbox_note=votes.sandbox_note,
                          disagreements=disagreements(dataset.get("train"), train, votes.usable, votes.names,
                                                      labels.probs.get("train"), dataset.card.classes),
                          agreement=agreement(train, votes.names, dataset.card.n_classes))
        return report

    def run_lazy(self) -> dict:
        """Data too big for memory (--backend dask with a Parquet/CSV file): see pipeline/lazy.py."""
        t0 = time.monotonic()
        c = self.config
        card = lazy_card(self.ctx)
        frame = read_frame(c.dataset, c.text_column)
        files = load_program_dir(Path(c.programs_dir))
        out = new_run_dir(c.out_dir or Path(c.programs_dir) / "results")
        dataset = Dataset(name=card.name, card=card, root=Path(c.dataset), splits={})
        report = {"dataset": card.name, "metric": card.metric, "classes": card.classes, "output_dir": str(out),
                  "programs_source": str(c.programs_dir), "status": "running", "backend": "dask"}
        with self._reporting(out, report, t0):
            start = time.monotonic()
            votes = self.applier(card.n_classes).apply_frame(files, frame, c.text_column, self.ctx.progress)
            self.ctx.timings["apply"] = time.monotonic() - start
            self._save_matrix(out, votes)
            labels = self._label(dataset, votes)
            report["labeled_rows"] = sum(int(c.sum()) for c in labels.covered.values())
            n_rows = len(votes.matrices["train"])
            write_row_labels(out, card, labels, n_rows)
            report["distilled"] = (distill_sample(self.ctx, frame, votes, labels, card, out) if c.distill else
                                   {"skipped": "--no-distill: no distilled model was trained"})
            report["calibration"] = {"label_model": {"rows": 0, "calibrated": False, "reason": (
                "data read by partitions has no gold rows to calibrate on: the confidence is the label model's own "
                "probability, uncalibrated")}}
            rows, overall = program_rows(dataset, votes, self.verdicts)
            report.update(overall, programs=rows, label_model=labels.label_model,
                          majority_vote=labels.majority_vote, sandbox=votes.layers, splits={"train": n_rows})
        return report
