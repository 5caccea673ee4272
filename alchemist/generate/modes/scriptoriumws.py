"""ScriptoriumWS: one stage — the code LLM writes each program from the task alone."""

from alchemist.generate.modes.base import BaseMode


class ScriptoriumWSMode(BaseMode):
    name = "scriptoriumws"
    two_stage = False
