"""Run configuration, as a reader of this clone looks for it.

What sets a run's choices, and where each part lives in the package:

- `config.json` (this folder; the bundled default is `alchemist/bundled/config.json`): the model
  catalogue, the defaults of every flag, and where data, runs and caches go.
  Read by `alchemist/pipeline/settings.py` (`Settings`, `load_settings`), which also reads `.env`.
- `RunConfig`, every choice of one run, built from flags, the wizard or the public API:
  `alchemist/pipeline/run_config.py` (with `run_config`, `reapply_config`, `recorded_data`).
- The names a user can choose from (modes, knowledge types, label models, features):
  `alchemist/core/choices.py`; the sandbox's limits: `alchemist/sandbox/limits.py`.

This file only re-exports them, for code that reads `config.RunConfig` from a clone.
"""

from alchemist.pipeline.run_config import (
                                           MAX_CONCURRENCY,
                                           MAX_REFINE_ROUNDS,
                                           RunConfig,
                                           data_choices,
                                           reapply_config,
                                           recorded_data,
                                           run_config,
                                           sandbox_limits,
                                           split_defaults,
)
from alchemist.pipeline.settings import DEFAULTS, Settings, load_settings, resolve_data_dir

__all__ = ["DEFAULTS", "MAX_CONCURRENCY", "MAX_REFINE_ROUNDS", "RunConfig", "Settings", "data_choices",
           "load_settings", "reapply_config", "recorded_data", "resolve_data_dir", "run_config", "sandbox_limits",
           "split_defaults"]
