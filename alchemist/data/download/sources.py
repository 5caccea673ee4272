"""The sources table of `datasets --download`: where each built-in dataset comes from.

The table is data, `alchemist/bundled/dataset_sources.json` (Hub repo, pinned revision, files, how to
convert, the documented size of every split), read here into `Source` rows; docs/download.md explains it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from alchemist.core.paths import DATASET_SOURCES, command
from alchemist.data.datasets import SPLITS


def human_size(n_bytes: float) -> str:
    """Rounded up, as the progress counts kB, so a file's size and its final count agree."""
    if n_bytes < 1e6:
        return f"{math.ceil(n_bytes / 1e2) / 10:.1f} kB" if n_bytes < 1e4 else f"{math.ceil(n_bytes / 1e3)} kB"
    return f"{math.ceil(n_bytes / 1e5) / 10:.1f} MB"


SOURCES_PATH = DATASET_SOURCES


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


def how_to_get(name: str, sources: dict[str, Source]) -> str:
    """Where a built-in dataset comes from, in a few words (the `main.py datasets` table, the wizard)."""
    src = sources.get(name)
    if src is None:
        return ""
    if src.manual:
        return f"by hand: {src.title} needs a free Kaggle account"
    return f"download: {src.size_text}, Hugging Face {src.repo}"


def download_command(name: str, flag: str = "") -> str:
    return f"{command()} datasets --download {name}{flag}"


def manual_steps(src: Source, flag: str = "") -> str:
    sizes = " / ".join(f"{s} {src.sizes[s]:,}" for s in SPLITS)
    steps = [*src.manual, f"Convert and check it: {download_command(src.name)} --from {src.from_hint}{flag}"]
    return "\n".join([f"{src.name}: cannot be downloaded for you ({src.title} needs an account). By hand:",
                      *(f"  {i}. {step}" for i, step in enumerate(steps, 1)),
                      f"  It is then split as documented in docs/download.md ({sizes} rows) and checked "
                      "before anything is written."])


