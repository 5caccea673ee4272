"""Hugging Face `datasets`: a DatasetDict, one Dataset per split, saved with save_to_disk (and pushed to
the Hub with --push). `label` and `gold` are ClassLabel columns with the class names (-1: none)."""

from __future__ import annotations

import math
from pathlib import Path

from alchemist.core.errors import AlchemistError


def dataset_dict(rows_by_split: dict[str, list[dict]], classes: list[str]):
    try:
        from datasets import ClassLabel, Dataset, DatasetDict, Features, Value
    except ImportError:
        raise AlchemistError("the Hugging Face export needs the `datasets` package: pip install "
                             "'alchemist-labeling[export]'") from None
    features = Features({"id": Value("string"), "text": Value("string"), "label": ClassLabel(names=classes),
                         "confidence": Value("float32"), "covered": Value("bool"), "gold": ClassLabel(names=classes),
                         "label_source": Value("string"), "split": Value("string")})
    out = {}
    for split, rows in rows_by_split.items():
        columns = {name: [] for name in features}
        for r in rows:
            columns["id"].append(r["id"])
            columns["text"].append(r["text"])
            columns["label"].append(int(r["label"]))
            columns["confidence"].append(None if math.isnan(r["confidence"]) else float(r["confidence"]))
            columns["covered"].append(bool(r["covered"]))
            columns["gold"].append(int(r["gold"]) if r["gold"] != "" else -1)
            columns["label_source"].append(r["label_source"] or "none")
            columns["split"].append(split)
        out[split] = Dataset.from_dict(columns, features=features)
    return DatasetDict(out)


def save(data, folder: Path) -> None:
    from datasets.utils.logging import disable_progress_bar

    disable_progress_bar()  # a few seconds at most; its bars would garble the command's own lines
    data.save_to_disk(str(folder))


def push(data, repo: str) -> str:
    """Push to the Hub with the user's token (HF_TOKEN or `huggingface-cli login`); a one-line error if refused."""
    try:
        data.push_to_hub(repo)
    except Exception as e:  # noqa: BLE001 - the hub client raises many kinds; the user needs the one line
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise AlchemistError(f"pushing to the Hugging Face Hub ({repo}) failed: {first} "
                             "(is HF_TOKEN set, or have you run `huggingface-cli login`?)") from None
    return f"https://huggingface.co/datasets/{repo}"
