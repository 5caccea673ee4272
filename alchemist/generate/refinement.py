"""Refinement rounds of a generation run: weak programs are shown valid rows they got wrong and asked
for a better version; the better of old and new on the other half of valid is kept.

Files: the kept version is always `lf_NN.py` (what `apply` runs); the original of every program that
was refined and each candidate are kept under `refinement/` (`lf_NN.round0.py`, `lf_NN.round1.py`, ...).
The manifest's `refinement` section records every request and decision. The mode only talks to the
LLM; programs run here, in the sandbox, on valid rows only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from alchemist.core.concurrency import run_all
from alchemist.data.datasets import Dataset
from alchemist.generate.mistakes import GUARD, mistakes, net_score, split_valid, summary, weakness
from alchemist.generate.modes import BaseMode, GeneratedProgram
from alchemist.generate.prompts import shown_texts
from alchemist.generate.run_store import RunStore
from alchemist.llm.session import BudgetExceeded
from alchemist.sandbox import ProgramSource

ApplyValid = Callable[[list[ProgramSource], str], np.ndarray]  # sources, stage title -> valid columns


def chosen_rows(dataset: Dataset) -> np.ndarray:
    """Train rows a person answered from the chosen pool (text runs): refinement shows their mistakes too."""
    gold = dataset.train_gold
    if gold is None or dataset.modality != "text":
        return np.zeros(0, dtype=int)
    return np.flatnonzero(gold >= 0)


@dataclass
class Refiner:
    dataset: Dataset
    mode: BaseMode
    store: RunStore
    check: Callable[[str], str]
    apply_valid: ApplyValid
    llm_stage: Callable  # (title, total, unit) -> a progress stage context that shows LLM spending
    header: Callable[[GeneratedProgram], dict]
    section: dict = field(default_factory=dict)

    def run(self, programs: list[GeneratedProgram], rounds: int) -> dict:
        valid = self.dataset.get("valid")
        if valid is None or not valid.has_labels:
            self.section = {"rounds": 0, "skipped": "no labeled valid split: programs cannot be checked against "
                                                    "gold labels"}
            return self.section
        gold = np.asarray(valid.labels)
        shown, decide = split_valid(gold)
        chosen = chosen_rows(self.dataset)  # a person's answers to chosen rows: shown, never deciding
        texts = shown_texts(valid) + [self.dataset.train.texts[r] for r in chosen]
        gold = np.concatenate([gold, self.dataset.train_gold[chosen]]) if len(chosen) else gold
        shown = np.concatenate([shown, np.ones(len(chosen), bool)])
        decide = np.concatenate([decide, np.zeros(len(chosen), bool)])
        self.section = {"rounds_requested": rounds, "rounds": 0, "guard": GUARD,
                        "valid_rows": {"shown": int(shown.sum()) - len(chosen), "decide": int(decide.sum())},
                        **({"chosen_rows_shown": len(chosen)} if len(chosen) else {}), "requests": []}
        self.store.manifest["refinement"] = self.section
        current = {p.index: p for p in programs if p.status == "ok"}
        for r in range(1, rounds + 1):
            if not self._round(r, current, gold, shown, decide, texts):
                break
            self.section["rounds"] = r
            self.store.write()
        self.store.write()
        return self.section

    def _round(self, r: int, current: dict[int, GeneratedProgram], gold, shown, decide, texts) -> bool:
        """One round; False when no program was weak (nothing left to refine)."""
        n_classes = self.dataset.card.n_classes
        order = sorted(current)
        columns = self.apply_valid([ProgramSource(current[i].name, current[i].code) for i in order],
                                   f"Round {r}: checking {len(order)} programs on valid")
        weak = [(i, k, why) for k, i in enumerate(order) if (why := weakness(columns[:, k], gold, shown, n_classes))]
        if not weak:
            self.section["requests"].append({"round": r, "note": "no weak programs"})
            return False
        stopped: BudgetExceeded | None = None
        try:
            candidates = self._ask_all(r, weak, columns, gold, shown, texts, current)
        except BudgetExceeded as e:  # decide on the answers already paid for, then stop
            candidates, stopped = e.partial, e
            self.section["stopped"] = f"in round {r}, {len(weak)} weak program(s): {e}"
        if candidates:
            new_cols = self.apply_valid([ProgramSource(c[2].name, c[2].code) for c in candidates],
                                        f"Round {r}: checking {len(candidates)} new versions on valid")
            for j, (i, k, new, record) in enumerate(candidates):
                old_score = net_score(columns[:, k], gold, decide, n_classes)
                new_score = net_score(new_cols[:, j], gold, decide, n_classes)
                record.update(old_score=round(old_score, 4), new_score=round(new_score, 4),
                              kept="new" if new_score > old_score else "old")
                if new_score > old_score:  # a tie keeps the old one: no churn without evidence
                    self._replace(current[i], new, r, old_score, new_score)
                    current[i] = new
        if stopped is not None:
            raise stopped
        return True

    def _ask_all(self, r: int, weak: list, columns, gold, shown, texts, current: dict) -> list[tuple]:
        """One request per weak program, side by side; the new versions that work, in program order."""
        classes = self.dataset.card.classes
        candidates: list[tuple[int, int, GeneratedProgram, dict]] = []

        def ask(item: tuple) -> tuple[list, GeneratedProgram]:
            i, k, _ = item
            shown_rows = mistakes(columns[:, k], gold, texts, shown, classes)
            return shown_rows, self.mode.refine_one(i, current[i].code, summary(columns[:, k], gold, shown),
                                                    shown_rows, self.check, r)

        def done(item: tuple, answer: tuple) -> None:  # in this thread, as each answer comes
            (i, k, why), (shown_rows, new) = item, answer
            record = {"round": r, "program": current[i].name, "weakness": why, "mistakes_shown": len(shown_rows),
                      "status": new.status, "reason": new.reason, "cost_usd": round(new.cost_usd, 8),
                      "candidate_file": self._save_candidate(current[i], new, r)}
            with self.store.lock:  # other requests are still in flight, recording their calls
                self.section["requests"].append(record)
                self.store.write()
            stage.advance(1)
            if new.status == "ok":
                candidates.append((i, k, new, record))

        with self.llm_stage(f"Round {r}: asking for better versions of {len(weak)} weak program"
                            + ("s" if len(weak) != 1 else ""), len(weak), "programs") as stage:
            try:
                run_all(weak, ask, self.mode.llm.settings.concurrency, done)
            except BudgetExceeded as e:
                e.partial = sorted(candidates, key=lambda c: c[0])
                raise
            finally:
                self.section["requests"].sort(key=lambda rec: (rec["round"], rec.get("program", "")))
        return sorted(candidates, key=lambda c: c[0])

    def _save_candidate(self, old: GeneratedProgram, new: GeneratedProgram, r: int) -> str:
        folder = self.store.dir / "refinement"
        original = folder / f"{old.name}.round0.py"
        if r == 1 and not original.exists():
            self.store.write_program(original, old, self.header(old))
        path = folder / f"{old.name}.round{r}.py"
        self.store.write_program(path, new, self.header(new))
        return str(path.relative_to(self.store.dir))

    def _replace(self, old: GeneratedProgram, new: GeneratedProgram, r: int, before: float, after: float) -> None:
        header = {**self.header(new), "refined": f"in round {r}: score on the deciding half of valid {before:.3f} -> "
                  f"{after:.3f}; earlier versions are in refinement/"}
        self.store.write_program(self.store.dir / f"{old.name}.py", new, header)
        for entry in self.store.manifest["programs"]:
            if entry["name"] == old.name:
                entry.update(strategy=new.strategy, refined_in_round=r)
