"""What runs cost: `python pricing.py` totals every run's manifest by dataset and mode (the same as
`alchemist pricing`); `python pricing.py --help` lists the options.

The code lives in the package: the command in `alchemist/cli/pricing.py`, the ledger over run
manifests in `alchemist/generate/ledger.py`, the zero-shot estimate in `alchemist/generate/zero_shot.py`.
Run from here, the project folder (whose `generated_lfs/` is read) is this clone.
"""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    os.environ.setdefault("ALCHEMIST_HOME", str(Path(__file__).resolve().parent))
    from alchemist.cli.pricing import main

    sys.exit(main())
