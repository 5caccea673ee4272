"""The command line: what `alchemist` and `python main.py` run. The engine never imports this.

    main.py           the commands (apply, run, zero-shot, datasets, predict, review, annotate, export,
                      import-labels, demo, wizard, pricing)
    parser.py         every command's options, with config.json's defaults
    wizard.py         the interactive wizard
    questions.py      the wizard's prompts: exit, Ctrl-D and Ctrl-C everywhere; answers validated
    review.py         the review screen of a run's programs
    annotate.py       the annotate session: one row at a time, each answer saved at once
    exchange.py       export and import-labels (and the wizard's and review screen's export)
    pricing.py        the cost ledger over run manifests, and the zero-shot estimate
    demo.py           the offline demo, with recorded LLM replies
"""
