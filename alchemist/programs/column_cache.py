"""Cache of label-matrix columns, keyed by (program source hash, data fingerprint).

Re-applying a run after editing one program recomputes only that program. The data fingerprint
covers every text, the number of classes, the sandbox limits that can change a result, and the
sandbox's own code. Only deterministic columns are stored: a program that timed out, crashed or was
disabled is always run again.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
from pathlib import Path
from typing import Sequence

import numpy as np

from alchemist.core.files import atomic_write_bytes
from alchemist.sandbox import ProgramRun, SandboxLimits, code_hash
from alchemist.sandbox.rows import fingerprint_lines


def data_fingerprint(texts: Sequence, n_classes: int, limits: SandboxLimits) -> str:
    """Texts, or ScoreRows (image runs: the concept names and every row's scores as sent)."""
    texts = fingerprint_lines(texts)
    h = hashlib.sha256()
    h.update(code_hash().encode())  # a change to the sandbox may change results
    h.update(json.dumps([n_classes, limits.row_timeout_s, limits.memory_mb, limits.max_row_timeouts]).encode())
    h.update(struct.pack(">Q", len(texts)))
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        h.update(struct.pack(">Q", len(data)))
        h.update(data)
    return h.hexdigest()[:32]


def cacheable(run: ProgramRun) -> bool:
    return run.usable and run.crashes == 0 and not run.errors.get("timeout")


class ColumnCache:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _path(self, source: str, fingerprint: str) -> Path:
        return self.folder / fingerprint / f"{hashlib.sha256(source.encode('utf-8', 'replace')).hexdigest()}.npz"

    def get(self, source: str, fingerprint: str, n_rows: int) -> tuple[np.ndarray, ProgramRun] | None:
        try:
            with np.load(self._path(source, fingerprint), allow_pickle=False) as data:
                column = data["column"]
                meta = json.loads(str(data["run"]))
        except (OSError, ValueError, KeyError):
            return None  # missing or damaged: recompute
        if column.dtype != np.int8 or column.shape != (n_rows,):
            return None
        run = ProgramRun()
        run.errors.update({str(k): int(v) for k, v in meta.get("errors", {}).items()})
        run.samples = [str(s) for s in meta.get("samples", [])][:3]
        return column, run

    def put(self, source: str, fingerprint: str, column: np.ndarray, run: ProgramRun) -> None:
        if not cacheable(run):
            return
        buf = io.BytesIO()
        np.savez_compressed(buf, column=np.asarray(column, dtype=np.int8),
                            run=np.array(json.dumps({"errors": dict(run.errors), "samples": run.samples})))
        atomic_write_bytes(self._path(source, fingerprint), buf.getvalue())
