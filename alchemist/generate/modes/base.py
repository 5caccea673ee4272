"""BaseMode: how a mode turns LLM replies into labeling programs.

A mode builds prompts and calls the LLM; it never executes code. Whether a program is usable is
decided by the `check` callback the executor passes in (static gate + sandboxed trial run).
Per program: [knowledge call] -> code call -> (if unusable) one repair call with the exact error.
That chain is in order; different programs are written side by side (up to the session's concurrency),
each from its own angle (prompts/angles.txt), so program N is always the one written from prompt N.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from alchemist.core.safe_text import clean
from alchemist.core.concurrency import run_all
from alchemist.generate.extract import extract_code, strategy_of
from alchemist.generate.prompts import TaskPrompts, angle_for, angles
from alchemist.llm.catalogue import ModelSpec
from alchemist.llm.session import LLMReply, LLMSession

Check = Callable[[str], str]  # program source -> "" if usable, else the exact problem


@dataclass
class ModeSettings:
    code_model: ModelSpec
    knowledge_model: ModelSpec | None = None
    knowledge_type: str | None = None
    temperature: float | None = 0.7
    max_tokens: int = 2048
    examples: str = ""  # labeled examples for the 'examples' knowledge type


@dataclass
class GeneratedProgram:
    index: int  # 1-based
    code: str
    status: str  # ok | rejected
    reason: str = ""
    strategy: str = ""
    knowledge: str | None = None
    code_prompt_sha256: str = ""
    replies: list[LLMReply] = field(default_factory=list)
    context: list[dict] = field(default_factory=list)  # document chunks that informed it (RAG mode)

    @property
    def name(self) -> str:
        return f"lf_{self.index:02d}"

    @property
    def input_tokens(self) -> int:
        return sum(r.input_tokens for r in self.replies)

    @property
    def output_tokens(self) -> int:
        return sum(r.output_tokens for r in self.replies)

    @property
    def cost_usd(self) -> float:
        return sum(r.cost_usd for r in self.replies)

    @property
    def cached_calls(self) -> int:
        return sum(r.cached for r in self.replies)


class BaseMode:
    name = "base"  # what --mode takes and the run folder is named after
    two_stage = False

    def __init__(self, prompts: TaskPrompts, llm: LLMSession, settings: ModeSettings):
        self.prompts, self.llm, self.settings = prompts, llm, settings
        self.angles = angles(prompts.angles_file)  # text angles, or (image runs) ways to read concept scores

    # --- hooks for subclasses -------------------------------------------------------------------
    def knowledge(self, program: GeneratedProgram) -> str | None:
        """Prior knowledge for one program (two-stage modes ask the knowledge LLM); None for none."""
        return None

    def describe(self) -> dict:
        s = self.settings
        return {"mode": self.name, "code_model": s.code_model.name,
                "knowledge_model": s.knowledge_model.name if s.knowledge_model else None,
                "knowledge_type": s.knowledge_type}

    # --- the dialogue -----------------------------------------------------------------------------
    def _ask(self, model: ModelSpec, system: str, user: str, program: GeneratedProgram, stage: str,
             round_: int = 0) -> LLMReply:
        meta = {"stage": stage, "program": program.name, **({"round": round_} if round_ else {})}
        reply = self.llm.complete(model, system, user, temperature=self.settings.temperature,
                                  max_tokens=self.settings.max_tokens, sample=program.index, meta=meta)
        program.replies.append(reply)
        return reply

    @staticmethod
    def _usable(reply: LLMReply, check: Check) -> tuple[str, str]:
        found = extract_code(reply.text, truncated=reply.truncated)
        if not found.code or found.problem:
            return found.code, found.problem
        return found.code, check(found.code)

    def generate_one(self, index: int, check: Check, angle: str | None = None) -> GeneratedProgram:
        """Program `index`, from its own angle (or the one given: e.g. a class to aim at)."""
        program = GeneratedProgram(index=index, code="", status="rejected")
        program.knowledge = self.knowledge(program)
        system = self.prompts.code_system()
        user = self.prompts.code_user(program.knowledge, angle or angle_for(index, self.angles))
        program.code_prompt_sha256 = self.llm.prompt_sha256(system, user)
        reply = self._ask(self.settings.code_model, system, user, program, "code")
        code, problem = self._usable(reply, check)
        if problem:
            repair = self.prompts.repair_user(problem, code=code, reply=reply.text)
            second = self._ask(self.settings.code_model, system, repair, program, "repair")
            code2, problem2 = self._usable(second, check)
            if problem2:
                program.code = code2 or code
                program.reason = clean(f"{problem2} (still, after one repair request; first problem: {problem})", 1000)
                return program
            code = code2
        program.code, program.status = code, "ok"
        program.strategy = strategy_of(code)
        return program

    def refine_one(self, index: int, code: str, summary: str, mistakes: list, check: Check,
                   round_: int = 1) -> GeneratedProgram:
        """A better version of program `index` from rows it got wrong; no repair request (the old one stays)."""
        program = GeneratedProgram(index=index, code="", status="rejected")
        system = self.prompts.code_system()
        user = self.prompts.refine_user(code, summary, mistakes)
        program.code_prompt_sha256 = self.llm.prompt_sha256(system, user)
        reply = self._ask(self.settings.code_model, system, user, program, "refine", round_)
        program.code, problem = self._usable(reply, check)
        if problem:
            program.reason = clean(problem, 1000)
            return program
        program.status, program.strategy = "ok", strategy_of(program.code)
        return program

    def generate(self, n: int, check: Check, on_program: Callable[[GeneratedProgram], None]) -> list[GeneratedProgram]:
        """Write n programs, side by side; each is handed to `on_program` (saved) as soon as it is done.
        A failure (the budget, an API error) stops new programs; those in flight are finished and saved."""
        return run_all(range(1, n + 1), lambda index: self.generate_one(index, check),
                       self.llm.settings.concurrency, lambda index, program: on_program(program))
