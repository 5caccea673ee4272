"""The zero-shot baseline: an LLM labels every row directly (what Alchemist avoids paying for).

`estimate` prices it with the model's tokenizer when available offline; `ZeroShotLabeler` does it for
real, several rows per call, parsing the JSON answers strictly (anything unparseable abstains).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from alchemist.core.concurrency import run_all
from alchemist.data.tasks import TaskCard
from alchemist.generate.prompts import TaskPrompts, fill
from alchemist.llm.catalogue import ModelSpec
from alchemist.llm.session import BudgetExceeded, LLMSession
from alchemist.llm.tokens import TokenCounter

DEFAULT_BATCH_SIZE = 10  # rows per call of `main.py zero-shot` (--batch-size): estimates price it the same way
MAX_ITEM_CHARS = 4000  # longer texts are cut before they are sent (and estimated)
JSON_BLOCK = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


@dataclass
class ZeroShotEstimate:
    model: str
    rows: int
    calls: int
    input_tokens: int
    output_tokens: int
    usd: float
    token_method: str
    output_assumption: str
    batch_size: int = DEFAULT_BATCH_SIZE
    output_tokens_per_label: float = 0.0

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def _item(i: int, text: str) -> str:
    return f"[{i}] {' '.join(text[:MAX_ITEM_CHARS].split())}"


def batch_prompt(prompts: TaskPrompts, texts: Sequence[str]) -> tuple[str, str]:
    card = prompts.card
    common = prompts.common()
    example = json.dumps([card.classes[i % card.n_classes] for i in range(min(2, len(texts)) or 1)])
    user = fill("zero_shot_user", description=prompts.description, item=card.item,
                class_list=common["class_list"], n=str(len(texts)), example=example,
                items="\n".join(_item(i + 1, t) for i, t in enumerate(texts)))
    return fill("zero_shot_system"), user


def typical_reply(classes: Sequence[str], n: int, counter: TokenCounter) -> str:
    """A reply to a batch of n rows in the form the prompt asks for: a JSON array of n class names, in the
    ```json fence models like to put around it. Every name is the dearest class, so the count errs high."""
    dearest = max(classes, key=lambda c: (counter.count(json.dumps(c)), len(c)))  # ties: the longer
    return f"```json\n{json.dumps([dearest] * n)}\n```"


def estimate(prompts: TaskPrompts, spec: ModelSpec, texts: Sequence[str], counter: TokenCounter,
             batch_size: int = DEFAULT_BATCH_SIZE) -> ZeroShotEstimate:
    """Cost of labeling `texts` directly with `spec`, `batch_size` rows per call."""
    system, empty_user = batch_prompt(prompts, [])
    overhead = counter.count(system) + counter.count(empty_user)
    calls = -(-len(texts) // batch_size) if texts else 0
    items = sum(counter.count(_item(i % batch_size + 1, t)) + 1 for i, t in enumerate(texts))
    input_tokens = calls * overhead + items
    # The reply is counted as it is written, not per label: JSON punctuation and the fence cost tokens
    # too, and a tokenizer splits long class names into several.
    classes = prompts.card.classes
    full, rest = divmod(len(texts), batch_size)
    per_call = counter.count(typical_reply(classes, batch_size, counter))
    output_tokens = full * per_call + (counter.count(typical_reply(classes, rest, counter)) if rest else 0)
    per_label = round(per_call / batch_size, 2)
    assumption = (f"{batch_size} rows per call; each reply a JSON array of {batch_size} class names "
                  f"(counted at the longest) in a ```json fence: {per_call} output tokens, {per_label:g} per label")
    return ZeroShotEstimate(spec.name, len(texts), calls, input_tokens, output_tokens,
                            spec.cost(input_tokens, output_tokens), counter.method, assumption,
                            batch_size, per_label)


def parse_labels(reply: str, n: int, card: TaskCard) -> tuple[list[int], str]:
    """Class ids for n items from a JSON array answer; -1 where an answer is missing or unknown.
    The second value names the problem when the whole reply is unusable."""
    text = reply.strip()
    m = JSON_BLOCK.search(text)
    if m:
        text = m.group(1).strip()
    try:
        answer = json.loads(text)
    except (ValueError, RecursionError):
        return [-1] * n, "the reply is not JSON"
    if isinstance(answer, dict) and len(answer) == 1 and isinstance(next(iter(answer.values())), list):
        answer = next(iter(answer.values()))  # {"labels": [...]}
    if not isinstance(answer, list) or len(answer) != n:
        return [-1] * n, f"expected a JSON array of {n} labels"
    names = {c.lower(): i for i, c in enumerate(card.classes)}
    labels = []
    for value in answer:
        if isinstance(value, str) and value.strip().lower() in names:
            labels.append(names[value.strip().lower()])
        elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value < card.n_classes:
            labels.append(value)
        else:
            labels.append(-1)
    return labels, ""


@dataclass
class ZeroShotResult:
    labels: np.ndarray  # int8, -1 = no usable answer
    failed_calls: int = 0
    unknown_answers: int = 0
    problems: list[str] = field(default_factory=list)


class ZeroShotLabeler:
    def __init__(self, prompts: TaskPrompts, llm: LLMSession, spec: ModelSpec,
                 batch_size: int = DEFAULT_BATCH_SIZE, max_tokens: int = 1024):
        self.prompts, self.llm, self.spec = prompts, llm, spec
        self.batch_size, self.max_tokens = batch_size, max_tokens

    def label(self, texts: Sequence[str], tick: Callable[[int], None] | None = None,
              split: str = "") -> ZeroShotResult:
        """Labels for every text, batches side by side (up to the session's concurrency). A failure stops
        new batches; the labels of batches already answered are on the exception (`partial`)."""
        out = ZeroShotResult(labels=np.full(len(texts), -1, dtype=np.int8))
        found: list[tuple[int, str]] = []  # (first row, problem): answers arrive in any order

        def ask(start: int) -> str:
            batch = texts[start:start + self.batch_size]
            system, user = batch_prompt(self.prompts, batch)
            meta = {"stage": "zero-shot", "rows": [start, start + len(batch)], **({"split": split} if split else {})}
            return self.llm.complete(self.spec, system, user, temperature=0.0,
                                     max_tokens=max(self.max_tokens, 16 * len(batch)), sample=0, meta=meta).text

        def done(start: int, reply: str) -> None:
            n = len(texts[start:start + self.batch_size])
            labels, problem = parse_labels(reply, n, self.prompts.card)
            if problem:
                out.failed_calls += 1
                found.append((start, f"rows {start}-{start + n - 1}: {problem}"))
            else:
                out.unknown_answers += labels.count(-1)
            out.labels[start:start + n] = labels
            if tick:
                tick(n)

        try:
            run_all(range(0, len(texts), self.batch_size), ask, self.llm.settings.concurrency, done)
        except BudgetExceeded as e:
            e.partial = out
            raise
        finally:
            out.problems = [text for _, text in sorted(found)[:3]]
        return out
