"""One applier base for every backend: the same status rule, the same votes, the column cache."""

from __future__ import annotations

import numpy as np

from alchemist.programs.apply import make_applier
from alchemist.programs.apply.base import program_status
from alchemist.programs.program_files import gate_program
from alchemist.sandbox import ProgramRun

TEXTS = {"train": ["free money now", "nice song", "click here", "love it"] * 5, "valid": ["win cash", "calm"] * 3}


def programs():
    return [gate_program("lf_01", "def label_function(x):\n    return 1 if 'free' in x or 'click' in x else -1\n"),
            gate_program("lf_02", "def label_function(x):\n    return int('x') \n"),
            gate_program("lf_03", "import socket\ndef label_function(x):\n    return 0\n")]


def test_the_status_rule():
    run = ProgramRun()
    assert program_status(run, 10) == ("ok", "")
    run.errors["exception"] = 10
    run.samples = ["ValueError: invalid literal"]
    assert program_status(run, 10) == ("failed", "failed on every row; e.g. ValueError: invalid literal")
    run.disabled_reason = "disabled after 3 faults"
    assert program_status(run, 10)[0] == "disabled"
    run.load_error = "SyntaxError"
    assert program_status(run, 10) == ("failed", "failed to load: SyntaxError")


def test_local_and_dask_give_the_same_votes_and_statuses(tmp_path):
    local = make_applier("local", 2).apply(programs(), TEXTS)
    dask = make_applier("dask", 2, partition_rows=7).apply(programs(), TEXTS)
    for votes in (local, dask):
        assert votes.statuses == ["ok", "failed", "rejected"] and list(votes.matrices) == ["train", "valid"]
        assert votes.matrices["train"].shape == (20, 3) and (votes.matrices["valid"][:, 1:] == -1).all()
    assert all(np.array_equal(local.matrices[s], dask.matrices[s]) for s in TEXTS)
    assert "dask" in dask.layers["backend"]


def test_the_column_cache_answers_a_second_apply(tmp_path):
    first = make_applier("local", 2, cache_folder=tmp_path).apply(programs(), TEXTS)
    second = make_applier("local", 2, cache_folder=tmp_path).apply(programs(), TEXTS)
    assert first.cached == [] and second.cached == ["lf_01", "lf_02"]  # deterministic, even failing on every row
    assert np.array_equal(first.matrices["train"], second.matrices["train"])
