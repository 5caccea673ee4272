"""Alchemist with RAG: the knowledge LLM reads excerpts of the user's own documents (retrieved for
the task and the knowledge type, fenced as quoted data), writes labeling knowledge from them, and
the code LLM writes a program from that knowledge, as in the other Alchemist mode."""

from __future__ import annotations

from typing import Callable

from alchemist.generate.modes.alchemist_mode import AlchemistMode
from alchemist.generate.modes.base import GeneratedProgram
from alchemist.generate.rag import Chunk, fence


class AlchemistRAGMode(AlchemistMode):
    name = "alchemist-rag"
    two_stage = True
    retrieve: Callable[[], list[Chunk]] | None = None  # set by the executor: the top-k chunks for the task

    def knowledge_context(self, program: GeneratedProgram) -> str:
        chunks = self.retrieve() if self.retrieve else []
        program.context = [c.record() for c in chunks]
        return fence(chunks) if chunks else ""
