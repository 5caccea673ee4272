"""Generation modes, as a reader of this clone looks for them.

A mode builds prompts and calls the LLM; it never executes generated code. The modes live in the
package, `alchemist/generate/modes/`:

    base.py                  BaseMode: knowledge call -> code call -> one repair call, programs side by side
    scriptoriumws.py         ScriptoriumWS: the code LLM writes each program from the task
    alchemist_mode.py        Alchemist without RAG: a knowledge LLM writes prior knowledge first
    alchemist_rag_mode.py    Alchemist with RAG: the knowledge LLM reads the user's documents first
    __init__.py              the registry: `register(cls)` adds a mode by its `name`; `mode_class(name)`

The prompt templates the modes fill are in `prompts/templates/` (package data). This package only
re-exports the modes.
"""

from alchemist.generate.modes import (
                                      MODES,
                                      AlchemistMode,
                                      AlchemistRAGMode,
                                      BaseMode,
                                      GeneratedProgram,
                                      ModeSettings,
                                      ScriptoriumWSMode,
                                      mode_class,
                                      register,
)

__all__ = ["MODES", "AlchemistMode", "AlchemistRAGMode", "BaseMode", "GeneratedProgram", "ModeSettings",
           "ScriptoriumWSMode", "mode_class", "register"]
