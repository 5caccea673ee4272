"""What a generation run will cost, before any call: a typical figure and a worst case.

Prompt tokens are counted with each model's tokenizer when it is available offline (else the
stated approximation, see `tokens`); the worst case assumes every reply uses the whole output limit,
every program needs its one repair request and every program is refined in every round.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alchemist.generate.mistakes import MISTAKE_CHARS, MISTAKES
from alchemist.generate.prompts import TaskPrompts, angles
from alchemist.llm.catalogue import ModelSpec
from alchemist.llm.tokens import TokenCounter

TYPICAL_KNOWLEDGE_TOKENS = 400
TYPICAL_PROGRAM_TOKENS = 350
TYPICAL_WEAK_SHARE = 0.5  # programs a refinement round finds weak, typically


@dataclass
class Estimate:
    calls: int  # calls without repairs
    max_calls: int  # with one repair per program
    typical_usd: float
    worst_usd: float


def estimate_run(prompts: TaskPrompts, code: ModelSpec, knowledge: ModelSpec | None, knowledge_type: str | None,
                 n: int, max_tokens: int, examples: str = "", tokenizer_dir: Path | None = None,
                 refine_rounds: int = 0) -> Estimate:
    code_count = TokenCounter(code, tokenizer_dir).count
    longest = max(angles(), key=len, default="")  # each program's prompt names its own angle
    base_code = code_count(prompts.code_system()) + code_count(prompts.code_user(angle=longest))
    typical = worst = 0.0
    if knowledge is not None:
        count = TokenCounter(knowledge, tokenizer_dir).count
        k_in = count(prompts.knowledge_system()) + count(prompts.knowledge_user(knowledge_type or "rules", examples))
        typical += n * knowledge.cost(k_in, TYPICAL_KNOWLEDGE_TOKENS)
        worst += n * knowledge.cost(k_in, max_tokens)
    k_typ = TYPICAL_KNOWLEDGE_TOKENS if knowledge is not None else 0
    k_max = max_tokens if knowledge is not None else 0
    typical += n * code.cost(int(base_code + k_typ), TYPICAL_PROGRAM_TOKENS)
    worst_code_in = int(base_code + k_max)
    worst += n * code.cost(worst_code_in, max_tokens)  # the code call
    worst += n * code.cost(worst_code_in + max_tokens, max_tokens)  # its repair, quoting the reply
    calls = n * (2 if knowledge is not None else 1)
    # Refinement: at most one request per program and round, quoting the program and a few valid rows.
    refine_in = int(base_code + MISTAKES * MISTAKE_CHARS / 3)
    typical += refine_rounds * n * TYPICAL_WEAK_SHARE * code.cost(refine_in + TYPICAL_PROGRAM_TOKENS,
                                                                  TYPICAL_PROGRAM_TOKENS)
    worst += refine_rounds * n * code.cost(refine_in + max_tokens, max_tokens)
    typical_calls = calls + round(refine_rounds * n * TYPICAL_WEAK_SHARE)
    return Estimate(calls=typical_calls, max_calls=calls + n + refine_rounds * n, typical_usd=typical,
                    worst_usd=worst)
