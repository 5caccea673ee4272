"""CLIP, run locally: image embeddings, concept embeddings, and each image's similarity to each concept.

Images are read with Pillow, embedded in batches and cached in blocks keyed by the model and the
images' bytes (vector_cache.py), so a dataset is embedded once per model, whatever its concepts:
changing the concepts only re-embeds the concepts (a few words each). A concept is embedded as the
sentence "a photo of <concept>." (CLIP's usual prompt; a concept already phrased as a photo is kept).
The model is any CLIP checkpoint in the `transformers` format: a Hub name, downloaded once into the
Hugging Face cache, or a local folder, which works offline.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from alchemist.errors import AlchemistError
from alchemist.vector_cache import VectorCache

DEFAULT_MODEL = "openai/clip-vit-base-patch32"
BATCH = 32
BLOCK = 1024  # images per cache file
CACHE_VERSION = 1  # bump when the way an image becomes a vector changes


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


def _load(name: str) -> tuple:
    if name in _LOADED:
        return _LOADED[name]
    _quiet()
    local = Path(name).expanduser()
    try:
        import torch
        from transformers import CLIPModel, CLIPProcessor
        from transformers.utils import logging as hf_logging

        from alchemist.embeddings import _threads

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()  # e.g. "falling back to the Pillow image processor" (no torchvision)
        if "OMP_NUM_THREADS" not in os.environ:
            torch.set_num_threads(_threads())
        where = str(local.resolve()) if local.is_dir() else name
        model = CLIPModel.from_pretrained(where).to(torch.float32).eval()
        processor = CLIPProcessor.from_pretrained(where)
    except Exception as e:  # noqa: BLE001 - any failure to load is one message
        hint = ("" if local.is_dir() else
                "; a real run downloads the model once from the Hugging Face Hub (about 600 MB for the default) "
                "— without network, get it elsewhere with `hf download NAME --local-dir DIR` and pass "
                "--clip-model DIR")
        raise ClipError(f"the CLIP model '{name}' could not load ({type(e).__name__}: {str(e)[:200]}){hint}") from None
    _LOADED[name] = (model, processor)
    return model, processor


def concept_sentence(concept: str) -> str:
    text = concept.strip()
    return text if text.lower().startswith(("a photo", "an image", "a picture")) else f"a photo of {text}."


def _features(output) -> "object":
    """transformers 5 returns an output object (projected features in pooler_output); 4 a tensor."""
    return getattr(output, "pooler_output", output)


class ClipEncoder:
    """L2-normalised CLIP embeddings of images (cached) and concepts; their cosine similarities."""

    def __init__(self, model: str = DEFAULT_MODEL, cache_dir: Path | None = None):
        local = Path(model).expanduser()
        self.model_name = str(local.resolve()) if local.is_dir() else model  # a saved model finds it from anywhere
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None

    @property
    def description(self) -> str:
        return f"CLIP {self.model_name}"

    def __getstate__(self) -> dict:  # pickled with a distilled model: the model's name, never its weights
        return {"model_name": self.model_name, "cache_dir": None}

    def _parts(self) -> tuple:
        return _load(self.model_name)

    def _cache(self) -> VectorCache:
        identity = model_identity(self.model_name)
        if identity is None:  # a Hub model not downloaded yet: fetch it, then it is known
            self._parts()
            identity = model_identity(self.model_name) or f"hub:{self.model_name}"
        return VectorCache(self.cache_dir, f"clip|{identity}|v{CACHE_VERSION}")

    # --- images -------------------------------------------------------------------------------------
    def images(self, paths: Sequence[str], advance: Callable[[int], None] | None = None) -> np.ndarray:
        """One normalised embedding per image; blocks already cached are read, the rest computed."""
        paths = [str(p) for p in paths]
        cache = self._cache()
        blocks = cache.blocks(paths, BLOCK, lambda block: cache.key(_file_digests(block)),
                              lambda block: self._embed_images(block, advance), advance)
        return np.vstack(blocks) if blocks else np.zeros((0, 0), dtype=np.float32)

    def missing(self, paths: Sequence[str]) -> int:
        """How many images are not in the cache yet (what a progress bar counts)."""
        identity = model_identity(self.model_name)
        if identity is None:
            return len(paths)
        cache = VectorCache(self.cache_dir, f"clip|{identity}|v{CACHE_VERSION}")
        paths = [str(p) for p in paths]
        blocks = [paths[s:s + BLOCK] for s in range(0, len(paths), BLOCK)]
        return sum(len(b) for b in blocks if not cache.has(cache.key(_file_digests(b))))

    def _embed_images(self, paths: list[str], advance) -> np.ndarray:
        import torch

        model, processor = self._parts()
        out = []
        with torch.inference_mode():
            for lo in range(0, len(paths), BATCH):
                batch = [_open_image(p) for p in paths[lo:lo + BATCH]]
                inputs = processor(images=batch, return_tensors="pt")
                vectors = _features(model.get_image_features(pixel_values=inputs["pixel_values"]))
                out.append(torch.nn.functional.normalize(vectors.float(), dim=1).numpy())
                if advance is not None:
                    advance(len(batch))
        return np.vstack(out).astype(np.float32)

    # --- concepts -----------------------------------------------------------------------------------
    def concepts(self, concepts: Sequence[str]) -> np.ndarray:
        import torch

        model, processor = self._parts()
        with torch.inference_mode():
            inputs = processor(text=[concept_sentence(c) for c in concepts], return_tensors="pt", padding=True,
                               truncation=True)
            vectors = _features(model.get_text_features(input_ids=inputs["input_ids"],
                                                        attention_mask=inputs["attention_mask"]))
            return torch.nn.functional.normalize(vectors.float(), dim=1).numpy().astype(np.float32)

    def similarities(self, image_vectors: np.ndarray, concepts: Sequence[str]) -> np.ndarray:
        """(n_images, n_concepts) cosine similarities."""
        if not len(image_vectors):
            return np.zeros((0, len(concepts)), dtype=np.float32)
        return image_vectors @ self.concepts(concepts).T


def _file_digests(paths: list[str]) -> list[bytes]:
    """The cache keys on the images' bytes, not their names: a moved dataset stays cached."""
    out = []
    for path in paths:
        h = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        except OSError as e:
            raise ClipError(f"{path}: cannot read the image ({e.strerror or e})") from None
        out.append(h.digest())
    return out


def _open_image(path: str):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError) as e:
        raise ClipError(f"{path}: not a readable image ({type(e).__name__}: {str(e)[:120]}); fix or remove it "
                        "from the dataset") from None
