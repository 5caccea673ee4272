"""The executor, as a reader of this clone looks for it: runs one `RunConfig` end to end.

`Executor` lives in `alchemist/pipeline/executor.py`, the only place that knows the order of the
stages; each stage is an object of its own that gets what it needs when it is made:

    data         alchemist/pipeline/data_stage.py        the dataset, held-out splits, what cannot be scored
    images       alchemist/pipeline/image_stage.py       CLIP embeddings, concepts, concept scores
    generation   alchemist/pipeline/generation_stage.py  the LLM writes programs (modes), refinement, zero-shot
    apply        alchemist/programs/apply/               programs run in the sandbox (local or Dask)
    labels       alchemist/labeling/labels.py            vetting, the label model chosen on valid
    distill      alchemist/pipeline/distill_stage.py     features and classifier chosen on valid, saved model
    report       alchemist/report/                       labels.csv, report.json, report.html, the console

This file only re-exports it.
"""

from alchemist.pipeline.executor import Executor

__all__ = ["Executor"]
