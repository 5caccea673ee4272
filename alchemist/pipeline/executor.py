"""Executor: runs one RunConfig end to end. The only place that knows the order of the stages.

dataset -> programs (gate) -> sandboxed apply -> label model (+ majority vote) -> distillation
-> analysis -> report. Outputs are written stage by stage into a fresh results folder, so a
failure late in the run keeps what the earlier stages produced.
"""

from __future__ import annotations

import csv
import io
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from alchemist.labeling.analysis import matrix_stats
from alchemist.programs.column_cache import ColumnCache, data_fingerprint
from alchemist.data.datasets import SPLITS, Dataset, EvalSplit, load_dataset, require_text, sample_splits, split_for_evaluation
from alchemist.data.readers import Columns
from alchemist.distill.fit import (MODEL_FILE, FeatureSet, candidates_for, distill, fit_count, prepare,
                               selection)
from alchemist.distill.embeddings import TextEncoder
from alchemist.core.errors import AlchemistError
from alchemist.data.tasks import TaskCard, card_for_classes, load_card_file
from alchemist.core.files import atomic_write_bytes, atomic_write_json, atomic_write_text, new_run_dir
from alchemist.labeling.choice import choose
from alchemist.labeling.label_models import MajorityVote
from alchemist.data.images import csv_image_column
from alchemist.labeling.metrics import class_balance, distribution, per_class, score
from alchemist.programs.program_files import Program, load_program_dir
from alchemist.core.progress import NullProgress, Progress, plural
from alchemist.generate.prompts import IMAGE_KNOWLEDGE_TYPES
from alchemist.programs.apply.dask import DaskApplier, is_lazy_source, read_frame
from alchemist.sandbox import ProgramRun, SandboxApplier
from alchemist.sandbox.rows import join_rows
from alchemist.report.page_data import (agreement, disagreements, generated_by, now, read_manifest, source_text,
                                   valid_balance)
from alchemist.report.html import write_html
from alchemist.labeling.vetting import Verdict, vet
from alchemist.pipeline.run_config import RunConfig
from alchemist.pipeline.settings import Settings, load_settings
from alchemist.pipeline.images import ImageStages
from alchemist.pipeline.generation import LLMStages
from alchemist.programs.votes import Programs


class Executor(LLMStages, ImageStages):
    def __init__(self, config: RunConfig, progress: Progress | None = None, settings: Settings | None = None):
        config.validate()
        self.config = config
        self.settings = settings or load_settings()
        self.progress = progress or NullProgress()
        self.timings: dict[str, float] = {}
        self.warnings: list[str] = []
        self.generation: dict = {}
        self._stage = None  # the live progress stage of the LLM calls, while they run
        self._run_store = None  # the generation run's folder and manifest, once the LLM stage ran
        self.cached_columns: list[str] = []  # programs whose column came from the column cache
        self.verdicts: list[Verdict] = []  # vetting on valid, one per program
        self._text_encoder: TextEncoder | None = None  # loaded only if embeddings are a candidate
        self.data_note = ""  # what was done to the data before labeling (held-out splits)
        self.no_signal = ""  # why the run's scores mean nothing (no votes at all, one class for every row)

    # --- stages -----------------------------------------------------------------------------------
    def load(self) -> Dataset:
        """Read the data; a labeled file without valid/test splits gets them held out of train. What the
        run will not be able to score is said now, before anything is spent."""
        c = self.config
        dataset = load_dataset(c.dataset, c.data_dir, Columns(c.text_column, c.label_column, c.group_column),
                               c.classes, c.task_card)
        if dataset.modality == "image":
            self._check_image_run(dataset)
        dataset, self.data_note = split_for_evaluation(dataset, EvalSplit(c.split_valid, c.split_test, c.split_seed))
        if self.data_note:
            self.progress.log(f"note: {self.data_note}")
        found = []
        for split in ("valid", "test"):
            if dataset.get(split) is None:
                found.append(f"no {split} split: " + ("no program accuracies or class balance" if split == "valid"
                                                      else "no test scores"))
            elif not dataset.splits[split].has_labels:
                found.append(f"the {split} split has no gold labels: no {split} scores")
        if not any(s.has_labels for s in dataset.splits.values()):
            found = [f"no gold labels anywhere in {dataset.root.name} (label column '{c.label_column}'): the run "
                     "labels your rows but can score nothing"] + found
        for warning in found:
            self.progress.log(f"warning: {warning}")
        self.warnings.extend(found)
        return dataset

    def load_rows(self) -> Dataset:
        """The data as the programs see it: load(), and for image data each image's concept scores (from
        --concepts or the programs' concepts.json). What the review screen reads."""
        dataset = self.load()
        if dataset.modality == "image":
            self.score_concepts(dataset, self.run_concepts(self.config.programs_dir))
        return dataset

    def _check_image_run(self, dataset: Dataset) -> None:
        """What an image run cannot do, said before anything is spent."""
        c = self.config
        if c.command == "zero-shot":
            require_text(dataset, "zero-shot")
        if c.human:
            raise AlchemistError(f"{dataset.root}: an image dataset has no human programs' votes (--human)")
        if c.command == "run" and c.mode == "alchemist-rag":
            raise AlchemistError("image runs take the concepts the knowledge LLM lists, not documents: use "
                                 "--mode alchemist or scriptoriumws")
        if c.command == "run" and c.mode == "alchemist" and c.knowledge_type not in IMAGE_KNOWLEDGE_TYPES:
            raise AlchemistError(f"knowledge type '{c.knowledge_type}' is for text; image runs take "
                                 f"{' or '.join(IMAGE_KNOWLEDGE_TYPES)} (--knowledge-type)")
        if c.features not in ("auto", "clip"):
            self.warnings.append(f"--features {c.features} is for text: an image run's distilled model reads "
                                 "CLIP image embeddings")

    def output_dir(self, dataset: Dataset, programs_dir: Path | None) -> Path:
        c = self.config
        if c.command == "apply" and c.out_dir is not None:
            return new_run_dir(c.out_dir)
        if c.human:
            return new_run_dir(c.saved_dir / dataset.name / "human")
        return new_run_dir(Path(programs_dir) / "results")

    # --- generation (command "run") ------------------------------------------------------------
    def human_programs(self, dataset: Dataset) -> Programs:
        train = dataset.train
        if train.weak_labels is None:
            raise AlchemistError(f"{train.path}: this dataset has no weak_labels (votes of human-written "
                                 "programs), so --human has nothing to apply")
        m = train.weak_labels.shape[1]
        matrices = {}
        for name, split in dataset.splits.items():
            if split.weak_labels is None:
                self.warnings.append(f"{split.path.name} has no weak_labels: its rows count as uncovered")
                matrices[name] = np.full((len(split), m), -1, dtype=np.int8)
            else:
                matrices[name] = split.weak_labels
        names = [f"human_{j + 1:02d}" for j in range(m)]
        return Programs(names, ["ok"] * m, [""] * m, matrices, [None] * m, {},
                        "not used: the human programs' votes are read from the dataset; nothing was executed")

    def apply_programs(self, dataset: Dataset, programs: list[Program]) -> Programs:
        """Run the gated programs in the sandbox; columns already computed for this data come from
        the column cache, so after editing one program only that one runs again."""
        c = self.config
        ok = [p for p in programs if p.status == "ok"]
        texts = join_rows([sp.rows for s in SPLITS if (sp := dataset.get(s))])  # texts, or concept scores
        start = time.monotonic()
        cache = ColumnCache(self.settings.cache_root / "columns") if c.column_cache else None
        fingerprint = data_fingerprint(texts, dataset.card.n_classes, c.limits) if cache else ""
        found = {p.name: hit for p in ok if cache and (hit := cache.get(p.source, fingerprint, len(texts)))}
        todo = [p for p in ok if p.name not in found]
        result = None
        if todo:
            applier = self._applier([p.as_source() for p in todo], dataset.card.n_classes)
            with self.progress.stage(f"Applying {plural(len(todo), 'program')}"
                                     + (f" ({len(found)} more from the column cache)" if found else ""),
                                     total=len(texts)) as stage:
                result = applier.apply(texts, progress=stage.advance)
        self.timings["apply"] = time.monotonic() - start
        matrix = np.full((len(texts), len(programs)), -1, dtype=np.int8)
        runs: list[ProgramRun | None] = [None] * len(programs)
        statuses, reasons = [p.status for p in programs], [p.reason for p in programs]
        fresh = {p.name: (result.matrix[:, k], result.runs[k]) for k, p in enumerate(todo)} if result else {}
        for i, p in enumerate(programs):
            if p.name not in found and p.name not in fresh:
                continue
            column, run = found.get(p.name) or fresh[p.name]
            matrix[:, i], runs[i] = column, run
            statuses[i], reasons[i] = self._status(run, len(texts))
            if cache and p.name in fresh:
                cache.put(p.source, fingerprint, column, run)
        self.cached_columns = sorted(found)
        matrices, offset = {}, 0
        for s in SPLITS:
            if (sp := dataset.get(s)) is not None:
                matrices[s] = matrix[offset:offset + len(sp)]
                offset += len(sp)
        note = ""
        if found:
            note = (f"{len(found)} column(s) came from the column cache" if todo else
                    "not used this time: every column came from the column cache (computed earlier in the sandbox)")
        return Programs([p.name for p in programs], statuses, reasons, matrices, runs,
                        result.layers if result else {}, note)

    def _applier(self, sources, n_classes: int) -> SandboxApplier | DaskApplier:
        c = self.config
        if c.backend == "dask":
            return DaskApplier(sources, n_classes, c.limits, c.scheduler, c.partition_rows)
        return SandboxApplier(sources, n_classes, c.limits)

    @staticmethod
    def _status(run: ProgramRun, n_rows: int) -> tuple[str, str]:
        if run.load_error:
            return "failed", f"failed to load: {run.load_error}"
        if run.disabled_reason:
            return "disabled", run.disabled_reason
        if n_rows and sum(run.errors.values()) >= n_rows:
            sample = run.samples[0] if run.samples else ""
            return "failed", f"failed on every row; e.g. {sample}"
        return "ok", ""

    def vet(self, dataset: Dataset, progs: Programs) -> None:
        """Leave duplicates, programs without votes and worse-than-chance ones (on valid) out of the
        label model: their status and reason say why. Valid support and accuracy are always reported;
        with --no-vetting, and for the one column of zero-shot answers, nobody is left out."""
        valid = dataset.get("valid")
        train = progs.matrices.get("train")
        if train is None:
            return
        self.verdicts = vet(train, progs.matrices.get("valid"), valid.labels if valid is not None else None,
                            dataset.card.n_classes, progs.names)
        if self.config.command == "zero-shot" or not self.config.vetting:
            return
        usable = progs.usable
        for i, v in enumerate(self.verdicts):
            if i in usable and v.status != "ok":
                progs.statuses[i], progs.reasons[i] = v.status, v.reason
        if usable and not progs.usable:  # every program vetted out: keep the distinct ones that vote
            for i in usable:
                if self.verdicts[i].status == "below chance":
                    progs.statuses[i], progs.reasons[i] = "ok", ""
            self.warnings.append("every program is no better than chance on valid: they label this run anyway")

    def label(self, dataset: Dataset, progs: Programs) -> dict:
        """Choose (on valid) and fit the label model; majority vote too; score both on valid and test."""
        card, c = dataset.card, self.config
        cols = progs.usable
        out: dict = {"label_model": {"name": c.label_model, "requested": c.label_model, "valid": None, "test": None},
                     "majority_vote": {"valid": None, "test": None}, "probs": {}}
        if not cols:
            self.warnings.append("no usable programs: no label model, no labels, no distilled model")
            return out
        if not any((L[:, cols] >= 0).any() for L in progs.matrices.values()):
            self._no_signal("no program voted on any row (every answer was an abstain)")
            return out
        valid = dataset.get("valid")
        balance = class_balance(valid.labels, card.n_classes) if valid is not None else None
        requested = "majority" if c.command == "zero-shot" else c.label_model  # one column: the answers are the labels
        start = time.monotonic()
        train_L = progs.matrices["train"][:, cols]
        valid_L = progs.matrices["valid"][:, cols] if "valid" in progs.matrices else None
        with self.progress.stage(f"Label model ({requested})", total=None, unit="steps"):
            choice = choose(requested, train_L, valid_L, valid.labels if valid is not None else None,
                            card.n_classes, card.metric, card.positive_class, balance)
        if choice.name != requested and requested != "auto":
            self.warnings.append(choice.reason)
        out["label_model"].update(reason=choice.reason, candidates=choice.candidates)
        self._label_outputs(dataset, progs, out, choice.name, choice.model)
        # The train labels to distill from: with auto, label models close on valid compete there too.
        out["options"] = (choice.finalists(train_L) if requested == "auto" else
                          {choice.name: np.where((train_L >= 0).any(axis=1), out["probs"]["train"].argmax(1), -1)})
        self.timings["label_model"] = time.monotonic() - start
        covered = (train_L >= 0).any(axis=1)
        given = np.unique(out["probs"]["train"].argmax(1)[covered])
        if len(given) == 1:
            self._no_signal(f"every labeled row got one class ({card.classes[int(given[0])]}): scores would only "
                            "measure how common that class is")
            for part in ("label_model", "majority_vote"):
                out[part].update(valid=None, test=None)
        return out

    def _no_signal(self, why: str) -> None:
        self.no_signal = why
        self.warnings.insert(0, f"{why}; no scores are shown")

    def _label_outputs(self, dataset: Dataset, progs: Programs, out: dict, name: str, lm) -> None:
        """Probabilities of every split from label model `name`, and its scores (majority vote's beside)."""
        card, cols = dataset.card, progs.usable
        mv = MajorityVote(card.n_classes)
        out["label_model"]["name"] = name
        for split_name, L in progs.matrices.items():
            probs = lm.predict_proba(L[:, cols])
            out["probs"][split_name] = probs
            if split_name == "train":  # what the distilled model learns from: the covered rows' labels
                covered = (L[:, cols] >= 0).any(axis=1)
                out["label_model"]["train_distribution"] = distribution(probs.argmax(1)[covered], card.classes)
            if split_name in ("valid", "test"):
                split = dataset.splits[split_name]
                predicted = probs.argmax(1)
                out["label_model"][split_name] = score(split.labels, predicted, card.metric, card.positive_class)
                out["label_model"][f"{split_name}_per_class"] = per_class(split.labels, predicted, card.classes)
                out["majority_vote"][split_name] = score(split.labels, mv.predict(L[:, cols]), card.metric,
                                                         card.positive_class)

    def distill(self, dataset: Dataset, progs: Programs, labels: dict) -> dict:
        """Distill; with several label models offered, the pair (training labels, features) best on valid
        wins. The run's labels stay those of the label model chosen on its own (each product is chosen
        on valid by its own score)."""
        card, c = dataset.card, self.config
        result = {"seeds": c.seeds, "test_mean": None, "test_std": None, "scores": [], "trained_on": 0}
        if "train" not in labels["probs"]:
            return result
        valid, test = dataset.get("valid"), dataset.get("test")
        valid_labels = valid.labels if valid is not None and valid.has_labels else None
        options = labels["options"]
        start = time.monotonic()
        sets = (self.image_feature_sets(dataset) if dataset.modality == "image"
                else self.features(dataset, valid_labels is not None))
        choosing = valid_labels is not None and len(sets) * len(options) > 1
        plan = selection(dataset.train.texts, valid.texts) if choosing else None
        steps = fit_count(sets, c.seeds, valid_labels is not None, plan, len(options))
        with self.progress.stage("Distilling (" + (" or ".join(s.features.label for s in sets) or "no features")
                                 + (f", labels of {len(options)} label models" if len(options) > 1 else "") + ")",
                                 total=steps, unit="fits") as stage:
            res = distill(sets, options, card.classes, c.seeds, valid_labels, test.labels if test is not None and test.has_labels else None,
                          card.metric, card.positive_class, plan=plan, on_fit=stage.advance)
        self.timings["distill"] = time.monotonic() - start
        if res.error:
            self.warnings.append(f"no distilled model: {res.error}")
        result.update(seeds=res.seeds, test_mean=res.mean, test_std=res.std, scores=res.scores,
                      trained_on=res.trained_on, per_class=res.per_class, valid=res.valid,
                      confusion_matrix=res.per_class["confusion_matrix"] if res.per_class else None,
                      features={"requested": "clip" if dataset.modality == "image" else c.features,
                                "chosen": res.features, "classifier": res.classifier, "labels": res.labels,
                                "candidates": res.candidates, "reason": res.reason, "selection": res.selection,
                                "embedding_model": self._encoder().description
                                if any(s.features.name in ("embeddings", "combined") for s in sets) else
                                self.clip_encoder().description if dataset.modality == "image" else None})
        result["model"] = res.model
        return result

    def features(self, dataset: Dataset, can_choose: bool) -> list[FeatureSet]:
        """Each candidate's features; embeddings come from the cache or are computed once (own progress bar)."""
        c = self.config
        names = candidates_for(c.features) if can_choose or c.features != "auto" else ["tfidf"]
        texts = [dataset.get(s).texts if dataset.get(s) is not None else [] for s in SPLITS]
        encoder = self._encoder() if {"embeddings", "combined"} & set(names) else None
        todo = sum(encoder.missing(split) for split in texts) if encoder else 0  # cached per split, as encoded
        start = time.monotonic()
        with self.progress.stage(f"Embedding texts ({encoder.description})" if todo else "Building features",
                                 total=todo or None, unit="rows") as stage:
            sets, notes = prepare(names, *texts, encoder=encoder, advance=stage.advance if todo else None)
        if todo:
            self.timings["embeddings"] = time.monotonic() - start
        self.warnings.extend(notes)
        return sets

    def _encoder(self) -> TextEncoder:
        if self._text_encoder is None:
            self._text_encoder = TextEncoder(self.settings.cache_root / "embeddings")
        return self._text_encoder

    # --- report -----------------------------------------------------------------------------------
    def program_rows(self, dataset: Dataset, progs: Programs,
                     programs: list[Program] | None = None) -> tuple[list[dict], dict]:
        """One row per program for the report; `programs` give the sources (human votes have none)."""
        L = progs.matrices["train"]
        sources = {p.name: p.source for p in programs or []}
        stats = matrix_stats(L[:, progs.usable], dataset.card.n_classes) if progs.usable else None
        rows = []
        usable_pos = {i: k for k, i in enumerate(progs.usable)}
        for i, name in enumerate(progs.names):
            run = progs.runs[i] if progs.runs else None
            k = usable_pos.get(i)
            rows.append({
                "name": name, "status": progs.statuses[i], "reason": progs.reasons[i],
                "coverage": float((L[:, i] >= 0).mean()) if len(L) else 0.0,  # also of a program left out
                "overlap": float(stats.overlap[k]) if k is not None else 0.0,
                "conflict": float(stats.conflict[k]) if k is not None else 0.0,
                "valid_accuracy": self.verdicts[i].valid_accuracy if self.verdicts else None,
                "valid_support": self.verdicts[i].valid_support if self.verdicts else 0,
                "valid_chance": self.verdicts[i].chance if self.verdicts else None,
                "errors": dict(run.errors) if run else {},
                "error_samples": list(run.samples) if run else [],
                "faults": run.crashes if run else 0,
                "from_cache": name in self.cached_columns,
                "source": source_text(sources.get(name)),
            })
        overall = {"coverage": stats.total_coverage if stats else 0.0,
                   "overlap": stats.total_overlap if stats else 0.0,
                   "conflict": stats.total_conflict if stats else 0.0}
        return rows, overall

    def write_labels(self, out: Path, dataset: Dataset, progs: Programs, labels: dict) -> None:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["split", "id", "image" if dataset.modality == "image" else "text", "label", "label_name",
                         "confidence", "covered", "gold"])
        classes = dataset.card.classes
        for name, split in dataset.splits.items():
            probs = labels["probs"].get(name)
            covered = (progs.matrices[name][:, progs.usable] >= 0).any(axis=1) if progs.usable else np.zeros(len(split), bool)
            for r in range(len(split)):
                lab = int(probs[r].argmax()) if probs is not None and covered[r] else -1
                gold = int(split.labels[r])
                writer.writerow([name, split.ids[r], split.texts[r], lab, classes[lab] if lab >= 0 else "",
                                 f"{probs[r].max():.4f}" if lab >= 0 else "", int(covered[r]),
                                 gold if gold >= 0 else ""])
        atomic_write_text(out / "labels.csv", buf.getvalue())

    @contextmanager
    def _reporting(self, out: Path, report: dict, t0: float):
        """Whatever happens inside, report.json (and .html) is written with the status and timings."""
        c = self.config
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
            self.timings["total"] = time.monotonic() - t0
            keys = (("generate",) if c.command != "apply" else ()) + ("apply", "label_model") + (
                ("embeddings",) if "embeddings" in self.timings else ()) + ("distill", "total")
            report["timings_s"] = {k: round(self.timings.get(k, 0.0), 3) for k in keys}
            report["warnings"] = self.warnings
            atomic_write_json(out / "report.json", report)
            write_html(report, out / "report.html")
            if c.json_path is not None and report["status"] in ("ok", "no signal"):
                atomic_write_json(Path(c.json_path), report)

    def run(self) -> dict:
        """Run every stage; return the report dict (also written as report.json)."""
        c = self.config
        if (c.backend == "dask" and c.command == "apply" and not c.human and is_lazy_source(c.dataset)
                and not csv_image_column(Path(c.dataset).expanduser(), c.text_column)):  # image CSVs: in memory
            return self.run_lazy()
        t0 = time.monotonic()
        dataset = self.load()
        progs = files = None
        if c.command == "zero-shot":
            dataset = sample_splits(dataset, c.limit)
            progs, programs_dir = self.zero_shot_programs(dataset)
        else:
            if dataset.modality == "image":  # before any LLM call: an unreadable image costs nothing
                self.embed_images(dataset)
                if c.command == "apply":
                    self.score_concepts(dataset, self.run_concepts(c.programs_dir))
            programs_dir = self.generate(dataset) if c.command == "run" else c.programs_dir
            # Read everything that can fail on bad input before a results folder is created.
            progs = self.human_programs(dataset) if c.human else None
            files = None if c.human else load_program_dir(Path(programs_dir))
        out = self.output_dir(dataset, programs_dir)
        if c.command == "run" and dataset.modality == "text":  # a text LLM cannot label images directly
            self.generation["zero_shot_estimate"] = self.zero_shot_comparison(dataset)
        report = {"dataset": dataset.name, "metric": dataset.card.metric,
                  "classes": dataset.card.classes, "output_dir": str(out),
                  "programs_source": ("human (weak_labels)" if c.human else
                                      f"zero-shot answers ({c.code_model})" if c.command == "zero-shot"
                                      else str(programs_dir)),
                  "splits": {s: len(sp) for s, sp in dataset.splits.items()}, "status": "running",
                  "data": c.data_spec(), **({"data_note": self.data_note} if self.data_note else {}),
                  "date": now(), "command": c.command,
                  "generated_by": generated_by(self._run_store.manifest if self._run_store
                                               else read_manifest(None if c.human else c.programs_dir)),
                  "valid_balance": valid_balance(dataset.get("valid"), dataset.card.classes),
                  **({"modality": "image", "concepts": dataset.concepts, "clip_model": c.clip_model}
                     if dataset.modality == "image" else {}),
                  **self.generation}
        with self._reporting(out, report, t0):
            if progs is None:
                progs = self.apply_programs(dataset, files)
            else:
                self.timings["apply"] = 0.0
            np.savez_compressed(buf := io.BytesIO(), names=np.array(progs.names), **progs.matrices)
            atomic_write_bytes(out / "label_matrix.npz", buf.getvalue())
            self.vet(dataset, progs)
            labels = self.label(dataset, progs)
            self.write_labels(out, dataset, progs, labels)
            dist = self.distill(dataset, progs, labels)
            model = dist.pop("model", None)
            if model is not None:
                model.save(out / MODEL_FILE)
                dist["model_path"] = str(out / MODEL_FILE)
            if dataset.modality == "image" and not self.no_signal:  # no scores shown: no group scores either
                report["groups"] = self.group_report(dataset, labels, model)
            rows, overall = self.program_rows(dataset, progs, files)
            report.update(overall)
            report.update(programs=rows, label_model=labels["label_model"],
                          majority_vote=labels["majority_vote"], distilled=dist, sandbox=progs.layers,
                          sandbox_note=progs.sandbox_note,
                          disagreements=disagreements(dataset.get("train"), progs.matrices.get("train"),
                                                      progs.usable, progs.names, labels["probs"].get("train"),
                                                      dataset.card.classes),
                          agreement=agreement(progs.matrices.get("train"), progs.names, dataset.card.n_classes))
        return report

    # --- data too big for memory (--backend dask with a Parquet/CSV file) --------------------------
    DISTILL_SAMPLE = 100_000

    def _lazy_card(self) -> TaskCard:
        c = self.config
        if c.task_card is not None:
            return load_card_file(c.task_card)
        if not c.classes:
            raise AlchemistError("data read by Dask needs its classes: --classes a,b,... or --task-card FILE")
        return card_for_classes(Path(c.dataset).stem.replace("*", "") or "data", c.classes)

    def run_lazy(self) -> dict:
        """Apply, aggregate and distill without ever holding the texts in memory: the label matrix
        (int8) is built partition by partition inside Dask workers; distillation trains on a sample."""
        t0 = time.monotonic()
        c = self.config
        card = self._lazy_card()
        frame = read_frame(c.dataset, c.text_column)
        files = load_program_dir(Path(c.programs_dir))
        out = new_run_dir(c.out_dir or Path(c.programs_dir) / "results")
        dataset = Dataset(name=card.name, card=card, root=Path(c.dataset), splits={})
        report = {"dataset": card.name, "metric": card.metric, "classes": card.classes, "output_dir": str(out),
                  "programs_source": str(c.programs_dir), "status": "running", "backend": "dask"}
        with self._reporting(out, report, t0):
            ok = [p for p in files if p.status == "ok"]
            start = time.monotonic()
            applier = DaskApplier([p.as_source() for p in ok], card.n_classes, c.limits, c.scheduler)
            with self.progress.stage(f"Applying {plural(len(ok), 'program')} with Dask", total=None) as stage:
                result = applier.apply_frame(frame, c.text_column, stage.advance)
            self.timings["apply"] = time.monotonic() - start
            L = np.full((len(result.matrix), len(files)), -1, dtype=np.int8)
            runs: list[ProgramRun | None] = [None] * len(files)
            statuses, reasons = [p.status for p in files], [p.reason for p in files]
            for k, p in enumerate(ok):
                i = files.index(p)
                L[:, i], runs[i] = result.matrix[:, k], result.runs[k]
                statuses[i], reasons[i] = self._status(result.runs[k], len(L))
            progs = Programs([p.name for p in files], statuses, reasons, {"train": L}, runs, result.layers)
            np.savez_compressed(buf := io.BytesIO(), names=np.array(progs.names), train=L)
            atomic_write_bytes(out / "label_matrix.npz", buf.getvalue())
            self.vet(dataset, progs)
            labels = self.label(dataset, progs)
            self._write_lazy_labels(out, card, progs, labels)
            report["distilled"] = self._distill_sample(frame, progs, labels, card, out)
            rows, overall = self.program_rows(dataset, progs)
            report.update(overall, programs=rows, label_model=labels["label_model"],
                          majority_vote=labels["majority_vote"], sandbox=progs.layers, splits={"train": len(L)})
        return report

    def _write_lazy_labels(self, out: Path, card: TaskCard, progs: Programs, labels: dict) -> None:
        """labels.csv by row number (the texts stay in the user's file)."""
        probs = labels["probs"].get("train")
        covered = (progs.matrices["train"][:, progs.usable] >= 0).any(axis=1) if progs.usable else None
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["row", "label", "label_name", "confidence", "covered"])
        for r in range(len(progs.matrices["train"])):
            hit = probs is not None and covered is not None and covered[r]
            lab = int(probs[r].argmax()) if hit else -1
            writer.writerow([r, lab, card.classes[lab] if hit else "", f"{probs[r].max():.4f}" if hit else "",
                             int(bool(hit))])
        atomic_write_text(out / "labels.csv", buf.getvalue())

    def _distill_sample(self, frame, progs: Programs, labels: dict, card: TaskCard, out: Path) -> dict:
        """Distill on a random sample of covered rows, fetching only those texts, partition by partition."""
        c = self.config
        result = {"seeds": c.seeds, "test_mean": None, "test_std": None, "scores": [], "trained_on": 0}
        probs = labels["probs"].get("train")
        if probs is None:
            return result
        covered = np.flatnonzero((progs.matrices["train"][:, progs.usable] >= 0).any(axis=1))
        rows = np.sort(np.random.default_rng(0).choice(covered, min(len(covered), self.DISTILL_SAMPLE),
                                                        replace=False))
        sizes = frame.map_partitions(len).compute().tolist()
        offsets = np.cumsum([0] + sizes)
        texts: list[str] = []
        for part, (lo, hi) in enumerate(zip(offsets[:-1], offsets[1:], strict=True)):
            local = rows[(rows >= lo) & (rows < hi)] - lo
            if len(local):
                column = frame.partitions[part][c.text_column].compute()
                texts += ["" if t is None or t != t else str(t) for t in column.iloc[local].tolist()]
        start = time.monotonic()
        if c.features == "embeddings":
            self.warnings.append("the Dask backend distills with TF-IDF features (--features embeddings is "
                                 "for in-memory data)")
        sets, notes = prepare(["tfidf"], texts)
        self.warnings.extend(notes)
        with self.progress.stage(f"Distilling (TF-IDF + MLP, {c.seeds} seeds, {len(rows)} sampled rows)",
                                 total=c.seeds, unit="fits") as stage:
            res = distill(sets, probs[rows].argmax(1), card.classes, c.seeds, on_fit=stage.advance)
        self.timings["distill"] = time.monotonic() - start
        if res.error:
            self.warnings.append(f"no distilled model: {res.error}")
        if res.model is not None:
            res.model.save(out / MODEL_FILE)
            result["model_path"] = str(out / MODEL_FILE)
        result["trained_on"] = res.trained_on
        return result

