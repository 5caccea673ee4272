"""Alchemist's command line, as `python main.py` from a clone (the same as the installed `alchemist` command).

    python main.py                               the interactive wizard
    python main.py datasets                      list the built-in tasks and where their data is
    python main.py apply PROGRAMS_DIR --dataset NAME   apply saved programs, aggregate, distill, report
    python main.py run --dataset NAME --mode alchemist  an LLM writes the programs, then they are applied
    python main.py predict RESULTS_DIR --text "..."    label new text with a run's distilled model
    python main.py --help                        every command; `python main.py COMMAND --help` its options

The code lives in the installable package: the commands in `alchemist/cli/` (`main.py` the parser and
dispatch, `wizard.py`, `review.py`, `pricing.py`), the engine in the other subpackages of `alchemist/`
(docs/layout.md maps them). Run from here, the project folder is this clone: its `config.json`, `.env`,
`datasets/`, `generated_lfs/` and `.cache/` (set ALCHEMIST_HOME to use another folder).
"""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    os.environ.setdefault("ALCHEMIST_HOME", str(Path(__file__).resolve().parent))
    from alchemist.cli.main import main

    sys.exit(main())
