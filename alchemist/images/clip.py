"""CLIP, run locally: image embeddings, concept embeddings, and each image's similarity to each concept.

Images are read with Pillow, embedded in batches and cached one by one, keyed by the model and the
image's bytes (vector_cache.py): a dataset is embedded once per model, whatever its concepts (changing
them only re-embeds the concepts, a few words each), and an added, renamed or moved image costs only
itself. A concept is embedded as the
sentence "a photo of <concept>." (CLIP's usual prompt; a concept already phrased as a photo is kept).
The model is any CLIP checkpoint in the `transformers` format: a Hub name, downloaded once into the
Hugging Face cache, or a local folder, which works offline.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from alchemist.core.errors import AlchemistError
from alchemist.core.vector_cache import VectorCache

DEFAULT_MODEL = "openai/clip-vit-base-patch32"
BATCH = 32
CACHE_VERSION = 2  # bump when the way an image becomes a vector changes


class ClipError(AlchemistError):
    """The CLIP model cannot load, or an image cannot be read."""


_LOADED: dict[str, tuple] = {}  # model name or folder -> (model, processor), once per process


def _quiet() -> None:
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def model_identity(name: str) -> str | None:
    """What the cache keys on, known without loading: a local folder's files (names, sizes, times), or
    the Hub snapshot already downloaded. None: the model must be fetched first."""
    local = Path(name).expanduser()
    if local.is_dir():
        h = hashlib.sha256()
        for f in sorted(p for p in local.iterdir() if p.is_file()):
            st = f.stat()
            h.update(f"{f.name}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        return f"dir:{h.hexdigest()[:20]}"
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(name, "config.json")
    except Exception:  # noqa: BLE001 - not a valid repo id, or no cache: not known yet
        return None
    return f"hub:{name}@{Path(found).parent.name}" if isinstance(found, str) else None


def _looks_like_path(name: str) -> bool:
    """A Hub name is `owner/model`; anything else shaped like a path was meant as a folder."""
    return name.startswith((".", "~", "/")) or name.count("/") > 1 or "\\" in name


def _load(name: str, device: str = "cpu") -> tuple:
    if (name, device) in _LOADED:
        return _LOADED[(name, device)]
    _quiet()
    local = Path(name).expanduser()
    if not local.is_dir() and _looks_like_path(name):
        raise ClipError(f"--clip-model {name}: no such folder (a local CLIP model is a folder of config.json, "
                        "weights and processor files)")
    try:
        import torch
        from transformers import CLIPModel, CLIPProcessor
        from transformers.utils import logging as hf_logging

        from alchemist.distillation.embeddings import _threads

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()  # e.g. "falling back to the Pillow image processor" (no torchvision)
        if "OMP_NUM_THREADS" not in os.environ:
            torch.set_num_threads(_threads())
        where = str(local.resolve()) if local.is_dir() else name
        model, info = CLIPModel.from_pretrained(where, output_loading_info=True)
        model = model.to(device=device, dtype=torch.float32).eval()
        processor = CLIPProcessor.from_pretrained(where)
    except Exception as e:  # noqa: BLE001 - any failure to load is one message
        hint = ("" if local.is_dir() else
                "; a real run downloads the model once from the Hugging Face Hub (about 600 MB for the default) "
                "— without network, get it elsewhere with `hf download NAME --local-dir DIR` and pass "
                "--clip-model DIR")
        raise ClipError(f"the CLIP model '{name}' could not load ({type(e).__name__}: {str(e)[:200]}){hint}") from None
    kind = getattr(model.config, "model_type", "")
    if kind != "clip" or info.get("missing_keys"):  # another model's weights would give random scores
        raise ClipError(f"'{name}' is not a CLIP model ({kind or 'unknown type'}"
                        + (f"; {len(info['missing_keys'])} of CLIP's weights are missing" if info.get("missing_keys")
                           else "") + "): give a CLIP checkpoint in the transformers format")
    _LOADED[(name, device)] = (model, processor)
    return model, processor


def concept_sentence(concept: str) -> str:
    text = concept.strip()
    return text if text.lower().startswith(("a photo", "an image", "a picture")) else f"a photo of {text}."


def _features(output) -> "object":
    """transformers 5 returns an output object (projected features in pooler_output); 4 a tensor."""
    return getattr(output, "pooler_output", output)


class ClipEncoder:
    """L2-normalised CLIP embeddings of images (cached) and concepts; their cosine similarities."""

    def __init__(self, model: str = DEFAULT_MODEL, cache_dir: Path | None = None, device: str = "auto"):
        local = Path(model).expanduser()
        self.model_name = str(local.resolve()) if local.is_dir() else model  # a saved model finds it from anywhere
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.requested_device = device

    @functools.cached_property
    def device(self) -> str:
        from alchemist.distillation.embeddings import resolve_device

        return resolve_device(self.requested_device)  # the same choice as the text encoder's

    @property
    def description(self) -> str:
        return f"CLIP {self.model_name} (fp32, {self.device})"

    def __getstate__(self) -> dict:  # pickled with a distilled model: the model's name, never its weights
        return {"model_name": self.model_name, "cache_dir": None, "requested_device": "auto"}

    def _parts(self) -> tuple:
        return _load(self.model_name, self.device)

    def _cache(self, fetch: bool = True) -> VectorCache | None:
        """The cache of this model's vectors; a Hub model not downloaded yet is fetched first (None when
        `fetch` is off: nothing of it can be cached yet)."""
        identity = model_identity(self.model_name)
        if identity is None:
            if not fetch:
                return None
            self._parts()
            identity = model_identity(self.model_name) or f"hub:{self.model_name}"
        return VectorCache(self.cache_dir, f"clip|{identity}|v{CACHE_VERSION}")

    # --- images -------------------------------------------------------------------------------------
    def images(self, paths: Sequence[str], advance: Callable[[int], None] | None = None) -> np.ndarray:
        """One normalised embedding per image: those in the cache are read, the rest computed in batches
        (`advance` counts the computed ones) and stored one by one."""
        paths = [str(p) for p in paths]
        cache = self._cache()
        keys = [cache.key([digest]) for digest in _file_digests(paths)]
        found = [cache.read(key, 1) for key in keys]
        todo = [i for i, vector in enumerate(found) if vector is None]
        for lo in range(0, len(todo), BATCH * 8):  # stored as they are made: an interrupted run resumes
            rows = todo[lo:lo + BATCH * 8]
            vectors = self._embed_images([paths[i] for i in rows], advance)
            for i, vector in zip(rows, vectors, strict=True):
                found[i] = vector[None, :]
                cache.write(keys[i], found[i])
        return np.vstack(found).astype(np.float32) if found else np.zeros((0, 0), dtype=np.float32)

    def missing(self, paths: Sequence[str]) -> int:
        """How many images are not in the cache yet (what a progress bar counts)."""
        cache = self._cache(fetch=False)
        if cache is None:
            return len(paths)
        return sum(not cache.has(cache.key([d])) for d in _file_digests([str(p) for p in paths]))

    def _embed_images(self, paths: list[str], advance) -> np.ndarray:
        import torch

        model, processor = self._parts()
        out = []
        with torch.inference_mode():
            for lo in range(0, len(paths), BATCH):
                batch = [_open_image(p) for p in paths[lo:lo + BATCH]]
                try:
                    inputs = processor(images=batch, return_tensors="pt")
                    vectors = _features(model.get_image_features(pixel_values=inputs["pixel_values"].to(self.device)))
                except Exception as e:  # noqa: BLE001 - e.g. a processor that does not fit the model
                    raise ClipError(f"the CLIP model '{self.model_name}' failed on images "
                                    f"({type(e).__name__}: {str(e)[:200]})") from None
                out.append(torch.nn.functional.normalize(vectors.float(), dim=1).cpu().numpy())
                if advance is not None:
                    advance(len(batch))
        return np.vstack(out).astype(np.float32)

    # --- concepts -----------------------------------------------------------------------------------
    def concepts(self, concepts: Sequence[str]) -> np.ndarray:
        import torch

        model, processor = self._parts()
        try:
            with torch.inference_mode():
                inputs = processor(text=[concept_sentence(c) for c in concepts], return_tensors="pt", padding=True,
                                   truncation=True)
                vectors = _features(model.get_text_features(input_ids=inputs["input_ids"].to(self.device),
                                                            attention_mask=inputs["attention_mask"].to(self.device)))
        except Exception as e:  # noqa: BLE001 - a damaged tokenizer, a model without a text tower
            raise ClipError(f"the CLIP model '{self.model_name}' failed on the concepts "
                            f"({type(e).__name__}: {str(e)[:200]})") from None
        return torch.nn.functional.normalize(vectors.float(), dim=1).cpu().numpy().astype(np.float32)

    def similarities(self, image_vectors: np.ndarray, concepts: Sequence[str]) -> np.ndarray:
        """(n_images, n_concepts) cosine similarities."""
        if not len(image_vectors):
            return np.zeros((0, len(concepts)), dtype=np.float32)
        return image_vectors @ self.concepts(concepts).T


_DIGESTS: dict[tuple, bytes] = {}  # (path, size, mtime) -> digest: each file is read once per process


def _file_digests(paths: list[str]) -> list[bytes]:
    """The cache keys on the images' bytes, not their names: a moved dataset stays cached."""
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            seen = (path, st.st_size, st.st_mtime_ns)
            if seen not in _DIGESTS:
                h = hashlib.sha256()
                with open(path, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
                _DIGESTS[seen] = h.digest()
        except OSError as e:
            raise ClipError(f"{path}: cannot read the image ({e.strerror or e})") from None
        out.append(_DIGESTS[seen])
    return out


def _open_image(path: str):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError) as e:
        raise ClipError(f"{path}: not a readable image ({type(e).__name__}: {str(e)[:120]}); fix or remove "
                        "it") from None
