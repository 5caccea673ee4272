"""The LLM stages of a run: generating programs (the modes), zero-shot labeling, the RAG store.

A stage object of `Executor`, which alone decides the order of stages. Every call lands in the run's
manifest as it is made; `summary` holds what the report says of the LLM stage (calls, tokens, dollars).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np

from alchemist.core.errors import AlchemistError
from alchemist.core.progress import plural
from alchemist.core.safe_text import safe_url
from alchemist.data.datasets import Dataset, subset
from alchemist.generate.modes import AlchemistRAGMode, BaseMode, GeneratedProgram, ModeSettings, mode_class
from alchemist.generate.prompts import TaskPrompts, concepts_prompt, pick_examples, prompts_for
from alchemist.generate.rag import KnowledgeStore, RagSettings, build_query
from alchemist.generate.refinement import Refiner, chosen_rows
from alchemist.generate.run_store import RunStore
from alchemist.generate.zero_shot import ZeroShotLabeler
from alchemist.generate.zero_shot import estimate as zero_shot_estimate
from alchemist.images import concepts as concept_files
from alchemist.llm.cache import ResponseCache
from alchemist.llm.catalogue import ModelSpec, destinations, get_model
from alchemist.llm.session import BudgetExceeded, CallSettings, LLMError, LLMSession, check_api_key
from alchemist.llm.tokens import TokenCounter
from alchemist.pipeline.context import RunContext
from alchemist.pipeline.image_stage import ImageStage
from alchemist.programs.apply.base import ProgramApplier
from alchemist.programs.trial import make_checker, trial_rows
from alchemist.programs.votes import Votes


class GenerationStage:
    def __init__(self, ctx: RunContext, images: ImageStage, applier: Callable[[int], ProgramApplier]):
        self.ctx = ctx
        self.images = images  # image runs: the concepts the LLM lists are scored there
        self.applier = applier  # n_classes -> the run's applier (refinement checks programs on valid)
        self.on_concepts: Callable[[list[str]], list[str]] | None = None  # the wizard's hook: may edit concepts
        self.summary: dict = {}  # what the report says of the LLM stage
        self.run_store: RunStore | None = None  # the run's folder and manifest, once the LLM stage ran
        self._stage = None  # the live progress stage of the LLM calls, while they run

    def _models(self, mode_cls, images: bool = False) -> tuple[ModelSpec, ModelSpec | None]:
        c = self.ctx.config
        code = get_model(c.code_model, self.ctx.settings.models)
        knowledge = (get_model(c.knowledge_model or c.code_model, self.ctx.settings.models)
                     if mode_cls.two_stage or images else None)  # image runs: the knowledge LLM lists concepts
        if not c.offline:
            for spec in {code, knowledge} - {None}:
                check_api_key(spec)  # before a run folder exists: a missing key costs nothing
        self._say_where([code, knowledge], "your task description and sample rows"
                        + (", excerpts of your documents" if c.mode == "alchemist-rag" else ""))
        return code, knowledge

    def _say_where(self, models: list, what: str) -> None:
        """Before any request: which providers will receive the user's data (also recorded in the report)."""
        c = self.ctx.config
        where = destinations(models, c.base_url)
        if c.offline:
            self.ctx.progress.log(f"offline: replies come from the reply cache only; nothing is sent ({where})")
            return
        self.ctx.progress.log(f"LLM requests ({what}) go to: {where}")
        if c.mode == "alchemist-rag" and c.embeddings == "openai" and c.command == "run":
            self.ctx.progress.log("your documents' chunks are embedded by OpenAI (--embeddings openai)")
        self.summary["sent_to"] = where

    def _header(self, program: GeneratedProgram, mode: BaseMode, dataset: Dataset) -> dict:
        s = mode.settings
        knowledge = f" (knowledge: {s.knowledge_type})" if mode.two_stage else ""
        replies = program.replies
        return {
            "dataset": dataset.name, "mode": f"{mode.name}{knowledge}",
            "code model": f"{s.code_model.name} ({s.code_model.provider}: {s.code_model.api_id})",
            "knowledge model": s.knowledge_model.name if s.knowledge_model else "",
            "prompt sha256": program.code_prompt_sha256,
            "tokens": f"{program.input_tokens} in / {program.output_tokens} out over {len(replies)} call(s)",
            "cost": f"${program.cost_usd:.6f}" + (f" ({program.cached_calls} cached call(s) at $0)"
                                                  if program.cached_calls else ""),
            "strategy": program.strategy,
            "status": program.status + (f" — {program.reason}" if program.reason else ""),
        }

    def _open_run(self, dataset: Dataset, mode: str, config: dict) -> tuple[RunStore, LLMSession]:
        """A run folder and an LLM session whose every call lands in its manifest (and the live line)."""
        c = self.ctx.config
        store = RunStore(c.out_dir or c.saved_dir, dataset.name, mode, config)

        session: LLMSession | None = None

        def show() -> None:  # the live line: requests in flight, tokens and dollars so far
            t = store.manifest["totals"]
            if self._stage is not None and session is not None:
                self._stage.note(f"{session.in_flight} in flight, {t['llm_calls']} calls done "
                                 f"({t['cached_calls']} cached), {t['input_tokens'] + t['output_tokens']:,} tokens, "
                                 f"${t['cost_usd']:.4f}")

        def on_call(record: dict) -> None:
            store.record_call(record)
            show()

        session = LLMSession(CallSettings(timeout_s=c.llm_timeout_s, retries=c.llm_retries, offline=c.offline,
                                          base_url=c.base_url, max_cost_usd=c.max_cost,
                                          concurrency=c.concurrency, use_cache=c.use_cache),
                             cache=ResponseCache(self.ctx.settings.cache_dir), on_call=on_call, on_send=show)
        return store, session

    @contextmanager
    def _recording(self, store: RunStore, kept: Callable[[], str]):
        """Close the manifest with how the LLM stage ended; `kept()` says what was kept."""
        try:
            yield
        except BudgetExceeded as e:
            store.finish("stopped: budget", str(e))
            self.ctx.warn(f"stopped early: {e}; made so far: {kept()}")
        except LLMError as e:
            store.finish("failed", str(e))
            raise AlchemistError(f"{e}. What was made so far ({kept()}) is kept in {store.dir}") from None
        except BaseException as e:
            interrupted = isinstance(e, KeyboardInterrupt)
            store.finish("interrupted" if interrupted else "failed", str(e) or type(e).__name__)
            if interrupted:
                self.ctx.progress.log(f"Interrupted: what was made so far ({kept()}) is kept in {store.dir}")
            raise
        else:
            store.finish("complete")
        finally:
            self._stage = None
            self.run_store = store
            totals = store.manifest["totals"]
            self.summary.update({"run_dir": str(store.dir), "llm_calls": totals["llm_calls"],
                                 "cached_calls": totals["cached_calls"], "cost_usd": totals["cost_usd"],
                                 "input_tokens": totals["input_tokens"], "output_tokens": totals["output_tokens"]})

    def generate(self, dataset: Dataset) -> Path:
        """Ask the LLM for programs; save each as it is done. Returns the run folder."""
        c = self.ctx.config
        mode_cls = mode_class(c.mode)
        code_model, knowledge_model = self._models(mode_cls, dataset.modality == "image")
        examples = pick_examples(dataset) if mode_cls.two_stage and c.knowledge_type == "examples" else ""
        pending: list[dict] = []  # embedding calls (OpenAI embeddings) made before the run folder exists
        sink = [pending.append]
        knowledge_store = (self._knowledge_store(lambda record: sink[0](record))
                           if mode_cls is AlchemistRAGMode else None)
        store, session = self._open_run(dataset, mode_cls.name,
                                        self._run_config(code_model, knowledge_model, dataset.modality == "image"))
        for record in pending:
            store.record_call(record)
        sink[0] = store.record_call
        saved: list[GeneratedProgram] = []

        def keep(program: GeneratedProgram) -> None:
            store.save_program(program, self._header(program, mode, dataset))  # the manifest records the data
            saved.append(program)
            self._stage.advance(1)

        start = time.monotonic()
        refiner = None
        with self._recording(store, lambda: f"{len(saved)} program(s)"):
            if c.silver and dataset.modality == "text":  # before the programs: refinement learns from them
                self._silver(dataset, session, store, code_model)
            if dataset.modality == "image":  # the concepts first: the programs read their scores
                self._image_concepts(dataset, session, store, knowledge_model or code_model)
            mode = mode_cls(prompts_for(dataset, c.description, c.prompt_rows), session,
                            ModeSettings(code_model, knowledge_model, c.knowledge_type if mode_cls.two_stage else None,
                                         c.temperature, c.max_output_tokens, examples))
            if knowledge_store is not None:
                query = build_query(mode.prompts.description, dataset.card.classes, dataset.card.class_descriptions,
                                    c.knowledge_type)
                chunks = knowledge_store.retrieve(query)
                mode.retrieve = lambda: chunks
                store.manifest["rag"] = {**asdict(knowledge_store.info), "query": query, "top_k": c.top_k,
                                         "chunk_size": c.chunk_size, "chunk_overlap": c.chunk_overlap,
                                         "paths": [str(p) for p in c.rag_paths]}
                store.write()
            check = make_checker(trial_rows(dataset.train.rows, c.trial_rows), dataset.card.n_classes, c.limits)
            with self.ctx.progress.stage(f"Writing {plural(c.num_programs, 'program')} with {code_model.name}",
                                     total=c.num_programs, unit="programs") as self._stage:
                mode.generate(c.num_programs, check, keep)
            if c.refine_rounds > 0 and saved:
                refiner = Refiner(dataset, mode, store, check, self._valid_applier(dataset), self._llm_stage,
                                  lambda p: self._header(p, mode, dataset))
                refiner.run(saved, c.refine_rounds)
        if refiner is not None:  # also when the budget stopped it part-way: what it decided stands
            self.summary["refinement"] = refiner.section
        self.ctx.timings["generate"] = time.monotonic() - start
        self.summary.update(programs_written=len(saved), programs_ok=sum(p.status == "ok" for p in saved))
        if not saved:
            raise AlchemistError(f"no programs were written; see {store.dir / 'manifest.json'}")
        return store.dir

    def _silver(self, dataset: Dataset, session: LLMSession, store: RunStore, spec: ModelSpec) -> None:
        """--silver N: the code LLM labels N random train rows; they become the valid split, marked silver
        (vetting and choices only). Nothing is done when valid already has gold labels."""
        from alchemist.generate.zero_shot import DEFAULT_BATCH_SIZE

        c = self.ctx.config
        valid = dataset.get("valid")
        if valid is not None and valid.has_labels:
            self.ctx.warn(f"--silver {c.silver} not used: the valid split has gold labels")
            return
        train = dataset.train
        rows = np.sort(np.random.default_rng(0).choice(len(train), min(c.silver, len(train)), replace=False))
        texts = [train.texts[r] for r in rows]
        prompts = TaskPrompts(dataset.card, c.description)
        est = zero_shot_estimate(prompts, spec, texts, TokenCounter(spec, self.ctx.settings.cache_root / "tiktoken"),
                                 DEFAULT_BATCH_SIZE)
        self.ctx.progress.log(f"note: silver labels: {spec.name} labels {len(rows):,} random train rows "
                              f"({est.calls} calls, about ${est.usd:.4f}); they stand in for gold in vetting and "
                              "choices only")
        with self.ctx.progress.stage(f"Silver labels ({spec.name})", total=len(rows), unit="rows") as self._stage:
            result = ZeroShotLabeler(prompts, session, spec, DEFAULT_BATCH_SIZE).label(
                texts, tick=self._stage.advance, split="silver")
        answered = result.labels >= 0
        silver = subset(train, rows[answered], "valid")
        silver.labels = result.labels[answered].astype(np.int64)
        taken = set(rows[answered].tolist())
        kept = [r for r in range(len(train)) if r not in taken]
        splits = {"train": subset(train, kept), "valid": silver}
        if dataset.train_gold is not None:  # a person's chosen answers stay with their rows
            dataset.train_gold = dataset.train_gold[kept]
        splits.update({k: v for k, v in dataset.splits.items() if k not in ("train", "valid")})
        dataset.splits = splits
        dataset.gold_rows = {"source": "silver", "model": spec.name, "asked": len(rows),
                             "labeled": int(answered.sum()), "unparseable_replies": result.failed_calls}
        store.manifest["silver"] = dataset.gold_rows
        store.write()
        if not answered.any():
            self.ctx.warn(f"--silver: {spec.name} gave no usable label for any of the {len(rows)} rows")

    def _image_concepts(self, dataset: Dataset, session: LLMSession, store: RunStore, model: ModelSpec) -> None:
        """The concepts of an image run — the knowledge LLM's list, or --concepts FILE — shown to the
        wizard's hook (which may edit them), saved as concepts.json in the run folder, then scored."""
        c = self.ctx.config
        if c.concepts_path is not None:
            concepts, source = concept_files.load(c.concepts_path), str(c.concepts_path)
        else:
            system, user = concepts_prompt(dataset.card, c.description, c.concepts_per_class)
            with self._llm_stage(f"Listing concepts with {model.name}", 1, "calls") as stage:
                reply = session.complete(model, system, user, temperature=c.temperature,
                                         max_tokens=c.max_output_tokens, meta={"stage": "concepts"})
                stage.advance(1)
            concepts, source = concept_files.parse_reply(reply.text), f"the knowledge LLM ({model.name})"
        if self.on_concepts is not None:
            returned = self.on_concepts(list(concepts))
            if returned != concepts:  # edited: cleaned as an LLM's list is; used as given otherwise
                concepts, source = concept_files.tidy(returned), source + ", edited"
            if len(concepts) < 2:
                raise AlchemistError("at least two concepts are needed")
        path = concept_files.save(store.dir, concepts)
        store.manifest["concepts"] = {"file": path.name, "source": source, "count": len(concepts),
                                      "clip_model": c.clip_model}
        store.write()
        self.ctx.progress.log(f"{plural(len(concepts), 'concept')} from {source}, saved in {path}")
        self.images.score(dataset, concepts)

    @contextmanager
    def _llm_stage(self, title: str, total: int, unit: str):
        """A progress stage whose live line also shows the LLM calls, tokens and cost so far."""
        with self.ctx.progress.stage(title, total=total, unit=unit) as self._stage:
            yield self._stage

    def _valid_applier(self, dataset: Dataset) -> Callable:
        """Run programs on the valid rows only (refinement never sees test), with a progress bar."""
        texts = dataset.get("valid").rows if dataset.get("valid") is not None else []  # texts, or concept scores
        chosen = chosen_rows(dataset)  # and the rows a person answered from the chosen pool (text runs)
        if len(chosen):
            texts = list(texts) + [dataset.train.texts[r] for r in chosen]

        def apply(sources: list, title: str) -> np.ndarray:
            with self.ctx.progress.stage(title, total=len(texts)) as stage:
                return self.applier(dataset.card.n_classes).run_sources(sources, texts, stage.advance).matrix

        return apply

    def _knowledge_store(self, on_usage: Callable[[dict], None]) -> KnowledgeStore:
        c = self.ctx.config
        return KnowledgeStore(RagSettings(c.rag_paths, c.chunk_size, c.chunk_overlap, c.top_k, c.embeddings),
                              self.ctx.settings.cache_root / "rag", self.ctx.progress, on_usage,
                              warn=self.ctx.warn)

    def zero_shot_votes(self, dataset: Dataset) -> tuple[Votes, Path]:
        """The baseline: the LLM labels the rows directly; its answers are one column of votes."""
        c = self.ctx.config
        spec = get_model(c.code_model, self.ctx.settings.models)
        if not c.offline:
            check_api_key(spec)
        self._say_where([spec], "the rows to label")
        store, session = self._open_run(dataset, "zero-shot", {
            "dataset": c.dataset, "data": c.data_spec(), "mode": "zero-shot", "code_model": spec.to_dict(),
            "limit": c.limit,
            "batch_size": c.batch_size, "description": c.description, "max_cost": c.max_cost,
            "concurrency": c.concurrency})
        labeler = ZeroShotLabeler(TaskPrompts(dataset.card, c.description), session, spec, c.batch_size)
        matrices = {name: np.full((len(split), 1), -1, dtype=np.int8) for name, split in dataset.splits.items()}
        done = 0
        results: list[tuple[str, object]] = []  # (split, ZeroShotResult)
        start = time.monotonic()
        total = sum(len(s) for s in dataset.splits.values())
        def tick(n: int) -> None:
            nonlocal done
            done += n
            self._stage.advance(n)

        with self._recording(store, lambda: f"labels for {done} row(s)"):
            with self.ctx.progress.stage(f"Zero-shot labeling with {spec.name}", total=total) as self._stage:
                for name, split in dataset.splits.items():
                    try:
                        results.append((name, labeler.label(split.texts, tick=tick, split=name)))
                    except BudgetExceeded as e:  # keep the labels of the batches already answered
                        results.append((name, e.partial))
                        raise
        for name, result in results:
            matrices[name][:, 0] = result.labels
        failed = sum(r.failed_calls for _, r in results)
        unknown = sum(r.unknown_answers for _, r in results)
        problems = [p for _, r in results for p in r.problems]
        self.ctx.timings["generate"] = time.monotonic() - start
        store.manifest["zero_shot"] = {"rows_labeled": done, "unparseable_replies": failed,
                                       "unknown_answers": unknown, "examples": problems[:3]}
        store.write()
        reason = f"{failed} unparseable repl(ies), {unknown} unknown answer(s)" if failed or unknown else ""
        if problems:
            reason += f"; e.g. {problems[0]}"
        self.summary.update(zero_shot=store.manifest["zero_shot"])
        return Votes([f"zero_shot_{spec.name}"], ["ok"], [reason], matrices, [None], {},
                        "not used: the labels were answered by an LLM directly; no program ran"), store.dir

    def zero_shot_comparison(self, dataset: Dataset) -> dict:
        """What labeling every training row directly with the code model would cost, beside this run: priced
        as `main.py zero-shot` would do it, DEFAULT_BATCH_SIZE rows per call (its text says so)."""
        from alchemist.generate.zero_shot import DEFAULT_BATCH_SIZE

        c = self.ctx.config
        spec = get_model(c.code_model, self.ctx.settings.models)
        counter = TokenCounter(spec, self.ctx.settings.cache_root / "tiktoken")
        est = zero_shot_estimate(TaskPrompts(dataset.card, c.description), spec, dataset.train.texts, counter,
                                 DEFAULT_BATCH_SIZE)
        replayed = 0.0
        for call in self.run_store.manifest["calls"]:
            model = self.ctx.settings.models.get(call["model"])
            if call.get("cached") and model is not None:
                replayed += model.cost(call.get("input_tokens", 0), call.get("output_tokens", 0))
        full = self.summary["cost_usd"] + replayed
        return {**est.to_dict(), "run_cost_usd": round(full, 8), "replayed_usd": round(replayed, 8),
                "times_more": round(est.usd / full, 1) if full > 0 else None}

    def _run_config(self, code_model: ModelSpec, knowledge_model: ModelSpec | None, images: bool = False) -> dict:
        c = self.ctx.config
        return {"dataset": c.dataset, "data": c.data_spec(), "mode": c.mode, "code_model": code_model.to_dict(),
                "knowledge_model": knowledge_model.to_dict() if knowledge_model else None,
                "knowledge_type": c.knowledge_type if knowledge_model else None,
                "num_programs": c.num_programs, "temperature": c.temperature,
                "max_output_tokens": c.max_output_tokens, "description": c.description,
                "base_url": safe_url(c.base_url) or None, "offline": c.offline, "max_cost": c.max_cost, "concurrency": c.concurrency,
                "trial_rows": c.trial_rows, "prompt_rows": c.prompt_rows, "refine_rounds": c.refine_rounds,
                "label_model": c.label_model, "seeds": c.seeds, "features": c.features,
                "embedding_model": c.embedding_model, "device": c.device,
                **({"clip_model": c.clip_model, "concepts_per_class": c.concepts_per_class} if images else {}),
                **({"rag_paths": [str(p) for p in c.rag_paths], "embeddings": c.embeddings}
                   if c.mode == "alchemist-rag" else {})}

