"""Alchemist engine: datasets, labeling programs, sandboxed apply, label models, distillation, reports.

Importable without the CLI (main.py / config.py / executor.py live at the top level).
"""

__version__ = "0.1.0"
