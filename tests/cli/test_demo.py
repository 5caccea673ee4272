"""The offline demo runs the whole flow with no key and no network, from recorded replies."""

from __future__ import annotations

import json
import socket

from alchemist.cli import main


def test_demo_runs_offline_without_keys(tmp_path, monkeypatch, capsys):
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("the demo tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    code = main.main(["demo", "--out", str(tmp_path), "--seeds", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Recorded demo" in err and "replayed" in err
    (run_dir,) = (tmp_path / "demo" / "alchemist").iterdir()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    totals = manifest["totals"]
    assert totals["llm_calls"] == totals["cached_calls"] == 13 and totals["cost_usd"] == 0
    assert [p["status"] for p in manifest["programs"]] == ["ok"] * 6
    assert [c["stage"] for c in manifest["calls"] if c["program"] == "lf_04"] == ["knowledge", "code", "repair"]
    (results,) = (run_dir / "results").iterdir()
    report = json.loads((results / "report.json").read_text())
    assert report["label_model"]["test"] > 0.9 and (results / "report.html").exists()
    assert "lf_06" in out
