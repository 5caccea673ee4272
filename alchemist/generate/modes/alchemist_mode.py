"""Alchemist without RAG: two stages — the knowledge LLM writes prior knowledge of the chosen type
(rules, keywords, description, or an analysis of labeled examples), then the code LLM writes a
program from it. Each program gets its own knowledge sample, so programs differ."""

from __future__ import annotations

from alchemist.generate.modes.base import BaseMode, GeneratedProgram


class AlchemistMode(BaseMode):
    name = "alchemist"
    two_stage = True

    def knowledge_context(self, program: GeneratedProgram) -> str:
        """Extra material for the knowledge prompt (the RAG mode adds retrieved document chunks)."""
        return ""

    def knowledge_prompt(self, program: GeneratedProgram) -> str:
        s = self.settings
        user = self.prompts.knowledge_user(s.knowledge_type or "rules", examples=s.examples)
        context = self.knowledge_context(program)
        return f"{context.rstrip()}\n\n{user}" if context else user

    def knowledge(self, program: GeneratedProgram) -> str | None:
        model = self.settings.knowledge_model or self.settings.code_model
        reply = self._ask(model, self.prompts.knowledge_system(), self.knowledge_prompt(program), program, "knowledge")
        return reply.text.strip() or None
