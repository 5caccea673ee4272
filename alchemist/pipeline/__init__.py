"""One run, end to end: its settings and choices, and the Executor that orders the stages.

    settings.py       Settings: the bundled config.json overlaid by the project's; .env; where things go
    run_config.py     RunConfig: every choice of one run (flags, wizard, API), recorded-data helpers
    context.py        RunContext: what every stage shares (config, settings, progress, warnings, timings)
    executor.py       Executor: the order of the stages, the results folder, report.json and report.html
    data_stage.py     the data stage: the dataset, held-out splits, what the run cannot score
    image_stage.py    the image stage: CLIP embeddings, concepts, concept scores, group scores
    generation_stage.py  the LLM stage: programs (the modes), refinement, zero-shot, the manifest
    distill_stage.py  the distillation stage
    lazy.py           data too big for memory: Dask, partition by partition, a sampled distillation
"""
