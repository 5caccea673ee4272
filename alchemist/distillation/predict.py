"""What `predict` labels: the model of a results (or run) folder, and the texts or images to label, read
from a file, from --text, or from image files and folders. Every problem is a one-line error before any work."""

from __future__ import annotations

import sys
from pathlib import Path

from alchemist.core.errors import AlchemistError
from alchemist.data.images import images_in
from alchemist.data.readers import WORKBOOKS, read_all, read_texts
from alchemist.distillation.model import LEGACY_FILE, MODEL_FILE


def model_path(folder: Path) -> Path:
    """The distilled model in a results folder, or in a run folder's newest results (said on stderr). A
    folder holding only a model saved by an earlier version gives that file: loading it says what to do."""
    for name in (MODEL_FILE, LEGACY_FILE):
        if (folder / name).is_file():
            return folder / name
    if not folder.is_dir():
        return folder / MODEL_FILE
    found = sorted([p for p in [*folder.glob(f"results/*/{MODEL_FILE}"), *folder.glob(f"results/*/{LEGACY_FILE}")]
                    if p.is_file() and not p.is_symlink()],  # a link to /dev/zero or a FIFO is not a model
                   key=lambda p: p.parent.name)
    if found:
        print(f"using the newest results of this run: {found[-1].parent}", file=sys.stderr)
        return found[-1]
    raise AlchemistError(f"{folder}: no distilled model here (it is saved in a results folder, "
                         f"RUN_DIR/results/<time>/{MODEL_FILE}, once a run has trained one)")


def input_texts(path: Path, column: str, id_column: str | None = None,
                encoding: str = "utf-8") -> tuple[list[str], list[str]]:
    """(ids, texts) of a CSV / TSV / JSONL / Parquet / WRENCH JSON file (ids from its id column, else row
    numbers); any other file is plain text, one text per line."""
    name = path.name.removesuffix(".gz").lower()
    if name.endswith((".csv", ".tsv", ".tab", ".jsonl", ".json", ".parquet", ".pq", *WORKBOOKS)):
        return read_texts(path, column, id_column, encoding)
    numbered = [(str(i), line) for i, line in enumerate(read_all(path, encoding).splitlines()) if line.strip()]
    return [i for i, _ in numbered], [line for _, line in numbered]  # ids: line numbers (from 0), blanks skipped


def image_inputs(paths: list[str]) -> tuple[list[str], list[str]]:
    """(ids, paths) of --image arguments: files as given, folders as the images inside them (sorted)."""
    found: list[str] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            inside = [str(f) for f in images_in(path)]  # hidden files (._x.png, checkpoints) left out
            if not inside:
                raise AlchemistError(f"{path}: no images in this folder")
            found += inside
        else:
            found.append(str(path))
    return found, found


def existing_images(paths: list[str], base: Path) -> list[str]:
    """Absolute paths (relative ones from the input file's folder); a missing image is an error before any work."""
    out = []
    for text in paths:
        path = Path(text.strip()).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            raise AlchemistError(f"{path}: image not found" + (" (relative paths in --input are read from "
                                                                "its folder)" if base != Path.cwd() else ""))
        out.append(str(path.resolve()))
    return out
