"""Built-in datasets on a fresh machine: `python main.py datasets --download NAME [NAME ...] | all`.

Where each dataset comes from is data: `alchemist/dataset_sources.json` (Hub repo, pinned revision, files,
how to convert, the documented size of every split), explained in docs/download.md. A download goes into a
hidden temporary folder beside its target (`DATA/.youtube.download-XXXX/`), is converted to the WRENCH layout
and checked — every file parses, ids are unique, labels are the task card's classes, every split has its
documented size — and only then is the finished folder renamed into place. An interrupted or corrupt
download therefore leaves nothing half-written; every problem is one line naming the file (DatasetError,
exit status 2).

The client is `huggingface_hub`, pointed at HF_ENDPOINT (a mirror, or the tests' local stand-in) with
HF_TOKEN when set; the token is only ever sent to that endpoint, never printed or written.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fnmatch import fnmatch
from pathlib import Path
from typing import Iterator, TextIO

from alchemist.datasets import SPLITS, presence
from alchemist.errors import AlchemistError, DatasetError
from alchemist.files import atomic_write_json, atomic_write_text
from alchemist.progress import NullProgress, Progress, make_progress
from alchemist.safe_text import clean, redact
from alchemist.tasks import TaskCard, builtin_card, builtin_names

SOURCES_PATH = Path(__file__).with_name("dataset_sources.json")
TABLE = "alchemist/dataset_sources.json"  # how errors name the table of documented sizes
DEFAULT_ENDPOINT = "https://huggingface.co"

Row = tuple[str, int, dict]  # (text, class id, extra data fields kept from the source)
Found = dict[str, list[tuple[Path, str]]]  # role -> [(local file, the name errors give it)]


@dataclass(frozen=True)
class Source:
    """One row of the sources table."""

    name: str
    title: str
    files: dict[str, str]  # role (train / valid / test / label, or all) -> path or * pattern
    read: dict  # format (wrench, phrasebank, json_records, parquet, csv) and its fields
    sizes: dict[str, int]  # rows of each split once written
    repo: str = ""
    revision: str = "main"
    labels: dict[str, int] | None = None  # source label value -> class id (converted sources)
    split: dict | None = None  # fractions held out (test, valid) and the seed
    download_mb: float | None = None
    license: str = ""
    manual: list[str] = field(default_factory=list)  # steps by hand (sources behind an account)
    from_hint: str = ""

    @property
    def size_text(self) -> str:
        return f"about {human_size(self.download_mb * 1e6)}" if self.download_mb else "size unknown"

    @property
    def where(self) -> str:
        return f"{self.repo} (revision {self.revision[:12]})"


def load_sources(path: Path = SOURCES_PATH) -> dict[str, Source]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {name: Source(name=name, **row) for name, row in data.items() if not name.startswith("_")}


def human_size(n_bytes: float) -> str:
    """Rounded up, as the progress counts kB, so a file's size and its final count agree."""
    if n_bytes < 1e6:
        return f"{math.ceil(n_bytes / 1e2) / 10:.1f} kB" if n_bytes < 1e4 else f"{math.ceil(n_bytes / 1e3)} kB"
    return f"{math.ceil(n_bytes / 1e5) / 10:.1f} MB"


def how_to_get(name: str, sources: dict[str, Source]) -> str:
    """Where a built-in dataset comes from, in a few words (the `main.py datasets` table, the wizard)."""
    src = sources.get(name)
    if src is None:
        return ""
    if src.manual:
        return f"by hand: {src.title} needs a free Kaggle account"
    return f"download: {src.size_text}, Hugging Face {src.repo}"


def download_command(name: str, flag: str = "") -> str:
    return f"python main.py datasets --download {name}{flag}"


def manual_steps(src: Source, flag: str = "") -> str:
    sizes = " / ".join(f"{s} {src.sizes[s]:,}" for s in SPLITS)
    steps = [*src.manual, f"Convert and check it: {download_command(src.name)} --from {src.from_hint}{flag}"]
    return "\n".join([f"{src.name}: cannot be downloaded for you ({src.title} needs an account). By hand:",
                      *(f"  {i}. {step}" for i, step in enumerate(steps, 1)),
                      f"  It is then split as documented in docs/download.md ({sizes} rows) and checked "
                      "before anything is written."])


# --- the command --------------------------------------------------------------------------------------
def run_downloads(requested: list[str], data_dir: Path, *, local: Path | None = None, flag: str = "",
                  sources: dict[str, Source] | None = None, progress: Progress | None = None,
                  out: TextIO | None = None) -> int:
    """`main.py datasets --download ...`: each dataset in turn; a failed one leaves nothing and the others
    still go ahead. Exit status 0, 2 (some failed) or 130 (interrupted)."""
    out = out or sys.stdout
    sources = sources or load_sources()
    names = resolve_names(requested, sources)
    if local is not None and (len(names) != 1 or not sources[names[0]].manual):
        manual = ", ".join(n for n, s in sources.items() if s.manual)
        raise DatasetError(f"--from goes with a single dataset that is fetched by hand ({manual})")
    progress = progress or make_progress()
    failed = []
    for name in names:
        if sources[name].manual and local is None:
            print(manual_steps(sources[name], flag), file=out)
            continue
        try:
            print(download(name, data_dir, sources=sources, progress=progress, local=local), file=out)
        except KeyboardInterrupt:
            print(f"\ninterrupted: nothing was written for {name}", file=sys.stderr)
            return 130
        except DatasetError as e:
            if len(names) == 1:
                raise
            failed.append(name)
            print(f"error: {clean(e, 2000)}", file=sys.stderr)
    if failed:
        raise DatasetError(f"{len(failed)} of {len(names)} downloads failed ({', '.join(failed)}); "
                           "the others are in place")
    return 0


def resolve_names(requested: list[str], sources: dict[str, Source]) -> list[str]:
    if any(n.lower() == "all" for n in requested):
        return [n for n in builtin_names() if n in sources]
    names = []
    for name in requested:
        if name not in sources:
            raise DatasetError(f"unknown dataset '{name}' (built-in: {', '.join(sorted(sources))}; or all)")
        if name not in names:
            names.append(name)
    return names


def download(name: str, data_dir: Path, *, sources: dict[str, Source] | None = None,
             progress: Progress | None = None, local: Path | None = None) -> str:
    """Fetch (or read `local` files for a source behind an account), convert, check, then move into
    `data_dir/name`. Returns the line that says what was done."""
    src = (sources or load_sources())[name]
    card = builtin_card(name)
    progress = progress or NullProgress()
    data_dir = Path(data_dir)
    found, status = presence(name, data_dir)
    if found is not None:
        return f"{name}: already there ({status}); nothing downloaded — move that folder away to download it again"
    if src.manual and local is None:
        raise DatasetError(manual_steps(src).replace("\n", " "))
    data_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}.download-", dir=data_dir))  # same disk: the move is a rename
    try:
        files = _local_files(src, Path(local)) if local is not None else _fetch(src, work / "raw", progress)
        folder = work / name
        shown = _build(src, card, files, folder)
        counts = check_folder(src, card, folder, shown)
        _write_provenance(src, folder, files)
        note = _install(folder, data_dir / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sizes = ", ".join(f"{s} {counts[s]:,}" for s in SPLITS)
    return f"{name}: ready in {data_dir / name} ({sizes} rows; checked against {TABLE}){note}"


def _install(folder: Path, target: Path) -> str:
    """Rename the checked folder into place. Whatever was at the target (a partial copy: no train split)
    is kept beside it rather than deleted."""
    aside = None
    if target.exists() or target.is_symlink():
        aside = target.with_name(f"{target.name}.before-download-{datetime.now():%Y%m%d-%H%M%S}")
        target.rename(aside)
    try:
        folder.rename(target)
    except OSError as e:
        if aside is not None:
            aside.rename(target)
        raise DatasetError(f"{target}: cannot move the checked download into place ({e.strerror or e})") from None
    return f"; the folder that was there is kept as {aside}" if aside else ""


def _write_provenance(src: Source, folder: Path, files: Found) -> None:
    atomic_write_json(folder / "source.json", {
        "dataset": src.name, "title": src.title, "repo": src.repo or None,
        "revision": src.revision if src.repo else None,
        "files": [shown for found in files.values() for _, shown in found],
        "split": src.split, "sizes": src.sizes, "license": src.license,
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "by": "python main.py datasets --download (docs/download.md)"})


# --- fetching ------------------------------------------------------------------------------------------
def _fetch(src: Source, folder: Path, progress: Progress) -> Found:
    from huggingface_hub import constants

    if constants.is_offline_mode():  # the client refuses every request: say why, not "cannot reach"
        raise DatasetError(f"{src.name}: the Hugging Face client is in offline mode (HF_HUB_OFFLINE or "
                           "TRANSFORMERS_OFFLINE is set, also by an earlier RAG or embeddings step in this "
                           f"process); run `{download_command(src.name)}` in a shell without them")
    hub = _Hub(src, folder, progress)
    progress.log(f"{src.name}: {src.size_text} from {src.where} at {hub.endpoint}")
    return {role: [(hub.get(path), f"{src.repo}:{path}") for path in hub.resolve(pattern)]
            for role, pattern in src.files.items()}


def _local_files(src: Source, path: Path) -> Found:
    """Files downloaded by hand: one file for a one-file source, else a folder matched by the patterns."""
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder")
    if path.is_file():
        if len(src.files) != 1:
            raise DatasetError(f"{path}: {src.name} needs a folder holding its {' and '.join(src.files)} files")
        return {role: [(path, str(path))] for role in src.files}
    found = {}
    for role, pattern in src.files.items():
        name = pattern.rpartition("/")[2]
        matches = sorted(p for p in path.iterdir() if p.is_file() and fnmatch(p.name.lower(), name.lower()))
        if len(matches) != 1:
            raise DatasetError(f"{path}: expected one file matching {name} for the {role} split, found "
                               f"{len(matches)}{': ' + ', '.join(p.name for p in matches) if matches else ''}")
        found[role] = [(matches[0], str(matches[0]))]
    return found


class _Hub:
    """The Hugging Face Hub through huggingface_hub, at HF_ENDPOINT with HF_TOKEN (read when called, so a
    mirror set after start-up is used)."""

    def __init__(self, src: Source, folder: Path, progress: Progress):
        self.src, self.folder, self.progress = src, folder, progress
        self.endpoint = (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self.token = os.environ.get("HF_TOKEN") or None  # None: huggingface_hub's own login, if any

    def resolve(self, pattern: str) -> list[str]:
        """A plain path as is; a * pattern matched against the files of its folder at the pinned revision."""
        if not any(c in pattern for c in "*?["):
            return [pattern]
        folder, _, name = pattern.rpartition("/")
        with self._errors(pattern):
            from huggingface_hub import HfApi
            from huggingface_hub.hf_api import RepoFile

            entries = HfApi(endpoint=self.endpoint, token=self.token).list_repo_tree(
                self.src.repo, folder or None, repo_type="dataset", revision=self.src.revision)
            # dataset_info(s).json is the Hub's metadata, never data
            paths = sorted(e.path for e in entries if isinstance(e, RepoFile)
                           and fnmatch(e.path.rpartition("/")[2], name) and not e.path.endswith(
                               ("dataset_infos.json", "dataset_info.json")))
        if not paths:
            raise DatasetError(f"{self.src.repo}:{pattern} (revision {self.src.revision[:12]}, {self.endpoint}): "
                               "no file matches; nothing was written")
        return paths

    def get(self, path: str) -> Path:
        with self._errors(path):
            from huggingface_hub import hf_hub_download

            local = hf_hub_download(self.src.repo, path, repo_type="dataset", revision=self.src.revision,
                                    local_dir=self.folder, cache_dir=self.folder / ".hf-cache",
                                    endpoint=self.endpoint, token=self.token,
                                    tqdm_class=bar_class(self.progress, f"{self.src.name}: {path.rpartition('/')[2]}"))
        return Path(local)

    @contextmanager
    def _errors(self, path: str) -> Iterator[None]:
        """Whatever the client raises becomes one line naming the file (never the token)."""
        try:
            yield
        except AlchemistError:
            raise
        except Exception as e:  # the client's own errors, httpx's, OSError: all of them are "it failed"
            where = f"{self.src.repo}:{path} (revision {self.src.revision[:12]}, {self.endpoint})"
            raise DatasetError(redact(f"{where}: {_explain(e)}; nothing was written")) from None


def _explain(e: Exception) -> str:
    from huggingface_hub import errors

    status = getattr(getattr(e, "response", None), "status_code", None)
    if isinstance(e, errors.GatedRepoError):
        return "the dataset is gated: accept its terms on its Hub page, then set HF_TOKEN"
    if isinstance(e, errors.RepositoryNotFoundError):
        return "repository not found, or private (set HF_TOKEN if you have access)"
    if isinstance(e, errors.RevisionNotFoundError):
        return "that revision is not in the repository"
    if isinstance(e, errors.LocalEntryNotFoundError) or isinstance(e, (ConnectionError, TimeoutError)) \
            or type(e).__name__ in ("ConnectError", "ConnectTimeout", "ReadTimeout"):
        return f"cannot reach the Hub ({type(e).__name__}); check the network, or set HF_ENDPOINT to a mirror"
    if isinstance(e, errors.EntryNotFoundError):
        return "no such file (HTTP 404)"
    if status:
        return f"HTTP {status} from the Hub"
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {first}"[:300]


def bar_class(progress: Progress, label: str) -> type:
    """A tqdm look-alike for hf_hub_download's `tqdm_class`: a file's bytes, counted in kB, go to our
    progress display (a bar on a terminal, plain lines in logs), with the file's size in its name."""

    class _Bar:
        def __init__(self, *args: object, total: int | None = None, initial: int = 0, **kwargs: object):
            self.n, self.total, self.shown = initial, total, 0
            name = f"{label} ({human_size(total)})" if total else label
            self.stage = progress.stage(name, total=math.ceil(total / 1000) if total else None, unit="kB")
            self.stage.__enter__()
            self.update(0)

        def update(self, n: int = 1) -> None:
            self.n += n
            kb = math.ceil(self.n / 1000)
            if kb > self.shown:
                self.stage.advance(kb - self.shown)
                self.shown = kb

        def update_transfer(self, n: int = 1) -> None:
            """Network bytes of a Xet download: its file bytes are counted once, by update()."""

        def set_postfix_str(self, *args: object, **kwargs: object) -> None:
            pass

        set_transfer_postfix_str = set_postfix_str
        refresh = set_postfix_str

        def close(self, *exc: object) -> None:
            if self.stage is not None:
                self.stage.__exit__(*(exc or (None, None, None)))
                self.stage = None

        def __enter__(self) -> "_Bar":
            return self

        def __exit__(self, *exc: object) -> None:
            self.close(*exc)

    return _Bar


# --- converting to the WRENCH layout ---------------------------------------------------------------------
def _build(src: Source, card: TaskCard, files: Found, folder: Path) -> dict[str, str]:
    """Write train/valid/test/label.json into `folder`; returns {file name: the name errors give it}."""
    folder.mkdir(parents=True)
    if src.read["format"] == "wrench":
        return _take_wrench(files, folder)
    parts = {role: [row for path, shown in found for row in _read_rows(src, path, shown)]
             for role, found in files.items()}
    origin = " + ".join(shown for found in files.values() for _, shown in found)
    shown = {}
    for split, rows in _split(src, parts).items():
        _write_split(folder / f"{split}.json", rows)
        shown[f"{split}.json"] = f"{src.name} {split} split (converted from {origin})"
    atomic_write_json(folder / "label.json", {str(i): c for i, c in enumerate(card.classes)})
    return shown


def _take_wrench(files: Found, folder: Path) -> dict[str, str]:
    shown = {}
    for role, found in files.items():
        if len(found) != 1:
            raise DatasetError(f"{role}: expected one file, found {len(found)}")
        path, name = found[0]
        shutil.move(path, folder / f"{role}.json")  # kept byte for byte once checked
        shown[f"{role}.json"] = name
    return shown


def _read_rows(src: Source, path: Path, shown: str) -> list[Row]:
    readers = {"phrasebank": _phrasebank_records, "json_records": _json_records, "parquet": _parquet_records,
               "csv": _csv_records}
    records = readers[src.read["format"]](src.read, path, shown)
    return [_to_row(src, record, shown, i) for i, record in enumerate(records, 1)]


def _to_row(src: Source, record: dict, shown: str, number: int) -> Row:
    text_field, label_field = src.read.get("text", "text"), src.read.get("label", "label")
    for name in (text_field, label_field):
        if name not in record:
            raise DatasetError(f"{shown}: record {number} has no '{name}' field "
                               f"(fields: {', '.join(map(str, record))})")
    value = record[label_field]
    key = _label_key(value)
    if key not in (src.labels or {}):
        raise DatasetError(f"{shown}: record {number} has label {value!r}, not one of "
                           f"{', '.join(src.labels or {})}")
    text = record[text_field]
    extra = {k: record[k] for k in src.read.get("keep", []) if k in record}
    return ("" if text is None else str(text)), src.labels[key], extra


def _label_key(value: object) -> str:
    """A source label as the table's keys spell it: 1, 1.0 and "1" are all "1"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _phrasebank_records(read: dict, path: Path, shown: str) -> list[dict]:
    """Financial PhraseBank: a zip of `sentence@label` lines in Latin-1."""
    import zipfile

    member = read["member"]
    try:
        with zipfile.ZipFile(path) as archive:
            data = archive.read(member)
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise DatasetError(f"{shown}: not a readable zip file, truncated or corrupt ({e})") from None
    except KeyError:
        raise DatasetError(f"{shown}: the zip has no {member}") from None
    records = []
    for number, line in enumerate(data.decode(read.get("encoding", "latin-1")).splitlines(), 1):
        if line.strip():
            text, at, label = line.rpartition("@")
            if not at:
                raise DatasetError(f"{shown}: {member} line {number} has no '@label'")
            records.append({"text": text.strip(), "label": label.strip()})
    return records


def _read_text(path: Path, shown: str, encoding: str) -> str:
    try:
        return path.read_bytes().decode(encoding)
    except UnicodeDecodeError as e:
        raise DatasetError(f"{shown}: not {encoding} text (byte {e.start})") from None


def _json_records(read: dict, path: Path, shown: str) -> list[dict]:
    """A JSON array of records, JSON lines, or a column-wise object (the shapes a Hub JSON file takes)."""
    text = _read_text(path, shown, "utf-8-sig")
    try:
        data = json.loads(text) if text.lstrip().startswith("[") else _json_lines(text)
    except json.JSONDecodeError as e:
        raise DatasetError(f"{shown}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}) — "
                           "truncated or corrupt") from None
    if isinstance(data, dict):
        data = _columns_to_records(data, shown)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DatasetError(f"{shown}: expected JSON records (objects), one per review")
    return data


def _json_lines(text: str) -> list | dict:
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        try:
            return [json.loads(line) for line in lines]
        except json.JSONDecodeError:
            pass  # not JSON lines: one object over many lines, parsed whole below
    return json.loads(text)


def _columns_to_records(data: dict, shown: str) -> list[dict]:
    """{"col": [v, ...]} or pandas' {"col": {"row": v}} into records."""
    if isinstance(data.get("data"), list):
        return data["data"]
    columns = {k: (list(v.values()) if isinstance(v, dict) else v) for k, v in data.items()}
    lengths = {len(v) for v in columns.values() if isinstance(v, list)}
    if len(lengths) != 1 or not all(isinstance(v, list) for v in columns.values()):
        raise DatasetError(f"{shown}: a JSON object that is neither records nor columns of equal length")
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def _parquet_records(read: dict, path: Path, shown: str) -> list[dict]:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pylist()
    except Exception as e:  # pyarrow's ArrowInvalid and friends: the file is not whole
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DatasetError(f"{shown}: not a readable Parquet file, truncated or corrupt ({first[:200]})") from None


def _csv_records(read: dict, path: Path, shown: str) -> list[dict]:
    csv.field_size_limit(2**31 - 1)  # full-text articles (cancer) are longer than csv's 128 kB default
    reader = csv.DictReader(io.StringIO(_read_text(path, shown, read.get("encoding", "utf-8"))))
    try:
        return list(reader)
    except csv.Error as e:
        raise DatasetError(f"{shown}: malformed CSV at line {reader.line_num} ({e})") from None


def _split(src: Source, parts: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """The documented splits: test held out of `all` when the source has no test split, then valid held
    out of train — each stratified by class with the table's seed, each part in source order."""
    spec = src.split or {}
    seed = int(spec.get("seed", 0))
    out = {s: parts[s] for s in SPLITS if s in parts}
    if "all" in parts:
        out["train"], out["test"] = _hold_out(parts["all"], spec["test"], seed, src.name)
    if "valid" not in out:
        out["train"], out["valid"] = _hold_out(out["train"], spec["valid"], seed, src.name)
    return {s: out[s] for s in SPLITS}


def _hold_out(rows: list[Row], fraction: float, seed: int, name: str) -> tuple[list[Row], list[Row]]:
    """scikit-learn's train_test_split (pinned in requirements.txt), so a split is the same on every machine."""
    from sklearn.model_selection import train_test_split

    try:
        keep, held = train_test_split(list(range(len(rows))), test_size=fraction, random_state=seed,
                                      stratify=[r[1] for r in rows])
    except ValueError as e:
        raise DatasetError(f"{name}: cannot split {len(rows)} rows by class ({e})") from None
    return [rows[i] for i in sorted(keep)], [rows[i] for i in sorted(held)]


def _write_split(path: Path, rows: list[Row]) -> None:
    data = {str(i): {"label": label, "data": {"text": text, **extra}, "weak_labels": []}
            for i, (text, label, extra) in enumerate(rows)}
    atomic_write_text(path, json.dumps(data, ensure_ascii=False) + "\n")


# --- checking -------------------------------------------------------------------------------------------
class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


def parse_strict(path: Path, shown: str) -> object:
    """JSON that must be whole, with no key (row id) given twice — json.loads keeps the last silently."""
    try:
        return json.loads(_read_text(path, shown, "utf-8"), object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as e:
        raise DatasetError(f"{shown}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}) — "
                           "truncated or corrupt; nothing was written") from None
    except _DuplicateKey as e:
        raise DatasetError(f"{shown}: id '{e.args[0]}' appears twice (ids must be unique); "
                           "nothing was written") from None


def check_folder(src: Source, card: TaskCard, folder: Path, shown: dict[str, str]) -> dict[str, int]:
    """Every check a download passes before it is moved into place; returns the rows of each split."""
    _check_label_json(card, folder / "label.json", shown.get("label.json", f"{src.name}/label.json"))
    counts = {}
    for split in SPLITS:
        name = shown.get(f"{split}.json", f"{src.name}/{split}.json")
        rows = parse_strict(folder / f"{split}.json", name)
        if not isinstance(rows, dict) or not rows:
            raise DatasetError(f"{name}: expected a JSON object of rows keyed by id (WRENCH layout)")
        if len(rows) != src.sizes[split]:
            raise DatasetError(f"{name}: {len(rows):,} rows, but the {split} split of {src.name} has "
                               f"{src.sizes[split]:,} ({TABLE}); nothing was written")
        widths = {_check_row(key, row, card, name) for key, row in rows.items()}
        if len(widths) > 1:
            raise DatasetError(f"{name}: rows have different numbers of weak_labels ({sorted(widths)})")
        counts[split] = len(rows)
    return counts


def _check_row(key: str, row: object, card: TaskCard, name: str) -> int:
    """One row of a WRENCH split; returns its number of weak labels."""
    if not isinstance(row, dict) or not isinstance(row.get("data"), dict) \
            or not isinstance(row["data"].get("text"), str):
        raise DatasetError(f"{name}: row '{key}' has no 'data.text' string; nothing was written")
    label, k = row.get("label"), card.n_classes
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < k:
        raise DatasetError(f"{name}: row '{key}' has label {label!r}, not a class of {card.name} "
                           f"(0..{k - 1}: {', '.join(card.classes)}); nothing was written")
    weak = row.get("weak_labels", [])
    if not isinstance(weak, list) or not all(isinstance(v, int) and not isinstance(v, bool) and -1 <= v < k
                                             for v in weak):
        raise DatasetError(f"{name}: row '{key}' has weak_labels that are not votes -1..{k - 1}; nothing was written")
    return len(weak)


def _check_label_json(card: TaskCard, path: Path, shown: str) -> None:
    data = parse_strict(path, shown)
    names = [data.get(str(i)) for i in range(len(data))] if isinstance(data, dict) else None
    if names is None or [str(n).lower() for n in names] != [c.lower() for c in card.classes]:
        raise DatasetError(f"{shown}: classes {names if names is not None else data!r} are not the task card's "
                           f"{card.classes} (prompts/tasks/{card.name}.json); nothing was written")
