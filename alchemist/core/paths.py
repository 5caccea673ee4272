"""Where things live: the data shipped inside the package, and the user's project folder.

The one place that knows both. Bundled data (`alchemist/bundled/`) is read-only package data: the
default `config.json` (model catalogue and defaults), the prompt templates and task cards
(`prompts/`), the offline demo (`demo/`) and the table of dataset sources. The *project folder* is
where a user's own `config.json`, `.env`, data folder, run outputs and caches are found: the folder
named by `ALCHEMIST_HOME`, else the current folder. (`python main.py` in a clone sets it to the clone.)
"""

from __future__ import annotations

import os
from pathlib import Path

BUNDLED = Path(__file__).resolve().parent.parent / "bundled"
PROMPTS = BUNDLED / "prompts"
TEMPLATES = PROMPTS / "templates"
TASK_CARDS = PROMPTS / "tasks"
ANGLES = PROMPTS / "angles.txt"
IMAGE_ANGLES = PROMPTS / "image_angles.txt"
DEMO = BUNDLED / "demo"
DEFAULT_CONFIG = BUNDLED / "config.json"
DATASET_SOURCES = BUNDLED / "dataset_sources.json"
HOME_ENV = "ALCHEMIST_HOME"


def command() -> str:
    """How the user runs the command line, for messages that say what to type: `alchemist` when this
    process is the installed command, else `python main.py` (a clone)."""
    import sys

    return "alchemist" if Path(sys.argv[0] if sys.argv else "").name == "alchemist" else "python main.py"


def project_home() -> Path:
    """The user's project folder: $ALCHEMIST_HOME, else the current folder."""
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser().resolve() if env else Path.cwd()


def in_project(value: str | Path) -> Path:
    """A path from settings: absolute as given, relative ones from the project folder."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else project_home() / path
