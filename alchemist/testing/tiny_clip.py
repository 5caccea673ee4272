"""A tiny, randomly initialised CLIP saved in the transformers format, and small generated images.

Its scores mean nothing; it lets tests load, cache and run the image path offline in seconds.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

CLASSES = {"landbird": (40, 160, 40), "waterbird": (40, 60, 200)}
SIZES = {"train": 24, "valid": 12, "test": 12}


def _byte_chars() -> list[str]:
    """GPT-2's byte-to-character table (what a CLIP vocabulary is written in)."""
    kept = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    codes, extra = kept[:], 0
    for b in range(256):
        if b not in kept:
            kept.append(b)
            codes.append(256 + extra)
            extra += 1
    return [chr(c) for c in codes]


def build_tiny_clip(out: Path, full_size: bool = False) -> Path:
    """Random weights; `full_size` gives ViT-B/32's shapes (for speed measurements: bench/bench_clip.py)."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor, CLIPTokenizer
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for suffix in ("", "</w>"):
        for ch in _byte_chars():
            vocab[ch + suffix] = len(vocab)
    torch.manual_seed(0)
    ids = dict(vocab_size=len(vocab), max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1)
    if full_size:
        config, side = CLIPConfig(text_config=ids, vision_config=dict(image_size=224, patch_size=32)), 224
    else:
        config, side = CLIPConfig(
            text_config=dict(ids, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2),
            vision_config=dict(image_size=32, patch_size=8, hidden_size=32, intermediate_size=64,
                               num_hidden_layers=2, num_attention_heads=2),
            projection_dim=16), 32
    CLIPModel(config).save_pretrained(out)
    CLIPProcessor(image_processor=CLIPImageProcessorPil(size={"shortest_edge": side},
                                                        crop_size={"height": side, "width": side}),
                  tokenizer=CLIPTokenizer(vocab=vocab, merges=[])).save_pretrained(out)
    return out


def make_images(root: Path, sizes: dict[str, int] = SIZES, seed: int = 0) -> Path:
    """root/train|valid|test/<class>/<n>.png (noisy solid colours), and root/metadata.csv in the
    Waterbirds style: img_filename, y, place (background), split 0/1/2. One image in five of each class
    has the 'other' background."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    rows = []
    for split, n in sizes.items():
        for y, (name, rgb) in enumerate(CLASSES.items()):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n // 2):
                pixels = np.clip(np.array(rgb) + rng.normal(0, 30, (24, 24, 3)), 0, 255).astype("uint8")
                path = folder / f"{i}.png"
                Image.fromarray(pixels).save(path)
                usual = "water" if name == "waterbird" else "land"
                place = usual if i % 5 else ("land" if usual == "water" else "water")
                rows.append({"img_filename": str(path.relative_to(root)), "y": y, "place": place,
                             "split": list(SIZES).index(split)})
    with open(root / "metadata.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return root
