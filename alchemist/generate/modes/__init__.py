"""Generation modes: how an LLM is asked for labeling programs. None executes generated code.

    base.py                 BaseMode (per program: [knowledge call] -> code call -> one repair call),
                            ModeSettings, GeneratedProgram
    scriptoriumws.py        ScriptoriumWS: the code LLM writes each program from the task alone
    alchemist_mode.py       Alchemist without RAG: a knowledge LLM writes prior knowledge first
    alchemist_rag_mode.py   Alchemist with RAG: the same, the knowledge drawn from the user's documents

A registry by name, as simonw/llm keeps its models: `register(cls)` adds a mode (its `name` is what
`--mode` takes; add the name to core/choices.py to offer it on the command line); `mode_class(name)`
finds one. The names users choose from live in core/choices.py so `--help` needs no mode code.
"""

from __future__ import annotations

from alchemist.core.errors import AlchemistError
from alchemist.generate.modes.alchemist_mode import AlchemistMode
from alchemist.generate.modes.alchemist_rag_mode import AlchemistRAGMode
from alchemist.generate.modes.base import BaseMode, GeneratedProgram, ModeSettings
from alchemist.generate.modes.scriptoriumws import ScriptoriumWSMode

MODES: dict[str, type[BaseMode]] = {}


def register(cls: type[BaseMode]) -> type[BaseMode]:
    """Add a mode under its `name` (usable as a class decorator); a second mode of one name is an error."""
    if not (isinstance(cls, type) and issubclass(cls, BaseMode)) or not cls.name or cls.name == BaseMode.name:
        raise AlchemistError(f"{cls!r} is not a mode (a BaseMode subclass with a name of its own)")
    if MODES.get(cls.name, cls) is not cls:
        raise AlchemistError(f"a mode named '{cls.name}' is already registered")
    MODES[cls.name] = cls
    return cls


def mode_class(name: str) -> type[BaseMode]:
    if name not in MODES:
        raise AlchemistError(f"unknown mode '{name}' (choose from {', '.join(MODES)})")
    return MODES[name]


for _mode in (ScriptoriumWSMode, AlchemistMode, AlchemistRAGMode):
    register(_mode)

__all__ = ["MODES", "AlchemistMode", "AlchemistRAGMode", "BaseMode", "GeneratedProgram", "ModeSettings",
           "ScriptoriumWSMode", "mode_class", "register"]
