"""Text from programs never crashes the CLI, never reaches the terminal raw, and no secret reaches a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alchemist.cli import main
from alchemist.core.safe_text import clean, html_text, markup
from alchemist.programs import program_files
from alchemist.report.console import render

NASTY = "[/] [red]x[/red] \x1b[2J\x1b[1A\x1b]52;c;ZXZpbA==\x07 \u202eevil\r\n tail"


def test_clean_strips_controls_and_bidi_and_keeps_text():
    out = clean(NASTY)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out and "\r" not in out
    assert "[/]" in out and "evil" in out and "tail" in out
    assert "\\[/]" in markup(NASTY) and "&lt;b&gt;" in html_text("<b>")
    assert len(clean("x" * 10_000, 50)) == 50


def test_invisible_and_unencodable_characters_go():
    out = clean("a\udc9b[31m b\u200bc \U000e0041d \ufeffe\u2028f")
    assert out.encode("utf-8") and out == "a[31m bc d ef"
    hidden = "\u206a\u180e\u00ad\u034f\ufe0f\U000e0100\u3164\u115f\u2061"
    assert clean(f"x{hidden}y é中文🙂") == "xy é中文🙂"


def test_padding_cannot_make_the_cut_keep_part_of_a_secret(monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "hunter2-correct-horse")
    for pad in ("\x00" * 1180, "\u200b" * 5000, "x" * 10):
        out = clean(pad + "hunter2-correct-horse", 300)
        assert "hunter2" not in out and "correct" not in out, out


def test_load_error_with_a_lone_surrogate_is_reported(tmp_path, capsys):
    progs = tmp_path / "progs"
    progs.mkdir()
    (progs / "lf_01.py").write_text("raise ValueError('boom ' + chr(0xdc9b) + chr(0x9b) + '[31mred')\n"
                                    "def label_function(x):\n    return 1\n")
    (progs / "lf_02.py").write_text("def label_function(x):\n    return 1 if 'spam' in x.lower() else -1\n")
    code = main.main(["apply", str(progs), "--dataset", "demo", "--seeds", "1", "--out", str(tmp_path / "runs")])
    out, err = capsys.readouterr()
    assert code == 1, err  # no usable program, so no label at all: exit 1
    (folder,) = (tmp_path / "runs").iterdir()
    report = json.loads((folder / "report.json").read_text())
    reason = report["programs"][0]["reason"]
    assert report["programs"][0]["status"] == "failed" and "boom" in reason and "\x9b" not in reason


def test_secrets_are_redacted(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-abcdefgh12345")
    assert "tok-abcdefgh12345" not in clean("leaked tok-abcdefgh12345 and sk-live-1234567890")
    assert "sk-live-1234567890" not in clean("sk-live-1234567890")


def test_saved_report_with_hostile_text_prints(tmp_path):
    report = {"dataset": "d[/]", "programs_source": "p\x1b[2J", "metric": "acc",
              "programs": [{"name": "lf_[/]", "status": "failed", "reason": NASTY, "errors": {}}],
              "label_model": {"name": "x[/]"}, "majority_vote": {}, "distilled": {}, "timings_s": {},
              "warnings": [NASTY], "sandbox": {"seccomp": "unavailable ([/] \x1b[2J)"}, "output_dir": str(tmp_path)}
    out = tmp_path / "out.txt"
    with out.open("w") as f:
        render(report, f)
    text = out.read_text()
    assert "\x1b" not in text and "[/]" in text and "lf_[/]" in text


def test_program_error_text_through_the_cli(tmp_path, capsys):
    progs = tmp_path / "progs"
    progs.mkdir()
    (progs / "lf_01.py").write_text(f"def label_function(x):\n    raise ValueError({NASTY!r})\n")
    (progs / "lf_02.py").write_text("def label_function(x):\n    return 1 if 'spam' in x.lower() else -1\n")
    code = main.main(["apply", str(progs), "--dataset", "demo", "--seeds", "1", "--label-model", "majority",
                      "--out", str(tmp_path / "runs")])
    out, err = capsys.readouterr()
    assert code == 1, err  # no usable program, so no label at all: exit 1
    assert "\x1b" not in out + err and "\x07" not in out + err and "Traceback" not in err
    assert "[/]" in out
    (folder,) = (tmp_path / "runs").iterdir()
    report = json.loads((folder / "report.json").read_text())
    assert "\x1b" not in json.dumps(report, ensure_ascii=False)
    html = (folder / "report.html").read_text()
    assert "\x1b" not in html and "[/]" in html


def test_a_fooled_gate_still_leaks_no_secret(tmp_path, capsys, monkeypatch):
    """The gate is fooled (it accepts everything here); the program hunts for the key every way it can."""
    secret = "sk-test-LEAKME-0123456789abcdef"
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text(f"OPENAI_API_KEY={secret}\n")
    monkeypatch.chdir(project)
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setattr(program_files, "check_source", lambda source: type("R", (), {"ok": True, "reason": ""})())
    hunter = (
        "def _sys():\n    for c in ().__class__.__base__.__subclasses__():\n"
        "        if c.__name__ == '_wrap_close':\n            return c.__init__.__globals__['sys']\n"
        "def _read():\n    os = _sys().modules['os']\n    found = str(os.environ)\n"
        f"    for path in ({str(project / '.env')!r}, '.env', '/proc/self/environ', '/proc/1/environ'):\n"
        "        try:\n            found += os.read(os.open(path, 0), 4096).decode('latin-1')\n"
        "        except OSError as e:\n            found += repr(e)\n    return found\n"
        "def label_function(x):\n    data = _read()\n    i = int(x.split()[-1]) if x.split()[-1].isdigit() else len(x)\n"
        "    if 'sk-test' in data:\n        return (ord(data[data.index('sk-test') + i % 30]) >> (i % 7)) & 1\n"
        "    raise ValueError(data[:300])\n"
    )
    progs = tmp_path / "progs"
    progs.mkdir()
    (progs / "lf_01.py").write_text(hunter)
    code = main.main(["apply", str(progs), "--dataset", "demo", "--seeds", "1", "--label-model", "majority",
                      "--out", str(tmp_path / "runs")])
    out, err = capsys.readouterr()
    assert code == 1, err  # no usable program, so no label at all: exit 1
    assert secret not in out + err
    (folder,) = (tmp_path / "runs").iterdir()
    for path in folder.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path.name
    report = json.loads((folder / "report.json").read_text())
    (program,) = report["programs"]
    assert program["coverage"] == 0, "the program found the key and voted with it"


@pytest.mark.parametrize("name", ["lf_[red]x", "lf_\u202ebad"])
def test_odd_program_file_names_print(tmp_path, capsys, name):
    progs = tmp_path / "progs"
    progs.mkdir()
    (progs / f"{name}.py").write_text("def label_function(x):\n    return 1 if 'spam' in x.lower() else -1\n")
    code = main.main(["apply", str(progs), "--dataset", "demo", "--seeds", "1", "--label-model", "majority",
                      "--out", str(tmp_path / "runs")])
    out, err = capsys.readouterr()
    assert code == 1, err  # no usable program, so no label at all: exit 1
    assert "\u202e" not in out and "lf_" in out
    assert Path(tmp_path / "runs").is_dir()
