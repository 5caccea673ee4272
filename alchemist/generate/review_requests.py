"""LLM requests made from the review screen: a fixed version of one program from the valid rows it got
wrong, or more programs aimed at the label model's weakest class. Both use the run's own mode, models
and settings (from its manifest), are priced before asking, and land in the run's manifest like every
other call. Programs are checked (gate + trial in the sandbox) here; nothing else runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alchemist.core.concurrency import run_all
from alchemist.core.files import atomic_write_text
from alchemist.data.datasets import Dataset
from alchemist.generate.estimate import TYPICAL_PROGRAM_TOKENS, estimate_run
from alchemist.generate.mistakes import mistakes as pick_mistakes
from alchemist.generate.mistakes import summary as mistakes_summary
from alchemist.generate.modes import GeneratedProgram, ModeSettings, mode_class
from alchemist.generate.prompts import prompts_for, shown_texts
from alchemist.generate.run_store import RunStore
from alchemist.llm.cache import ResponseCache
from alchemist.llm.catalogue import get_model
from alchemist.llm.session import CallSettings, LLMSession, check_api_key
from alchemist.llm.tokens import CHARS_PER_TOKEN
from alchemist.pipeline.settings import Settings
from alchemist.programs.trial import make_checker, trial_rows


@dataclass
class Price:
    typical: float
    worst: float


class RunLLM:
    def __init__(self, run_dir: Path, settings: Settings, dataset: Dataset, limits):
        self.store = RunStore.reopen(run_dir)
        config = self.store.manifest.get("config") or {}
        self.config = config
        mode_cls = mode_class(str(self.store.manifest.get("mode")))
        code = get_model(_model_name(config.get("code_model")), settings.models)
        knowledge = (get_model(_model_name(config.get("knowledge_model")) or code.name, settings.models)
                     if mode_cls.two_stage else None)
        for spec in {code, knowledge} - {None}:
            check_api_key(spec)
        recorded = config.get("base_url") if isinstance(config.get("base_url"), str) else None
        base_url = None if recorded and "[redacted]" in recorded else recorded  # a secret in it was not stored
        session = LLMSession(CallSettings(base_url=base_url, concurrency=int(config.get("concurrency") or 8)),
                             cache=ResponseCache(settings.cache_dir), on_call=self.store.record_call)
        prompts = prompts_for(dataset, config.get("description"), config.get("prompt_rows", 8))
        self.mode = mode_cls(prompts, session, ModeSettings(code, knowledge, config.get("knowledge_type"),
                                                            config.get("temperature", 0.7),
                                                            int(config.get("max_output_tokens") or 2048)))
        self.dataset, self.tokenizer_dir = dataset, settings.cache_root / "tiktoken"
        self.check = make_checker(trial_rows(dataset.train.rows, int(config.get("trial_rows") or 20)),
                                  dataset.card.n_classes, limits)

    # --- a fixed version of one program ------------------------------------------------------------------
    def mistakes_of(self, column: np.ndarray) -> tuple[str, list]:
        """Its summary and the valid rows it got wrong (all of valid: a person decides, not a score)."""
        valid = self.dataset.get("valid")
        gold = np.asarray(valid.labels)
        rows = gold >= 0
        return (mistakes_summary(column, gold, rows),
                pick_mistakes(column, gold, shown_texts(valid), rows, self.dataset.card.classes))

    def price_fix(self, code: str, summary: str, shown: list) -> Price:
        m, s = self.mode, self.mode.settings
        user = m.prompts.refine_user(code, summary, shown)
        worst = m.llm.estimate(s.code_model, m.prompts.code_system(), user, s.max_tokens)
        typical = s.code_model.cost((len(m.prompts.code_system()) + len(user)) // CHARS_PER_TOKEN,
                                    TYPICAL_PROGRAM_TOKENS)
        return Price(typical, worst)

    def fix(self, index: int, code: str, summary: str, shown: list) -> GeneratedProgram:
        program = self.mode.refine_one(index, code, summary, shown, self.check)
        self.store.write()
        return program

    # --- more programs -----------------------------------------------------------------------------------
    def price_more(self, n: int) -> Price:
        s = self.mode.settings
        est = estimate_run(self.mode.prompts, s.code_model, s.knowledge_model, s.knowledge_type, n, s.max_tokens,
                           tokenizer_dir=self.tokenizer_dir)
        return Price(est.typical_usd, est.worst_usd)

    def more(self, indices: list[int], angle: str) -> list[GeneratedProgram]:
        """New programs numbered after the run's last, side by side, each saved as it is done."""
        def save(index: int, program: GeneratedProgram) -> None:
            self.store.save_program(program, {"code model": self.mode.settings.code_model.name,
                                              "strategy": program.strategy, "aimed at": angle,
                                              "cost": f"${program.cost_usd:.6f}",
                                              "status": program.status + (f" — {program.reason}" if program.reason else "")})

        try:
            return run_all(indices, lambda i: self.mode.generate_one(i, self.check, angle), self.mode.llm.settings.concurrency,
                           save)
        finally:
            self.store.write()

    def save_fixed(self, path: Path, program: GeneratedProgram, old_source: str) -> Path:
        """The fixed version becomes lf_NN.py; the one it replaces is kept under refinement/."""
        folder = self.store.dir / "refinement"
        folder.mkdir(exist_ok=True)
        n = len(list(folder.glob(f"{path.stem}.manual*.py"))) + 1
        kept = folder / f"{path.stem}.manual{n}.py"
        atomic_write_text(kept, old_source)
        self.store.write_program(path, program, {"code model": self.mode.settings.code_model.name,
                                                 "fixed": f"from the review screen; the version it replaced is "
                                                          f"refinement/{kept.name}",
                                                 "cost": f"${program.cost_usd:.6f}"})
        return kept


def _model_name(value: object) -> str | None:
    if isinstance(value, dict):
        return value.get("name")
    return value if isinstance(value, str) else None
