"""Labeling programs, and applying them.

    program_files.py  Program, Programs, loading a folder of programs (each through the static gate)
    votes.py          Votes: per-split label matrices and what happened to each program; human votes
    apply/            one applier base with a local and a Dask backend (the column cache, the status rule)
    trial.py          the trial run a new program gets in the sandbox before it is accepted
    column_cache.py   columns of unchanged programs on unchanged data, reused
"""
