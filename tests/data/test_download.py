"""`main.py datasets --download`: the real huggingface_hub client against a local stand-in for the Hub.

The stand-in (an HTTP server on 127.0.0.1, reached through HF_ENDPOINT) serves small files shaped like the
real ones: WRENCH splits, the Financial PhraseBank zip, French reviews as JSON, Medical Abstracts as
Parquet — good, truncated, with wrong labels, or missing. No test reaches the internet. Where a test's
files are smaller than the documented splits, it passes its own copy of the sources table (`sources=`);
the command-line tests serve files of exactly the documented sizes.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import sys
import zipfile
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import ROOT

from alchemist.cli import main
from alchemist.core.errors import DatasetError
from alchemist.core.progress import NullProgress
from alchemist.data.datasets import load_dataset
from alchemist.data.download import fetch as dl
from alchemist.data.tasks import builtin_names
from alchemist.testing.local_server import LocalServer

WRENCH = "jieyuz2/WRENCH"
TOKEN = "hf_TestTokenThatMustNeverBePrinted123"
COMMIT = "c" * 40


# --- a stand-in for the Hub ------------------------------------------------------------------------------
class FakeHub(LocalServer):
    """HEAD/GET /datasets/{repo}/resolve/{revision}/{path} and GET /api/datasets/{repo}/tree/{revision}/{path}:
    what huggingface_hub's hf_hub_download and list_repo_tree ask for."""

    def __init__(self):
        self.files: dict[tuple[str, str], bytes] = {}
        self.requests: list[dict] = []
        super().__init__(self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def put(self, repo: str, path: str, data: bytes | str) -> None:
        self.files[(repo, path)] = data.encode() if isinstance(data, str) else data

    def _tree(self, repo: str, folder: str) -> list[dict]:
        prefix = f"{folder}/" if folder else ""
        entries, folders = [], set()
        for (r, path), data in sorted(self.files.items()):
            if r != repo or not path.startswith(prefix):
                continue
            rest = path[len(prefix):]
            if "/" in rest:
                folders.add(prefix + rest.split("/")[0])
            else:
                entries.append({"type": "file", "path": path, "size": len(data), "oid": hashlib.sha1(data).hexdigest()})
        return entries + [{"type": "directory", "path": f, "oid": "0" * 40} for f in sorted(folders)]

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self._answer(body=False)

            def do_GET(self):
                self._answer(body=True)

            def _answer(self, body: bool) -> None:
                hub.requests.append({"method": self.command, "path": self.path,
                                     "headers": {k.lower(): v for k, v in self.headers.items()}})
                parts = [unquote(p) for p in urlsplit(self.path).path.split("/")]
                if parts[1:3] == ["api", "datasets"] and len(parts) > 6 and parts[5] == "tree":
                    repo = f"{parts[3]}/{parts[4]}"
                    return self._send(200, json.dumps(hub._tree(repo, "/".join(parts[7:]))).encode(), body,
                                      {"content-type": "application/json"})
                if parts[1] == "datasets" and len(parts) > 6 and parts[4] == "resolve":
                    repo, revision, path = f"{parts[2]}/{parts[3]}", parts[5], "/".join(parts[6:])
                    data = hub.files.get((repo, path))
                    commit = revision if re.fullmatch(r"[0-9a-f]{40}", revision) else COMMIT
                    if data is None:
                        return self._send(404, b"not found", body, {"X-Error-Code": "EntryNotFound",
                                                                    "X-Repo-Commit": commit})
                    return self._send(200, data, body, {"X-Repo-Commit": commit,
                                                        "ETag": f'"{hashlib.sha1(data).hexdigest()}"'})
                self._send(404, b"no route", body, {"X-Error-Code": "RepoNotFound"})

            def _send(self, status: int, data: bytes, body: bool, headers: dict) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if body:
                    self.wfile.write(data)

        return Handler


@pytest.fixture(autouse=True)
def online(monkeypatch):
    """Other tests load the offline embedding model, which turns the Hugging Face client's offline mode on
    for the rest of the process (and for the processes it starts): these tests need it off."""
    from huggingface_hub import constants

    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


@pytest.fixture
def hub(monkeypatch):
    with FakeHub() as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        yield fake


# --- stand-in files ----------------------------------------------------------------------------------------
def wrench_split(n: int, classes: int = 2, weak: int = 3, start: int = 0) -> str:
    rows = {str(start + i): {"label": i % classes, "data": {"text": f"comment number {start + i} é"},
                             "weak_labels": [(i + j) % (classes + 1) - 1 for j in range(weak)]} for i in range(n)}
    return json.dumps(rows)


def put_wrench(hub: FakeHub, name: str, sizes: dict[str, int], classes: list[str]) -> None:
    for split, n in sizes.items():
        hub.put(WRENCH, f"classification/{name}/{split}.json", wrench_split(n, len(classes)))
    hub.put(WRENCH, f"classification/{name}/label.json", json.dumps({str(i): c for i, c in enumerate(classes)}))


YOUTUBE = {"train": 1686, "valid": 120, "test": 250}  # the documented sizes


def small(name: str, sizes: dict[str, int] | None = None) -> dict[str, dl.Source]:
    """The shipped table with smaller documented sizes for `name`: what small stand-in files need."""
    table = dl.load_sources()
    table[name] = dataclasses.replace(table[name], sizes=sizes or {"train": 12, "valid": 4, "test": 4})
    return table


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def leftovers(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.iterdir()) if data_dir.exists() else []


# --- the table ---------------------------------------------------------------------------------------------
def test_sources_table_covers_every_builtin_task_with_documented_sizes():
    table = dl.load_sources()
    assert sorted(table) == builtin_names()
    for name, src in table.items():
        assert set(src.sizes) == {"train", "valid", "test"} and all(n > 0 for n in src.sizes.values()), name
        if src.manual:
            assert src.from_hint and "kaggle" in " ".join(src.manual).lower()
        else:
            assert src.repo and src.download_mb and src.revision
        if src.labels is not None:  # every source label maps onto a class of the card
            from alchemist.data.tasks import builtin_card
            assert sorted(set(src.labels.values())) == list(range(builtin_card(name).n_classes)), name
    assert all(re.fullmatch(r"[0-9a-f]{40}", table[n].revision) for n in ("youtube", "sms", "imdb", "yelp", "agnews"))
    assert table["youtube"].sizes == YOUTUBE and table["finance"].sizes == {"train": 3488, "valid": 388, "test": 970}


def test_docs_table_matches_the_sources_table():
    text = (ROOT / "docs" / "download.md").read_text()
    for name, src in dl.load_sources().items():
        row = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
        for split in ("train", "valid", "test"):
            assert f"{src.sizes[split]:,}" in row, (name, split)
        if src.repo:
            assert src.repo in row and src.revision[:7] in row, name


# --- the command line, through the real client ----------------------------------------------------------------
def test_download_youtube_through_the_real_client(hub, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    put_wrench(hub, "youtube", YOUTUBE, ["HAM", "SPAM"])
    data = tmp_path / "data"
    code, out, err = run(["datasets", "--download", "youtube", "--data-dir", str(data)], capsys)
    assert code == 0, err
    assert "youtube: ready in" in out and "train 1,686, valid 120, test 250 rows" in out
    assert "about 400 kB from jieyuz2/WRENCH (revision b98f579f9031" in err and hub.url in err
    assert re.search(r"youtube: train\.json \(\d+ kB\)", err)  # the progress, with the file's size
    dataset = load_dataset("youtube", data)
    assert [len(dataset.splits[s]) for s in ("train", "valid", "test")] == [1686, 120, 250]
    assert dataset.train.weak_labels.shape == (1686, 3)
    assert leftovers(data) == ["youtube"]  # no temporary folder left behind
    assert sorted(p.name for p in (data / "youtube").iterdir()) == ["label.json", "source.json", "test.json",
                                                                   "train.json", "valid.json"]
    source = json.loads((data / "youtube" / "source.json").read_text())
    assert source["revision"] == "b98f579f90311e94da79970790964011dead7fec" and source["sizes"] == YOUTUBE
    # the files are the Hub's bytes, kept as they were
    assert (data / "youtube" / "train.json").read_bytes() == hub.files[(WRENCH, "classification/youtube/train.json")]
    # every request carried the token, at the pinned revision; the token was never printed or written
    resolves = [r for r in hub.requests if "/resolve/" in r["path"]]
    assert resolves and all("/resolve/b98f579f90311e94da79970790964011dead7fec/" in r["path"] for r in resolves)
    assert all(r["headers"].get("authorization") == f"Bearer {TOKEN}" for r in resolves)
    assert TOKEN not in out + err
    assert not any(TOKEN.encode() in p.read_bytes() for p in data.rglob("*") if p.is_file())


def test_listing_says_present_partial_or_missing_and_the_command_for_each(tmp_path, capsys):
    (tmp_path / "youtube").mkdir()
    (tmp_path / "youtube" / "train.json").write_text(wrench_split(3))
    (tmp_path / "agnews").mkdir()
    (tmp_path / "agnews" / "valid.json").write_text(wrench_split(3, 4))
    code, out, _ = run(["datasets", "--data-dir", str(tmp_path)], capsys)
    assert code == 0
    text = " ".join(out.replace("│", " ").split())
    assert "yes: train" in text and "partial: valid in" in text and "no train split" in text
    assert "missing from" in text and "WRENCH" in text and "Kaggle" in text
    lines = out.splitlines()  # each missing dataset's command, whole, on a line of its own
    for name in ("agnews", "sms", "imdb", "yelp", "finance", "french", "medabs", "cancer", "reddit"):
        command = f"  python main.py datasets --download {name} --data-dir {tmp_path}"
        assert command in lines or f"{command}   # prints the steps by hand" in lines
    assert not any("--download youtube" in line for line in lines)  # present: nothing to get


@pytest.mark.parametrize("case, expected", [
    ("truncated", "classification/youtube/train.json (revision"),
    ("wrong label", "row '7' has label 5, not a class of youtube"),
    ("missing file", "classification/youtube/valid.json (revision"),
    ("wrong size", "1,500 rows, but the train split of youtube has 1,686"),
    ("duplicate id", "id '3' appears twice"),
    ("wrong classes", "are not the task card's"),
    ("bad weak label", "weak_labels that are not votes -1..1"),
])
def test_a_bad_download_is_one_line_naming_the_file_and_writes_nothing(case, expected, hub, tmp_path, capsys):
    put_wrench(hub, "youtube", YOUTUBE, ["ham", "spam"])
    train = "classification/youtube/train.json"
    if case == "truncated":
        hub.put(WRENCH, train, hub.files[(WRENCH, train)][:5000])
        expected = "classification/youtube/train.json: not valid JSON"
    elif case == "wrong label":
        rows = json.loads(hub.files[(WRENCH, train)])
        rows["7"]["label"] = 5
        hub.put(WRENCH, train, json.dumps(rows))
    elif case == "missing file":
        del hub.files[(WRENCH, "classification/youtube/valid.json")]
    elif case == "wrong size":
        hub.put(WRENCH, train, wrench_split(1500))
    elif case == "duplicate id":
        hub.put(WRENCH, train, wrench_split(1686)[:-1] + ', "3": {"label": 0, "data": {"text": "again"}, '
                                                         '"weak_labels": [-1, -1, -1]}}')
    elif case == "wrong classes":
        hub.put(WRENCH, "classification/youtube/label.json", '{"0": "spam", "1": "ham"}')
    elif case == "bad weak label":
        rows = json.loads(hub.files[(WRENCH, train)])
        rows["2"]["weak_labels"] = [0, 9, -1]
        hub.put(WRENCH, train, json.dumps(rows))
    data = tmp_path / "data"
    code, out, err = run(["datasets", "--download", "youtube", "--data-dir", str(data)], capsys)
    assert code == 2
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert expected in line and "nothing was written" in line, line
    assert leftovers(data) == []  # not even the temporary folder


def test_a_dataset_already_there_is_not_downloaded_again(hub, tmp_path, capsys):
    (tmp_path / "youtube").mkdir()
    (tmp_path / "youtube" / "train.json").write_text(wrench_split(3))
    code, out, _ = run(["datasets", "--download", "youtube", "--data-dir", str(tmp_path)], capsys)
    assert code == 0 and "already there" in out and hub.requests == []


def test_a_partial_copy_is_kept_aside_not_deleted(hub, tmp_path):
    (tmp_path / "agnews").mkdir()
    (tmp_path / "agnews" / "PARTIAL.md").write_text("valid and test only")
    (tmp_path / "agnews" / "valid.json").write_text(wrench_split(3, 4))
    put_wrench(hub, "agnews", {"train": 12, "valid": 4, "test": 4}, ["World", "Sports", "Business", "Sci/Tech"])
    line = dl.download("agnews", tmp_path, sources=small("agnews"))
    assert "kept as" in line
    (aside,) = [p for p in tmp_path.iterdir() if p.name.startswith("agnews.before-download-")]
    assert (aside / "PARTIAL.md").read_text() == "valid and test only"
    assert len(load_dataset("agnews", tmp_path).train) == 12


def test_download_all_fetches_every_hub_dataset_and_prints_the_manual_steps(hub, tmp_path, capsys):
    table = dl.load_sources()
    sizes = {"train": 60, "valid": 10, "test": 10}
    for name in ("youtube", "sms", "imdb", "yelp", "agnews"):
        from alchemist.data.tasks import builtin_card
        put_wrench(hub, name, sizes, builtin_card(name).classes)
        table[name] = dataclasses.replace(table[name], sizes=sizes)
    put_finance(hub, [40, 40, 20])
    put_french(hub, [30, 30, 40])
    put_medabs(hub, [20] * 5, [4] * 5)
    table["finance"] = dataclasses.replace(table["finance"], sizes={"train": 72, "valid": 8, "test": 20})
    table["french"] = dataclasses.replace(table["french"], sizes={"train": 72, "valid": 8, "test": 20})
    table["medabs"] = dataclasses.replace(table["medabs"], sizes={"train": 90, "valid": 10, "test": 20})
    code = dl.run_downloads(["all"], tmp_path, sources=table, progress=NullProgress())
    out = capsys.readouterr().out
    assert code == 0
    assert leftovers(tmp_path) == ["agnews", "finance", "french", "imdb", "medabs", "sms", "yelp", "youtube"]
    assert "cancer: cannot be downloaded for you" in out and "reddit: cannot be downloaded for you" in out
    for name in leftovers(tmp_path):
        assert len(load_dataset(name, tmp_path).train) == table[name].sizes["train"]


def test_one_failure_among_several_leaves_the_others_in_place(hub, tmp_path, capsys):
    put_wrench(hub, "youtube", {"train": 12, "valid": 4, "test": 4}, ["ham", "spam"])
    table = small("youtube")
    table["sms"] = dataclasses.replace(table["sms"], sizes={"train": 12, "valid": 4, "test": 4})  # not served
    with pytest.raises(DatasetError, match=r"1 of 2 downloads failed \(sms\)"):
        dl.run_downloads(["youtube", "sms"], tmp_path, sources=table, progress=NullProgress())
    assert "classification/sms/train.json" in capsys.readouterr().err
    assert leftovers(tmp_path) == ["youtube"]


class _Interrupting(NullProgress):
    """A progress display whose second file is interrupted (Ctrl-C) half-way."""

    def __init__(self):
        self.files = 0

    def stage(self, name, total=None, unit="rows"):
        self.files += 1
        progress = self

        class Stage:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                pass

            def note(self, text):
                pass

            def advance(self, n=1):
                if progress.files == 2:
                    raise KeyboardInterrupt

        return Stage()


def test_an_interrupted_download_leaves_nothing(hub, tmp_path, capsys):
    put_wrench(hub, "youtube", YOUTUBE, ["ham", "spam"])
    code = dl.run_downloads(["youtube"], tmp_path, progress=_Interrupting())
    assert code == 130 and "nothing was written for youtube" in capsys.readouterr().err
    assert leftovers(tmp_path) == []


def test_an_unreachable_endpoint_is_one_line(tmp_path, capsys, monkeypatch):
    import huggingface_hub.utils._http as hub_http

    monkeypatch.setattr(hub_http.time, "sleep", lambda seconds: None)  # the client's back-off (~23 s) is not waited
    with FakeHub() as fake:
        closed = fake.url  # the server is shut down when the block ends: nothing listens there any more
    monkeypatch.setenv("HF_ENDPOINT", closed)
    with pytest.raises(DatasetError, match="cannot reach the Hub.*set HF_ENDPOINT to a mirror") as e:
        dl.download("youtube", tmp_path, progress=NullProgress())
    assert "\n" not in str(e.value) and leftovers(tmp_path) == []


def test_a_host_name_that_does_not_resolve_fails_at_once(tmp_path, monkeypatch):
    import huggingface_hub.utils._http as hub_http

    waits: list[float] = []
    monkeypatch.setattr(hub_http.time, "sleep", waits.append)  # the client's back-off would be ~23 s
    monkeypatch.setenv("HF_ENDPOINT", "https://no-such-host.invalid")  # .invalid never resolves (RFC 2606)
    with pytest.raises(DatasetError, match="cannot resolve no-such-host.invalid.*HF_ENDPOINT") as e:
        dl.download("youtube", tmp_path, progress=NullProgress())
    assert waits == [] and "\n" not in str(e.value) and leftovers(tmp_path) == []


def test_offline_mode_is_said_plainly(hub, tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(DatasetError, match="offline mode .HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE is set"):
        dl.download("youtube", tmp_path, progress=NullProgress())
    assert hub.requests == [] and leftovers(tmp_path) == []


def test_bad_names_and_flags(tmp_path, capsys):
    code, _, err = run(["datasets", "--download", "nosuch", "--data-dir", str(tmp_path)], capsys)
    assert code == 2 and "unknown dataset 'nosuch'" in err
    code, _, err = run(["datasets", "--download", "youtube", "--from", str(tmp_path), "--data-dir", str(tmp_path)],
                       capsys)
    assert code == 2 and "--from goes with" in err
    code, _, err = run(["datasets", "--from", str(tmp_path)], capsys)
    assert code == 2 and "--from goes with" in err


# --- the converted sources ---------------------------------------------------------------------------------------
def put_finance(hub: FakeHub, counts: list[int], member: str = "FinancialPhraseBank-v1.0/Sentences_50Agree.txt"):
    lines = [f"Sentence {i} about the company, {name} news ä .@{name}"
             for name, n in zip(("negative", "neutral", "positive"), counts) for i in range(n)]
    lines = [lines[(i * 7919) % len(lines)] for i in range(len(lines))]  # classes interleaved, as in the real file
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, "\r\n".join(lines).encode("latin-1"))
        archive.writestr("FinancialPhraseBank-v1.0/License.txt", "CC BY-NC-SA 3.0")
    hub.put("takala/financial_phrasebank", "data/FinancialPhraseBank-v1.0.zip", buffer.getvalue())
    return lines


def test_finance_is_split_as_documented_from_the_phrasebank_zip(hub, tmp_path):
    lines = put_finance(hub, [604, 2879, 1363])  # the class counts of Sentences_50Agree (4,846 sentences)
    dl.download("finance", tmp_path, progress=NullProgress())  # the shipped table: the real sizes
    dataset = load_dataset("finance", tmp_path)
    counts = {s: Counter(dataset.splits[s].labels.tolist()) for s in ("train", "valid", "test")}
    # the sizes and class balance of the copy the team made by hand (shared/datasets/finance)
    assert counts == {"train": {0: 435, 1: 2072, 2: 981}, "valid": {0: 48, 1: 231, 2: 109},
                      "test": {0: 121, 1: 576, 2: 273}}
    texts = {t for s in dataset.splits.values() for t in s.texts}
    assert texts == {line.rpartition("@")[0].strip() for line in lines}  # every sentence once, Latin-1 read
    position = {line.rpartition("@")[0].strip(): i for i, line in enumerate(lines)}
    for split in dataset.splits.values():  # each split keeps the source order
        assert [position[t] for t in split.texts] == sorted(position[t] for t in split.texts)
    assert json.loads((tmp_path / "finance" / "label.json").read_text()) == {"0": "negative", "1": "neutral",
                                                                              "2": "positive"}


def test_the_split_is_the_same_every_time(hub, tmp_path):
    put_finance(hub, [60, 30, 30])
    table = small("finance", {"train": 86, "valid": 10, "test": 24})
    for folder in ("a", "b"):
        dl.download("finance", tmp_path / folder, sources=table, progress=NullProgress())
    for split in ("train", "valid", "test"):
        assert (tmp_path / "a" / "finance" / f"{split}.json").read_bytes() == \
            (tmp_path / "b" / "finance" / f"{split}.json").read_bytes()


@pytest.mark.parametrize("damage, expected", [
    ("truncated", "not a readable zip file"),
    ("no member", "the zip has no FinancialPhraseBank-v1.0/Sentences_50Agree.txt"),
    ("bad label", "has label 'bullish', not one of negative, neutral, positive"),
])
def test_a_bad_phrasebank_zip_writes_nothing(damage, expected, hub, tmp_path):
    put_finance(hub, [60, 30, 30], member="FinancialPhraseBank-v1.0/Sentences_AllAgree.txt" if damage == "no member"
                else "FinancialPhraseBank-v1.0/Sentences_50Agree.txt")
    key = ("takala/financial_phrasebank", "data/FinancialPhraseBank-v1.0.zip")
    if damage == "truncated":
        hub.put(*key, hub.files[key][:200])
    elif damage == "bad label":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("FinancialPhraseBank-v1.0/Sentences_50Agree.txt", "Shares rose .@bullish\n")
        hub.put(*key, buffer.getvalue())
    with pytest.raises(DatasetError, match=re.escape(expected)) as e:
        dl.download("finance", tmp_path, sources=small("finance"), progress=NullProgress())
    assert "takala/financial_phrasebank:data/FinancialPhraseBank-v1.0.zip" in str(e.value)
    assert leftovers(tmp_path) == []


def french_records(counts: list[int]) -> list[dict]:
    labels = [label for label, n in zip((-1, 0, 1), counts) for _ in range(n)]
    return [{"book_title": f"Livre {i}", "author": "Auteur", "reader_review": f"Critique numéro {i} : très bien",
             "rating": {-1: 1.5, 0: 3.0, 1: 4.5}[label], "label": label} for i, label in enumerate(labels)]


def put_french(hub: FakeHub, counts: list[int], lines: bool = False) -> list[dict]:
    records = french_records(counts)
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) if lines else json.dumps(records)
    hub.put("Abirate/french_book_reviews", "reviews.json", text)
    hub.put("Abirate/french_book_reviews", "README.md", "# French book reviews")
    return records


def test_french_reviews_are_split_as_documented(hub, tmp_path):
    put_french(hub, [859, 2129, 6670])  # 9,658 reviews, the class counts of the team's copy
    dl.download("french", tmp_path, progress=NullProgress())
    dataset = load_dataset("french", tmp_path)
    assert {s: Counter(dataset.splits[s].labels.tolist()) for s in ("train", "valid", "test")} == {
        "train": {0: 618, 1: 1533, 2: 4802}, "valid": {0: 69, 1: 170, 2: 534}, "test": {0: 172, 1: 426, 2: 1334}}
    row = json.loads((tmp_path / "french" / "train.json").read_text())["0"]
    assert row["data"]["text"].startswith("Critique numéro") and {"rating", "book_title", "author"} <= set(row["data"])
    tree = [r for r in hub.requests if "/tree/534725e03fec6f560dbe8166e8ae3825314a6290" in r["path"]]
    assert tree  # the file was found by its pattern, at the pinned revision


def test_french_reviews_as_json_lines(hub, tmp_path):
    put_french(hub, [10, 10, 20], lines=True)
    dl.download("french", tmp_path, sources=small("french", {"train": 28, "valid": 4, "test": 8}),
                progress=NullProgress())
    assert len(load_dataset("french", tmp_path).train) == 28


def test_french_review_with_an_unknown_label_names_the_record(hub, tmp_path):
    records = put_french(hub, [10, 10, 20])
    records[5]["label"] = 2
    hub.put("Abirate/french_book_reviews", "reviews.json", json.dumps(records))
    with pytest.raises(DatasetError, match=r"Abirate/french_book_reviews:reviews.json: record 6 has label 2, not one"):
        dl.download("french", tmp_path, sources=small("french"), progress=NullProgress())
    assert leftovers(tmp_path) == []


def put_medabs(hub: FakeHub, train: list[int], test: list[int]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for split, counts in (("train", train), ("test", test)):
        labels = [c + 1 for c, n in enumerate(counts) for _ in range(n)]  # the source's ids are 1..5
        table = pa.table({"condition_label": pa.array(labels, pa.int64()),
                          "medical_abstract": [f"{split} abstract {i}: patients with condition {y}"
                                               for i, y in enumerate(labels)]})
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        hub.put("TimSchopf/medical_abstracts", f"data/{split}-00000-of-00001.parquet", buffer.getvalue())
    hub.put("TimSchopf/medical_abstracts", "labels/train-00000-of-00001.parquet", b"not ours")


def test_medical_abstracts_keep_the_official_test_split(hub, tmp_path):
    put_medabs(hub, [2530, 1195, 1540, 2441, 3844], [633, 299, 385, 610, 961])  # the dataset card's counts
    dl.download("medabs", tmp_path, progress=NullProgress())
    dataset = load_dataset("medabs", tmp_path)
    assert [len(dataset.splits[s]) for s in ("train", "valid", "test")] == [10395, 1155, 2888]
    assert dataset.splits["test"].texts[:2] == ["test abstract 0: patients with condition 1",
                                                "test abstract 1: patients with condition 1"]
    assert Counter(dataset.splits["test"].labels.tolist()) == {0: 633, 1: 299, 2: 385, 3: 610, 4: 961}


def test_a_truncated_parquet_file_writes_nothing(hub, tmp_path):
    put_medabs(hub, [20] * 5, [4] * 5)
    key = ("TimSchopf/medical_abstracts", "data/train-00000-of-00001.parquet")
    hub.put(*key, hub.files[key][:300])
    with pytest.raises(DatasetError, match="data/train-00000-of-00001.parquet: not a readable Parquet file"):
        dl.download("medabs", tmp_path, sources=small("medabs"), progress=NullProgress())
    assert leftovers(tmp_path) == []


# --- the two sources behind an account ------------------------------------------------------------------------
def test_cancer_and_reddit_print_the_manual_steps(tmp_path, capsys):
    code, out, _ = run(["datasets", "--download", "cancer", "reddit", "--data-dir", str(tmp_path)], capsys)
    assert code == 0
    assert "kaggle.com" in out and "falgunipatel19/biomedical-text-publication-classification" in out
    assert f"--download cancer --from PATH/TO/alldata_1_for_kaggle.csv --data-dir {tmp_path}" in out
    assert "vivmankar/physics-vs-chemistry-vs-biology" in out and "train 5,450 / valid 606 / test 1,514" in out
    assert leftovers(tmp_path) == []


def test_cancer_from_the_file_downloaded_by_hand(tmp_path, capsys):
    path = tmp_path / "alldata_1_for_kaggle.csv"
    names = ["Colon_Cancer", "Lung_Cancer", "Thyroid_Cancer"]
    with open(path, "w", encoding="latin-1", newline="") as f:  # the Kaggle file: Latin-1, columns "", "0", "a"
        writer = csv.writer(f)
        writer.writerow(["", "0", "a"])
        for i in range(7570):
            writer.writerow([i, names[i % 3], f"Résumé {i}: " + "long text, with commas " * 3])
    data = tmp_path / "data"
    code, out, err = run(["datasets", "--download", "cancer", "--from", str(path), "--data-dir", str(data)], capsys)
    assert code == 0, err
    dataset = load_dataset("cancer", data)
    assert [len(dataset.splits[s]) for s in ("train", "valid", "test")] == [5450, 606, 1514]
    assert all(t.startswith("Résumé ") for t in dataset.train.texts) and leftovers(data) == ["cancer"]


def test_reddit_from_the_folder_downloaded_by_hand(tmp_path):
    folder = tmp_path / "kaggle"
    folder.mkdir()
    for split, n in (("train", 8695), ("test", 1586)):
        with open(folder / f"reddit_{split}.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["Comment", "Topic"])
            for i in range(n):
                writer.writerow([f"{split} comment {i}", ("Chemistry", "Biology", "Physics")[i % 3]])
    line = dl.download("reddit", tmp_path / "data", local=folder, progress=NullProgress())
    assert "train 7,825, valid 870, test 1,586 rows" in line
    with pytest.raises(DatasetError, match="needs a folder holding its train and test files"):
        dl.download("reddit", tmp_path / "other", local=folder / "reddit_train.csv", progress=NullProgress())


# --- the wizard ------------------------------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals need a POSIX system")
def test_wizard_offers_the_download_with_its_size_first(hub, tmp_path):
    import pexpect

    put_wrench(hub, "youtube", YOUTUBE, ["HAM", "SPAM"])
    env = dict(os.environ, HF_ENDPOINT=hub.url, ALCHEMIST_CACHE_DIR=str(tmp_path / "cache"), TERM="xterm",
               PROMPT_TOOLKIT_NO_CPR="1", OPENAI_API_KEY="sk-test-openai")
    child = pexpect.spawn(sys.executable, [str(ROOT / "main.py"), "wizard", "--data-dir", str(tmp_path / "data"),
                                           "--out", str(tmp_path / "runs")],
                          cwd=str(ROOT), env=env, encoding="utf-8", timeout=60, dimensions=(50, 180))
    child.expect(r"Which dataset\?")
    child.send("Download")
    child.expect("Download")
    child.send("\r")
    child.expect(r"Which dataset should be downloaded\?")
    child.expect(r"youtube\s+about 400 kB")  # the size, before anything is fetched
    child.send("youtube")
    child.expect("youtube")
    child.send("\r")
    child.expect(r"Download youtube \(about 400 kB, from Hugging Face jieyuz2/WRENCH\)")
    child.send("\r")
    child.expect("youtube: ready in")
    child.expect("own words")  # the wizard goes on with the downloaded data
    child.send("\x15exit\r")  # Ctrl-U clears the suggested description first
    child.expect(pexpect.EOF, timeout=60)
    child.close()
    assert child.exitstatus == 0
    assert len(load_dataset("youtube", tmp_path / "data").train) == 1686
