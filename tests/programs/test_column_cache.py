"""Re-applying after editing one program recomputes only that program."""

from __future__ import annotations

import json
import shutil

import numpy as np
from conftest import DEMO_PROGRAMS

from alchemist.cli import main
from alchemist.programs.apply.local import LocalApplier


def apply(folder, out, capsys) -> dict:
    code = main.main(["apply", str(folder), "--dataset", "demo", "--seeds", "1", "--label-model", "majority",
                      "--out", str(out), "--json", str(out / "r.json")])
    assert code == 0, capsys.readouterr().err
    return json.loads((out / "r.json").read_text())


def test_only_the_edited_program_runs_again(tmp_path, capsys, monkeypatch):
    programs = tmp_path / "programs"
    shutil.copytree(DEMO_PROGRAMS, programs)
    applied: list[list[str]] = []
    real = LocalApplier._run

    def spy(self, sources, rows, tick):
        applied.append([s.name for s in sources])
        return real(self, sources, rows, tick)

    monkeypatch.setattr(LocalApplier, "_run", spy)
    first = apply(programs, tmp_path / "a", capsys)
    assert applied == [["lf_01", "lf_02", "lf_03", "lf_04", "lf_05"]]
    assert not any(p["from_cache"] for p in first["programs"])
    second = apply(programs, tmp_path / "b", capsys)
    assert len(applied) == 1  # nothing ran: every column came from the cache
    assert all(p["from_cache"] for p in second["programs"])
    (programs / "lf_03.py").write_text("def label_function(comment):\n    return 0 if 'song' in comment else -1\n")
    third = apply(programs, tmp_path / "c", capsys)
    assert applied[-1] == ["lf_03"]
    assert [p["from_cache"] for p in third["programs"]] == [True, True, False, True, True]
    cached = np.load(next((tmp_path / "c").glob("*/label_matrix.npz")))["train"]
    monkeypatch.setattr(LocalApplier, "_run", real)
    fresh_out = tmp_path / "d"
    code = main.main(["apply", str(programs), "--dataset", "demo", "--seeds", "1", "--label-model", "majority",
                      "--out", str(fresh_out), "--no-column-cache"])
    assert code == 0
    assert np.array_equal(cached, np.load(next(fresh_out.glob("*/label_matrix.npz")))["train"])


def test_timeouts_are_not_cached(tmp_path, capsys):
    programs = tmp_path / "programs"
    programs.mkdir()
    (programs / "lf_01.py").write_text("def label_function(comment):\n    while 'spam' not in comment:\n"
                                       "        comment = comment + 'x'\n    return 1\n")
    for name in ("a", "b"):
        code = main.main(["apply", str(programs), "--dataset", "demo", "--seeds", "1", "--timeout", "0.2",
                          "--out", str(tmp_path / name), "--json", str(tmp_path / f"{name}.json")])
        assert code == 1  # the one program timed out: no label at all
    assert json.loads((tmp_path / "b.json").read_text())["programs"][0]["from_cache"] is False


def test_cached_columns_are_keyed_on_the_python_that_ran_them(monkeypatch):
    import sys

    from alchemist.sandbox import code_hash

    before = code_hash()
    monkeypatch.setattr(sys, "version", sys.version + " (another build)")
    assert code_hash() != before  # e.g. a newer unicodedata table could change a column
