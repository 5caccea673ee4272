"""A generation run on disk: generated_lfs/<dataset>/<mode>/<run-id>/lf_NN.py + manifest.json.

The manifest (config, every prompt and reply, usage, cost, cache hits, timings, program statuses)
is rewritten atomically after every LLM call and every program, so an interrupted or failed run
keeps everything it produced. A new run always gets a new folder.
"""

from __future__ import annotations

import json
import shlex
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from alchemist.core.errors import AlchemistError
from alchemist.core.files import atomic_write_json, atomic_write_text, new_run_dir
from alchemist.core.paths import command
from alchemist.core.safe_text import clean

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunStore:
    def __init__(self, root: Path, dataset: str, mode: str, config: dict):
        self.dir = new_run_dir(Path(root) / dataset / mode)
        self._start = time.monotonic()
        # Calls finish on worker threads while the main thread saves programs: whoever changes the
        # manifest outside these methods while calls are in flight holds this lock too.
        self.lock = threading.RLock()
        self.manifest: dict = {
            "manifest_version": MANIFEST_VERSION, "tool": "alchemist", "run_id": self.dir.name,
            "dataset": dataset, "mode": mode, "created": _now(), "status": "running", "config": config,
            "calls": [], "programs": [],
            "totals": {"llm_calls": 0, "cached_calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0},
        }
        self.write()

    @classmethod
    def reopen(cls, run_dir: Path) -> "RunStore":
        """An existing run, to record more calls and programs in its manifest (the review screen)."""
        store = cls.__new__(cls)
        store.dir, store._start, store.lock = Path(run_dir), time.monotonic(), threading.RLock()
        try:
            store.manifest = json.loads((store.dir / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise AlchemistError(f"{store.dir / MANIFEST}: cannot read this run's manifest ({e})") from None
        if not isinstance(store.manifest, dict) or store.manifest.get("tool") != "alchemist":
            raise AlchemistError(f"{store.dir / MANIFEST}: not an Alchemist run manifest")
        store.manifest.setdefault("calls", [])
        store.manifest.setdefault("programs", [])
        store.manifest.setdefault("totals", {"llm_calls": 0, "cached_calls": 0, "input_tokens": 0,
                                             "output_tokens": 0, "cost_usd": 0.0})
        store._start -= float(store.manifest.get("elapsed_s", 0) or 0)
        return store

    def write(self) -> None:
        with self.lock:
            self.manifest["elapsed_s"] = round(time.monotonic() - self._start, 3)
            atomic_write_json(self.dir / MANIFEST, self.manifest)

    def record_call(self, record: dict) -> None:
        with self.lock:
            self._record_call(record)

    def _record_call(self, record: dict) -> None:
        record = {"index": len(self.manifest["calls"]), "at": _now(), **record}
        self.manifest["calls"].append(record)
        totals = self.manifest["totals"]
        totals["llm_calls"] += 1
        totals["cached_calls"] += int(bool(record.get("cached")))
        totals["input_tokens"] += int(record.get("input_tokens", 0))
        totals["output_tokens"] += int(record.get("output_tokens", 0))
        totals["cost_usd"] = round(totals["cost_usd"] + float(record.get("cost_usd", 0.0)), 8)
        self.write()

    def write_program(self, path: Path, program, header: dict) -> None:
        """Write a program file (header comment + code; a reply without code is kept as comments)."""
        lines = [f"# Alchemist labeling program {program.name}, generated; edit it and re-apply with",
                 f"# {command()} apply {shlex.quote(str(self.dir))}   (the manifest records the data)"]
        # Values may quote the program (its strategy line, a gate reason): one clean line each, so none can
        # end the comment and put code outside the code that was checked.
        lines += [f"# {clean(k, 100)}: {clean(v, 2000)}" for k, v in header.items() if v not in (None, "")]
        body = program.code
        if not body.strip():
            last = program.replies[-1].text if program.replies else ""
            body = "".join(f"# | {line}\n" for line in last.splitlines()) or "# (empty reply)\n"
        atomic_write_text(path, "\n".join(lines) + "\n\n" + body)

    def save_program(self, program, header: dict) -> Path:
        """Write lf_NN.py and record the program in the manifest."""
        path = self.dir / f"{program.name}.py"
        self.write_program(path, program, header)
        with self.lock:
            self._add_program(path, program)
        return path

    def _add_program(self, path: Path, program) -> None:
        programs = self.manifest["programs"]
        programs.append({
            "name": program.name, "file": path.name, "status": program.status, "reason": program.reason,
            "strategy": program.strategy, "knowledge": program.knowledge,
            "code_prompt_sha256": program.code_prompt_sha256,
            "calls": [c["index"] for c in self.manifest["calls"] if c.get("program") == program.name],
            "input_tokens": program.input_tokens, "output_tokens": program.output_tokens,
            "cost_usd": round(program.cost_usd, 8), "cached_calls": program.cached_calls,
            **({"retrieved_chunks": program.context} if getattr(program, "context", None) else {}),
        })
        programs.sort(key=lambda entry: entry["name"])  # written side by side, listed in order
        self.write()

    def order_calls(self) -> None:
        """Calls made side by side are recorded as they arrive; the finished manifest lists them in a
        fixed order instead (refinement round, program, split and rows, then as each chain made them)."""
        calls = self.manifest["calls"]
        calls.sort(key=lambda c: (c.get("round", 0), str(c.get("program", "")), str(c.get("split", "")),
                                  (c.get("rows") or [0])[0], c["index"]))
        written: dict[str, list[int]] = {}
        for i, call in enumerate(calls):
            call["index"] = i
            if call.get("program") and not call.get("round"):
                written.setdefault(call["program"], []).append(i)
        for entry in self.manifest["programs"]:
            entry["calls"] = written.get(entry["name"], [])

    def finish(self, status: str, error: str = "") -> None:
        with self.lock:
            self.order_calls()
            self.manifest["status"] = status
            self.manifest["finished"] = _now()
            if error:
                self.manifest["error"] = error
            self.write()
