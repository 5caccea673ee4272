"""What several test files share: data of a user's own, the image run's scripted LLM, a real browser."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import DEMO_DIR

from alchemist.testing.fake_llm import FakeLLM


def reviews_csv(path: Path, labeled: bool = True) -> Path:
    """The demo's comments as one file of the user's own, with their own column names."""
    rows = [r for s in ("train", "valid", "test") for r in json.loads((DEMO_DIR / f"{s}.json").read_text()).values()]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["review_id", "review_text"] + (["sentiment"] if labeled else []))
    for i, r in enumerate(rows):
        writer.writerow([i, r["data"]["text"]] + ([["ham", "spam"][r["label"]]] if labeled else []))
    path.write_text(buf.getvalue())
    return path


def concept_reply(request: dict) -> str:
    """The knowledge LLM lists concepts as JSON; the code LLM writes a program over them."""
    body = request["body"]
    prompt = FakeLLM._prompt_text(body)
    if "visual concepts" in prompt and "Reply with a JSON object" in prompt:
        return json.dumps({"landbird": ["forest background", "short pointed beak"],
                           "waterbird": ["water background", "webbed feet"]})
    if "expert annotator" in prompt:
        return "Water background over forest background suggests a waterbird."
    # the tiny CLIP's scores mean nothing: a program that splits rows by a digit of a score gives both classes
    return ("```python\n# Strategy: a digit of the water score\ndef label_function(x):\n"
            "    return int(abs(x['water background']) * 10000) % 2\n```")


def browser() -> str | None:
    return next((path for name in ("chromium", "chromium-browser", "google-chrome")
                 if (path := shutil.which(name))), None)


needs_browser = pytest.mark.skipif(browser() is None, reason="no chromium, chromium-browser or google-chrome "
                                   "binary on PATH: the page is not rendered in a real browser")
OFFLINE = ["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--no-default-browser-check",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-extensions", "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND",
           "--proxy-server=127.0.0.1:9", "--hide-scrollbars"]  # every name unresolvable, every fetch refused


def chromium(tmp_path: Path, page: Path, *flags: str) -> str:
    """Run the browser on a local file, with nowhere to go; return what it printed (the DOM)."""
    home = tmp_path / "browser-home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "XDG_CACHE_HOME": str(home)}
    done = subprocess.run([browser(), *OFFLINE, f"--user-data-dir={home / 'profile'}", *flags, page.as_uri()],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    return done.stdout
