"""Built-in datasets on a fresh machine: `python main.py datasets --download NAME [NAME ...] | all`.

Where each dataset comes from is data: `alchemist/dataset_sources.json` (Hub repo, pinned revision, files,
how to convert, the documented size of every split), explained in docs/download.md. A download goes into a
hidden temporary folder beside its target (`DATA/.youtube.download-XXXX/`), is converted to the WRENCH layout
and checked — every file parses, ids are unique, labels are the task card's classes, every split has its
documented size — and only then is the finished folder renamed into place. An interrupted or corrupt
download therefore leaves nothing half-written; every problem is one line naming the file (DatasetError,
exit status 2).

This module is the orchestration (the sources table, the command, fetch -> convert -> check -> install,
provenance); the steps live beside it so each stays small: `hub` (the Hugging Face Hub client),
`source_formats` (each source format to WRENCH rows, the documented splits) and `dataset_checks` (the checks
every download passes before it is moved into place).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import datetime, timezone
from fnmatch import fnmatch
from pathlib import Path
from typing import TextIO

from alchemist.core.errors import DatasetError
from alchemist.core.files import atomic_write_json
from alchemist.core.progress import NullProgress, Progress, make_progress
from alchemist.core.safe_text import clean
from alchemist.data.datasets import SPLITS, presence
from alchemist.data.download.checks import TABLE, check_folder
from alchemist.data.download.formats import Found, build
from alchemist.data.download.hub import Hub
from alchemist.data.download.sources import Source, download_command, load_sources, manual_steps
from alchemist.data.tasks import builtin_card, builtin_names


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
        shown = build(src, card, files, folder)
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
    hub = Hub(src, folder, progress)
    hub.check_name()
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

