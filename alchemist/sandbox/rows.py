"""What a program is called with: a text (a str) per row, or a dict of named scores per row.

Image runs label from concept scores: each row is `{concept: similarity}`. The parent never sends
Python objects: the concept names go once, in the process's JSON config, and each row is only its
numbers, written as decimal floats joined by commas; the worker builds a fresh dict per row from the
two (see worker/__main__.py). So nothing in a row can be anything but a float, and a program that
mutates its `x` changes only that row's copy.
"""

from __future__ import annotations

import json
import re
from typing import Sequence

import numpy as np

from alchemist.core.errors import AlchemistError

MAX_KEYS = 1000
_BAD = re.compile('[\x00-\x1f\x7f-\x9f\ud800-\udfff]')  # controls; surrogates change in JSON
MAX_KEY_CHARS = 200
DECIMALS = 4  # what programs see: readable thresholds, and what a cached column depends on


class ScoreRows:
    """Rows of named scores for programs: an (n_rows, n_keys) float matrix and the names of its columns.

    Behaves as a sequence of dicts (`rows[i]`, `len(rows)`, slicing), which is what programs receive."""

    def __init__(self, scores: np.ndarray, keys: Sequence[str]):
        if isinstance(keys, str):
            raise AlchemistError("score rows need a list of names, not one string")
        keys = [str(k) if isinstance(k, str) else k for k in keys]
        check_keys(keys)
        scores = np.asarray(scores, dtype=np.float64)
        if scores.ndim != 2 or scores.shape[1] != len(keys):
            raise AlchemistError(f"score rows of shape {scores.shape} for {len(keys)} names")
        scores = np.where(np.isfinite(scores), scores, 0.0)  # a program never sees nan or inf
        with np.errstate(over="ignore", invalid="ignore"):
            rounded = np.round(scores, DECIMALS)  # overflows to inf past ~1.8e304
        self.scores = np.where(np.isfinite(rounded), rounded, scores)  # such values have no decimals to round
        self.keys = keys

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ScoreRows(self.scores[index], self.keys)
        return dict(zip(self.keys, self.scores[index].tolist(), strict=True))

    def take(self, rows: Sequence[int]) -> "ScoreRows":
        return ScoreRows(self.scores[np.asarray(rows, dtype=int)], self.keys)

    def lines(self, start: int, end: int) -> list[str]:
        """Rows start..end as the worker reads them: floats in key order, joined by commas."""
        return [",".join(map(repr, row)) for row in self.scores[start:end].tolist()]

    def describe(self) -> dict:
        """The worker config's `input` entry."""
        return {"kind": "scores", "keys": self.keys}

    def fingerprint_lines(self) -> list[str]:
        """What the column cache hashes: the names, then every row as sent."""
        return [json.dumps(self.describe()), *self.lines(0, len(self))]


def check_keys(keys: list[str]) -> None:
    if not keys:
        raise AlchemistError("score rows need at least one name (concept)")
    if len(keys) > MAX_KEYS:
        raise AlchemistError(f"{len(keys)} concepts: at most {MAX_KEYS}")
    for key in keys:
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_CHARS or _BAD.search(key):
            raise AlchemistError(f"concept {ascii(key)[:60]}: each must be a non-empty string of at most "
                                 f"{MAX_KEY_CHARS} printable characters")
    if len(set(keys)) != len(keys):
        raise AlchemistError("concept names repeat: each must be unique")


def input_of(rows) -> dict:
    """The worker config's `input` entry for a sequence of rows (texts unless they are ScoreRows)."""
    return rows.describe() if isinstance(rows, ScoreRows) else {"kind": "text"}


def take(rows, picked: Sequence[int]):
    """Rows `picked` of texts or ScoreRows, of the same kind."""
    return rows.take(picked) if isinstance(rows, ScoreRows) else [rows[i] for i in picked]


def fingerprint_lines(rows) -> Sequence[str]:
    """What the column cache hashes for these rows (texts as they are)."""
    return rows.fingerprint_lines() if isinstance(rows, ScoreRows) else rows


def row_lines(rows, start: int, end: int) -> list[str]:
    """Rows start..end as text lines for a chunk."""
    return rows.lines(start, end) if isinstance(rows, ScoreRows) else list(rows[start:end])


def join_rows(parts: list):
    """The rows of several splits, in order, as one sequence (texts or ScoreRows, never mixed)."""
    kinds = {isinstance(p, ScoreRows) for p in parts}
    if len(kinds) > 1:
        raise AlchemistError("rows of concept scores and texts cannot be joined")
    if parts and kinds == {True}:
        if any(p.keys != parts[0].keys for p in parts):
            raise AlchemistError("splits scored against different concepts cannot be joined")
        return ScoreRows(np.vstack([p.scores for p in parts]), parts[0].keys)
    return [t for p in parts for t in p]
