"""Ctrl-C or a killed parent never leaves sandbox workers behind; an interrupted run says so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

LOOP = "def label_function(x):\n    while True:\n        pass\n"
pytestmark = [pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find worker processes"),
              pytest.mark.slow]


def workers_under(marker: str) -> list[int]:
    """Sandbox processes (outer and program) whose work folder, named on their command line, lies
    under `marker` (a per-test temp dir). Their cwd can't tell: they live in an empty root."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"sandbox/worker") for a in args) and any(
                a.startswith(marker.encode()) for a in args):
            pids.append(int(entry.name))
    return pids


def wait_for(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def start_apply(tmp_path: Path) -> subprocess.Popen:
    progs = tmp_path / "progs"
    progs.mkdir()
    (progs / "lf_01.py").write_text(LOOP)
    env = dict(os.environ, TMPDIR=str(tmp_path))  # worker folders are created under TMPDIR
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "apply", str(progs), "--dataset", "demo",
                             "--timeout", "1000", "--out", str(tmp_path / "out")],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("sent, code, said", [(signal.SIGINT, 130, "interrupted"),
                                              (signal.SIGTERM, 143, "terminated (SIGTERM)")])
def test_ctrl_c_or_sigterm_stops_workers_and_marks_run_interrupted(tmp_path, sent, code, said):
    proc = start_apply(tmp_path)
    assert wait_for(lambda: workers_under(str(tmp_path)), 30), "no worker started"
    time.sleep(0.5)
    proc.send_signal(sent)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert "Traceback" not in err and said in err
    assert wait_for(lambda: not workers_under(str(tmp_path)), 5)
    (folder,) = (tmp_path / "out").iterdir()
    report = json.loads((folder / "report.json").read_text())
    assert report["status"] == "interrupted"


def test_killed_parent_takes_its_workers_along(tmp_path):
    proc = start_apply(tmp_path)
    assert wait_for(lambda: workers_under(str(tmp_path)), 30), "no worker started"
    proc.kill()
    proc.wait(timeout=10)
    assert wait_for(lambda: not workers_under(str(tmp_path)), 5), "a worker outlived its parent"
