"""The Dask backend: same matrix as the local applier, hostile programs contained the same way,
and data read from Parquet partition by partition."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_PROGRAMS

from alchemist.cli import main
from alchemist.data.datasets import load_dataset
from alchemist.programs.apply.dask_applier import DaskApplier
from alchemist.sandbox import ProgramSource, SandboxApplier, SandboxLimits

OS = ("def _os():\n    for c in ().__class__.__base__.__subclasses__():\n"
      "        if c.__name__ == '_wrap_close':\n            return c.__init__.__globals__\n")

pytestmark = pytest.mark.slow  # a Dask cluster per test


def demo_programs() -> list[ProgramSource]:
    return [ProgramSource(p.stem, p.read_text()) for p in sorted(DEMO_PROGRAMS.glob("lf_*.py"))]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    demo = load_dataset("demo")
    return [t for s in ("train", "valid", "test") for t in demo.splits[s].texts]


def test_dask_matrix_equals_local(texts):
    programs = demo_programs() + [ProgramSource("raises", "def label_function(x):\n    return 1 // 0\n")]
    limits = SandboxLimits(workers=2)
    local = SandboxApplier(programs, 2, limits).apply(texts)
    seen: list[int] = []
    dask = DaskApplier(2, limits, partition_rows=170).run_sources(programs, texts, seen.append)
    assert np.array_equal(local.matrix, dask.matrix) and dask.matrix.dtype == np.int8
    assert sum(seen) == len(texts) and len(seen) == 4  # four partitions, progress for each
    assert dask.runs[-1].errors["exception"] == len(texts) == local.runs[-1].errors["exception"]
    assert "dask" in dask.layers["backend"] and dask.layers["seccomp"] == local.layers["seccomp"]


def test_hostile_programs_are_contained_inside_dask_workers(tmp_path, texts):
    marker = tmp_path / "escaped"
    programs = demo_programs()[:2] + [
        ProgramSource("loops", "def label_function(x):\n    while True:\n        pass\n"),
        ProgramSource("c_loop", "def label_function(x):\n    return sum(range(10**13))\n"),
        ProgramSource("writes", OS + f"def label_function(x):\n    _os()['system']('touch {marker}')\n"
                                     f"    _os()['__builtins__']['open']('{marker}', 'w')\n    return 1\n"),
        ProgramSource("exits", OS + "def label_function(x):\n    _os()['_exit'](3)\n"),
    ]
    limits = SandboxLimits(workers=2, row_timeout_s=0.2, stall_grace_s=1.0, chunk_rows=100)
    local = SandboxApplier(programs, 2, limits).apply(texts[:300])
    dask = DaskApplier(2, limits, partition_rows=100).run_sources(programs, texts[:300])
    assert np.array_equal(local.matrix, dask.matrix)
    assert (dask.matrix[:, 2:] == -1).all()
    for k in (2, 3, 5):  # loops, C-level loop and worker exit: disabled in both
        assert dask.runs[k].disabled_reason and local.runs[k].disabled_reason
    assert dask.runs[4].errors["exception"] == 300 and not marker.exists()


def test_parquet_read_by_dask_partition_by_partition(tmp_path, texts, capsys):
    path = tmp_path / "big.parquet"
    frame = pd.DataFrame({"id": range(len(texts)), "text": texts})
    frame.to_parquet(path, row_group_size=150)
    code = main.main(["apply", str(DEMO_PROGRAMS), "--dataset", str(path), "--backend", "dask", "--classes",
                      "ham,spam", "--seeds", "1", "--out", str(tmp_path / "out"), "--json", str(tmp_path / "r.json")])
    assert code == 0, capsys.readouterr().err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "ok" and report["backend"] == "dask" and report["splits"]["train"] == len(texts)
    out = next((tmp_path / "out").iterdir())
    matrix = np.load(out / "label_matrix.npz")["train"]
    local = SandboxApplier(demo_programs(), 2).apply(texts).matrix
    assert np.array_equal(matrix, local)
    lines = (out / "labels.csv").read_text().splitlines()
    assert len(lines) == len(texts) + 1 and lines[0] == "row,label,label_name,confidence,covered"
    assert report["distilled"]["trained_on"] > 0 and (out / "distilled_model.skops").exists()
    assert report["label_model"]["name"] == "snorkel" and report["coverage"] > 0.9


def test_dask_errors_are_one_line(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("body\nhello\n")
    code = main.main(["apply", str(DEMO_PROGRAMS), "--dataset", str(path), "--backend", "dask",
                      "--classes", "ham,spam"])
    assert code == 2 and "no column 'text'" in capsys.readouterr().err
    code = main.main(["apply", str(DEMO_PROGRAMS), "--dataset", str(path), "--backend", "dask"])
    assert code == 2 and "--classes" in capsys.readouterr().err
    code = main.main(["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--backend", "dask",
                      "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "out")])
    assert code == 2 and "cannot reach the Dask scheduler" in capsys.readouterr().err


def test_parquet_with_missing_text_reads_those_rows_as_empty(tmp_path, texts, capsys):
    path = tmp_path / "holes.parquet"
    column = pd.array([None if i % 7 == 0 else t for i, t in enumerate(texts[:300])], dtype="string")
    pd.DataFrame({"text": column}).to_parquet(path, row_group_size=100)
    code = main.main(["apply", str(DEMO_PROGRAMS), "--dataset", str(path), "--backend", "dask", "--classes",
                      "ham,spam", "--seeds", "1", "--no-distill", "--out", str(tmp_path / "out"),
                      "--json", str(tmp_path / "r.json")])
    assert code == 0, capsys.readouterr().err
    matrix = np.load(next((tmp_path / "out").iterdir()) / "label_matrix.npz")["train"]
    empty = SandboxApplier(demo_programs(), 2).apply([""]).matrix[0]
    assert matrix.shape == (300, 5) and (matrix[::7] == empty).all()  # a missing text is read as the empty text


SECOND_USER = """
import sys
from distributed import Client, Security
address = sys.argv[1]
for name, kwargs in (("plain", {}), ("own certificates", {"security": Security.temporary()})):
    try:
        client = Client(address.replace("tls://", "tcp://") if not kwargs else address, timeout="3s", **kwargs)
        print("REACHED with", name, client.submit(lambda: __import__("os").getuid()).result())
    except Exception as e:
        print("refused with", name, type(e).__name__)
"""


def test_the_local_cluster_is_private_and_its_workers_hold_no_keys(monkeypatch, tmp_path):
    """Another local user (another process, without this run's certificates) cannot reach the scheduler;
    no dashboard on 8787; worker processes start without the API keys of the environment."""
    import os
    import socket
    import subprocess
    import sys

    from alchemist.programs.apply.dask_applier import dask_client

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-must-not-leak")
    monkeypatch.setenv("HF_TOKEN", "hf_must_not_leak")
    with dask_client(None, 1) as client:
        address = client.scheduler.address
        assert address.startswith("tls://127.0.0.1:")
        pid = client.submit(os.getpid).result()
        environ = open(f"/proc/{pid}/environ", "rb").read()
        assert b"sk-test-must-not-leak" not in environ and b"hf_must_not_leak" not in environ
        script = tmp_path / "second_user.py"
        script.write_text(SECOND_USER)
        out = subprocess.run([sys.executable, str(script), address], capture_output=True, text=True, timeout=120)
        assert "REACHED" not in out.stdout and out.stdout.count("refused with") == 2, out.stdout + out.stderr[-2000:]
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", 8787)) != 0  # no dashboard was asked for: none is served
    assert os.environ["OPENAI_API_KEY"] == "sk-test-must-not-leak"  # this process keeps its own


def test_a_slow_program_gets_one_budget_for_the_whole_apply_not_one_per_partition(texts):
    """Small partitions used to grant a slow program its minimum budget again each time."""
    slow = ProgramSource("slow", "def label_function(x):\n    n = 0\n    for i in range(3_000_000):\n"
                                 "        n += i\n    return n % 2\n")
    limits = SandboxLimits(workers=2, budget_min_s=4, budget_per_row_ms=0, row_timeout_s=2)
    result = DaskApplier(2, limits, partition_rows=25).run_sources([*demo_programs(), slow], texts)
    run = result.runs[-1]
    assert run.disabled_reason and "for the whole apply, all partitions together" in run.disabled_reason
    assert run.seconds < 4 + 2 * 3.0 + 5  # its budget, plus what two partitions in flight may overrun
    assert (result.matrix[:, -1] == -1).all() and all(r.usable for r in result.runs[:-1])


def test_a_small_budget_never_starves_a_fast_program_of_rows(texts):
    """Budgets of partitions in flight are shares, not reservations: every row of a fast program is labeled."""
    fast = ProgramSource("fast", "def label_function(x):\n    return 1\n")
    limits = SandboxLimits(workers=2, budget_min_s=3, budget_per_row_ms=0)
    result = DaskApplier(2, limits, partition_rows=10).run_sources([fast], texts[:300])
    assert (result.matrix[:, 0] == 1).all() and result.runs[0].usable


def test_a_worker_the_nanny_restarts_holds_no_keys_either(monkeypatch):
    import os
    import signal
    import time

    from alchemist.programs.apply.dask_applier import dask_client

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-must-not-leak")
    with dask_client(None, 1) as client:
        first = client.submit(os.getpid, pure=False).result()
        os.kill(first, signal.SIGKILL)  # the nanny starts another one
        deadline, pid = time.monotonic() + 60, first
        while pid == first and time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                pid = client.submit(os.getpid, pure=False).result(timeout=10)
            except Exception:  # noqa: BLE001 - the worker is coming back
                continue
        assert pid != first
        assert b"sk-test-must-not-leak" not in open(f"/proc/{pid}/environ", "rb").read()
    assert os.environ["OPENAI_API_KEY"] == "sk-test-must-not-leak"
