"""Generation modes. Each builds prompts and calls the LLM; none executes generated code.

Alchemist with RAG is a subclass of AlchemistMode that overrides `knowledge_context`.
"""

from __future__ import annotations

from alchemist.errors import AlchemistError
from modes.alchemist_with_rag_mode import AlchemistRAGMode
from modes.alchemist_without_rag_mode import AlchemistMode
from modes.base_mode import BaseMode, GeneratedProgram, ModeSettings
from modes.scriptoriumws_mode import ScriptoriumWSMode

MODES: dict[str, type[BaseMode]] = {cls.name: cls for cls in (ScriptoriumWSMode, AlchemistMode, AlchemistRAGMode)}


def mode_class(name: str) -> type[BaseMode]:
    if name not in MODES:
        raise AlchemistError(f"unknown mode '{name}' (choose from {', '.join(MODES)})")
    return MODES[name]


__all__ = ["MODES", "AlchemistMode", "AlchemistRAGMode", "BaseMode", "GeneratedProgram", "ModeSettings",
           "mode_class"]
