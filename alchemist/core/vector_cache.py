"""A disk cache of float vectors in blocks of rows, keyed by what the rows are and how they were made.

Shared by the text embeddings and the CLIP image embeddings: a dataset is embedded once, an
interrupted run resumes from the last block written, and a changed row re-embeds only its block.
Stored as float16 (half the disk; a classifier does not notice); a damaged file is recomputed.
"""

from __future__ import annotations

import hashlib
import io
import struct
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from alchemist.core.files import atomic_write_bytes


class VectorCache:
    def __init__(self, folder: Path | None, settings: str):
        self.folder = Path(folder) if folder is not None else None
        self.settings = settings  # what else decides a vector: model, its settings, a format version

    def key(self, items: Iterable[bytes]) -> str:
        h = hashlib.sha256(self.settings.encode())
        for data in items:
            h.update(struct.pack(">Q", len(data)))
            h.update(data)
        return h.hexdigest()[:40]

    def path(self, key: str) -> Path | None:
        return self.folder / key[:2] / f"{key}.npy" if self.folder is not None else None

    def has(self, key: str) -> bool:
        path = self.path(key)
        return path is not None and path.is_file()

    def read(self, key: str, rows: int, dim: int | None = None) -> np.ndarray | None:
        path = self.path(key)
        if path is None or not path.is_file():
            return None
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        if data.ndim != 2 or data.shape[0] != rows or (dim is not None and data.shape[1] != dim):
            return None
        return data.astype(np.float32)

    def write(self, key: str, data: np.ndarray) -> None:
        path = self.path(key)
        if path is None:
            return
        buf = io.BytesIO()
        np.save(buf, np.asarray(data).astype(np.float16), allow_pickle=False)
        try:
            atomic_write_bytes(path, buf.getvalue())
        except OSError:  # a full or read-only cache costs time next run, never this run
            pass

    def blocks(self, rows: Sequence, size: int, key_of: Callable[[Sequence], str],
               compute: Callable[[Sequence], np.ndarray], advance: Callable[[int], None] | None = None,
               dim: int | None = None) -> list[np.ndarray]:
        """The vectors of `rows`, block by block: read from the cache, or computed and stored."""
        out = []
        for start in range(0, len(rows), size):
            block = rows[start:start + size]
            key = key_of(block)
            vectors = self.read(key, len(block), dim)
            if vectors is None:
                vectors = compute(block)
                self.write(key, vectors)
            elif advance is not None:
                advance(len(block))
            out.append(vectors)
        return out
