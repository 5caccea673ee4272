"""A real Label Studio: the exported config and tasks go in through its REST API, come back with their
predictions (the run as model_version, the calibrated confidence as score) and data intact, and the
project's own JSON export of a reviewer's answers is what `alchemist import-labels` reads.

Runs only where ALCHEMIST_LABEL_STUDIO names a label-studio executable (kept out of the project's venv:
Label Studio pins its own Django), e.g. ALCHEMIST_LABEL_STUDIO=/tmp/lsvenv/bin/label-studio. The server
listens on 127.0.0.1 only, keeps its database in a temporary folder, and is told not to look for a newer
version, report errors or collect analytics. Its first start runs every migration: a minute or two."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from conftest import DEMO_PROGRAMS

from alchemist.cli import main

pytestmark = pytest.mark.slow  # a Label Studio server, started for this module

EXECUTABLE = os.environ.get("ALCHEMIST_LABEL_STUDIO", "")
APPLY = ["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--seeds", "1", "--features", "tfidf"]
N_TASKS = 12
START_TIMEOUT = 300  # seconds: the first start migrates a new database


def _executable() -> str:
    if not EXECUTABLE:
        pytest.skip("ALCHEMIST_LABEL_STUDIO is not set: point it at a label-studio executable (installed in a "
                    "venv of its own) to check the export against a real Label Studio")
    found = shutil.which(EXECUTABLE)
    if found is None:
        pytest.skip(f"ALCHEMIST_LABEL_STUDIO={EXECUTABLE}: no such executable")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabelStudio:
    """A server of our own and an API client with its user's token."""

    def __init__(self, executable: str, folder: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.email, self.password, self.token = "reviewer@example.com", secrets.token_hex(12), secrets.token_hex(20)
        data = folder / "data"
        data.mkdir()
        self.log = folder / "label-studio.log"
        env = {**os.environ, "HOME": str(folder), "LABEL_STUDIO_BASE_DATA_DIR": str(data),
               # the token given on the command line is a legacy token: newer versions refuse those unless told
               "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
               "LATEST_VERSION_CHECK": "false", "COLLECT_ANALYTICS": "false", "SENTRY_DSN": "",
               "FRONTEND_SENTRY_DSN": "", "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true"}
        env.pop("VIRTUAL_ENV", None)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [executable, "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(self.port),
                 "--data-dir", str(data), "--username", self.email, "--password", self.password,
                 "--user-token", self.token],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder,
                start_new_session=True)  # its own process group: stop() ends the server and its children
        self.api = httpx.Client(base_url=self.url, headers={"Authorization": f"Token {self.token}"}, timeout=60)

    def wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"label-studio exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if self.api.get("/api/current-user/whoami", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise AssertionError(f"label-studio did not answer in {START_TIMEOUT}s:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def stop(self) -> None:
        self.api.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)

    def call(self, method: str, path: str, expect: int = 200, **kwargs):
        response = self.api.request(method, path, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text[:500]}"
        return response.json()

    def project(self, config: str, tasks: list[dict]) -> int:
        """A project with the exported labeling config and the exported tasks imported."""
        project = self.call("POST", "/api/projects", 201, json={"title": "alchemist review", "label_config": config})
        imported = self.call("POST", f"/api/projects/{project['id']}/import", 201, json=tasks)
        assert imported["task_count"] == len(tasks)
        assert imported["prediction_count"] == sum(len(t.get("predictions", [])) for t in tasks)
        return project["id"]

    def tasks(self, project: int) -> list[dict]:
        return sorted(self.call("GET", f"/api/projects/{project}/tasks", params={"page_size": 1000}),
                      key=lambda t: t["id"])

    def annotate(self, task: int, choice: str | None) -> None:
        """The reviewer's answer (None: the task skipped)."""
        result = [] if choice is None else [{"from_name": "label", "to_name": "text", "type": "choices",
                                             "value": {"choices": [choice]}}]
        self.call("POST", f"/api/tasks/{task}/annotations", 201, json={"result": result,
                                                                      "was_cancelled": choice is None})

    def export(self, project: int, kind: str, path: Path) -> list[dict]:
        response = self.api.get(f"/api/projects/{project}/export", params={"exportType": kind})
        assert response.status_code == 200, response.text[:500]
        path.write_bytes(response.content)
        return json.loads(response.content)


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    server = LabelStudio(_executable(), tmp_path_factory.mktemp("label-studio"))
    try:
        server.wait()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run of the demo and a random sample of its train rows exported for Label Studio."""
    _executable()  # skip before the run is made
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALCHEMIST_HOME", str(home))
        assert main.main([*APPLY, "--out", str(home / "out"), "--json", str(home / "run.json")]) == 0
        results = Path(json.loads((home / "run.json").read_text())["output_dir"])
        assert main.main(["export", str(results), "--to", "label-studio", "--limit", str(N_TASKS),
                          "--out", str(home / "ls")]) == 0
    tasks = json.loads((home / "ls" / "tasks.json").read_text())
    return results, tasks, (home / "ls" / "label_config.xml").read_text()


@pytest.fixture
def home(monkeypatch, tmp_path):
    """Each test's own answers file."""
    monkeypatch.setenv("ALCHEMIST_HOME", str(tmp_path))
    return tmp_path


def answers(home: Path) -> dict[str, dict]:
    lines = [json.loads(x) for x in (home / "annotations" / "demo.jsonl").read_text().splitlines()]
    return {a["row"]: a for a in lines if a.get("kind") == "answer"}


def predicted(task: dict) -> str:
    return task["predictions"][0]["result"][0]["value"]["choices"][0]


def flip(label: str) -> str:
    return "ham" if label == "spam" else "spam"


def test_tasks_go_in_with_their_predictions_and_the_reviewers_export_comes_back(label_studio, run, home, capsys):
    results, exported, config = run
    assert len(exported) == N_TASKS and all(t.get("predictions") for t in exported)
    project = label_studio.project(config, exported)

    stored = label_studio.tasks(project)
    assert len(stored) == N_TASKS
    by_row = {t["data"]["alchemist_id"]: t for t in exported}
    for task in stored:
        sent = by_row[task["data"]["alchemist_id"]]
        assert task["data"] == sent["data"]  # text, votes (shown and by program), where the row is from
        assert task["data"]["text"] and task["data"]["votes"]
        [prediction] = task["predictions"]
        assert prediction["model_version"] == results.name == sent["data"]["alchemist_run"]
        assert prediction["score"] == pytest.approx(sent["predictions"][0]["score"])
        assert 0 < prediction["score"] <= 1
        assert prediction["result"] == sent["predictions"][0]["result"]

    # the reviewer: disagrees on the first task, agrees on the second, answers the third twice (the second
    # answer stands), skips the fourth; the rest are not reviewed
    first, second, third, fourth = stored[:4]
    label_studio.annotate(first["id"], flip(predicted(first)))
    label_studio.annotate(second["id"], predicted(second))
    label_studio.annotate(third["id"], predicted(third))
    label_studio.annotate(third["id"], flip(predicted(third)))
    label_studio.annotate(fourth["id"], None)

    export = label_studio.export(project, "JSON", home / "project-export.json")
    assert {t["id"] for t in export} == {first["id"], second["id"], third["id"], fourth["id"]}
    assert all(set(t) >= {"id", "data", "annotations", "predictions"} for t in export)
    assert all(set(a) >= {"result", "was_cancelled", "created_at", "updated_at"}
               for t in export for a in t["annotations"])

    capsys.readouterr()
    assert main.main(["import-labels", str(results), str(home / "project-export.json")]) == 0
    out = capsys.readouterr().out
    assert "3 reviewed rows imported" in out and "3 random" in out and "2 differ from the run's label" in out
    got = answers(home)
    row = lambda task: task["data"]["alchemist_id"]
    assert {r: a["label"] for r, a in got.items()} == {
        row(first): flip(predicted(first)), row(second): predicted(second), row(third): flip(predicted(third))}
    assert {a["source"] for a in got.values()} == {"review"} and {a["pool"] for a in got.values()} == {"random"}


def test_the_minimal_export_keeps_a_task_s_newest_answer(label_studio, run, home, capsys):
    results, exported, config = run
    project = label_studio.project(config, exported)
    first, second = label_studio.tasks(project)[:2]
    label_studio.annotate(first["id"], predicted(first))
    label_studio.annotate(second["id"], predicted(second))
    label_studio.annotate(second["id"], flip(predicted(second)))

    export = label_studio.export(project, "JSON_MIN", home / "project-export-min.json")
    assert all("label" in t and "alchemist_id" in t and "annotation_id" in t for t in export)
    assert main.main(["import-labels", str(results), str(home / "project-export-min.json")]) == 0
    got = answers(home)
    assert got[first["data"]["alchemist_id"]]["label"] == predicted(first)
    assert got[second["data"]["alchemist_id"]]["label"] == flip(predicted(second))
