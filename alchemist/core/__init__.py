"""What every other subpackage leans on; nothing here knows about labeling.

    errors.py         AlchemistError and its kinds, and run_command (one-line errors, exit status 2)
    files.py          atomic writes (temp file, then rename), run folders that never overwrite, JSON reading
    safe_text.py      cleaning hostile text before it is shown or stored (escapes, invisibles, secrets)
    progress.py       the progress display: live on a terminal, plain lines otherwise, nothing for the API
    concurrency.py    run_all: jobs side by side, results handed back in order
    vector_cache.py   the block cache of embeddings shared by text and images
    choices.py        the names users choose from (modes, knowledge types, label models, features)
    paths.py          where bundled data lives, and the project folder (config.json, .env, outputs, caches)
"""
