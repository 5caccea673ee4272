"""The distilled model: features + classifier + class names; labels raw text (or image paths).

Saved so that loading it never runs code from the file — a run's model is meant to be shared. The file
is a skops archive (`distilled_model.skops`; skops.io reads arrays and scikit-learn objects by an
explicit list of types, never by unpickling): the TF-IDF vocabulary, the classifier's weights, the class
names, and a plain description of the features (which embedding or CLIP model, settings only — never
weights). Loading refuses any type outside what skops trusts by default; nothing is trusted beyond that.

Models saved as pickles by earlier versions (`distilled_model.pkl`) are not opened: unpickling can run
any code. The error says how to re-create one (`apply RUN_DIR` re-applies a run for free).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from alchemist.core.errors import AlchemistError
from alchemist.core.files import atomic_write_bytes
from alchemist.distillation.features import ClipFeatures, CombinedFeatures, EmbeddingFeatures, Features, TfidfFeatures

MODEL_FILE = "distilled_model.skops"
LEGACY_FILE = "distilled_model.pkl"  # earlier versions: a pickle, refused
FORMAT = "alchemist-distilled-model"
VERSION = 1


@dataclass
class DistilledModel:
    """Features + classifier, with the task's class names; labels raw text."""

    features: Features
    classifier: object
    classes: list[str]

    def predict_proba(self, texts: Sequence[str], advance: Callable[[int], None] | None = None) -> np.ndarray:
        return self.proba_of(self.features.transform(list(texts), advance))

    def proba_of(self, features) -> np.ndarray:
        """Class probabilities of rows already turned into features (e.g. the run's cached embeddings)."""
        return full_proba(self.classifier, features, len(self.classes))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba(texts).argmax(axis=1)

    def save(self, path: Path) -> None:
        import skops.io as sio

        atomic_write_bytes(Path(path), sio.dumps(_state(self)))


def full_proba(clf, X, n_classes: int) -> np.ndarray:
    probs = np.zeros((X.shape[0], n_classes))
    probs[:, clf.classes_] = clf.predict_proba(X)  # classes the labels never showed get 0
    return probs


def _state(model: DistilledModel) -> dict:
    """What is saved: plain values, arrays and scikit-learn objects (no class of ours)."""
    clf = copy.copy(model.classifier)
    if hasattr(clf, "_optimizer"):  # the MLP's optimizer state: only for further training, and not a trusted type
        clf._optimizer = None
    f = model.features
    tfidf = f.tfidf if isinstance(f, CombinedFeatures) else f if isinstance(f, TfidfFeatures) else None
    text = f.embeddings.encoder if isinstance(f, CombinedFeatures) else getattr(f, "encoder", None)
    encoder = ({"model": f.encoder.model_name} if isinstance(f, ClipFeatures) else
               {"max_tokens": text.max_tokens, "precision": text.precision} if text is not None else None)
    return {"format": FORMAT, "version": VERSION, "classes": list(model.classes), "features": f.name,
            "encoder": encoder, "vectorizer": tfidf.vectorizer if tfidf is not None else None, "classifier": clf}


def _features(state: dict, where: Path) -> Features:
    from alchemist.distillation.embeddings import TextEncoder

    name, enc = state.get("features"), state.get("encoder") or {}
    if name == "tfidf":
        return TfidfFeatures(state["vectorizer"])
    if name == "clip":
        from alchemist.images.clip import ClipEncoder

        return ClipFeatures(ClipEncoder(str(enc.get("model"))))
    if name in ("embeddings", "combined"):
        embeddings = EmbeddingFeatures(TextEncoder(max_tokens=int(enc.get("max_tokens", 96)),
                                                   precision=enc.get("precision")))
        return embeddings if name == "embeddings" else CombinedFeatures(TfidfFeatures(state["vectorizer"]),
                                                                        embeddings)
    raise AlchemistError(f"{where}: a distilled model with unknown features {name!r} (made by a newer version?)")


def load_model(path: Path) -> DistilledModel:
    """Load a model this tool saved; nothing in the file can run code (see the module docstring)."""
    import skops.io as sio

    path = Path(path)
    if path.name.endswith(".pkl") or (not path.exists() and (path.parent / LEGACY_FILE).is_file()):
        raise AlchemistError(f"{path.parent / LEGACY_FILE}: a model saved as a pickle by an earlier version, which "
                             "is not opened (unpickling can run code); re-create it, for free: "
                             "`python main.py apply RUN_DIR` (RUN_DIR: the run folder that holds the programs)")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AlchemistError(f"{path}: no distilled model here") from None
    except OSError as e:
        raise AlchemistError(f"{path}: cannot read it ({e.strerror or e})") from None
    try:
        untrusted = sio.get_untrusted_types(data=data)
        if untrusted:
            raise AlchemistError(f"{path}: holds types that are not trusted ({', '.join(untrusted[:5])}); "
                                 "not a model saved by this tool, so it is not loaded")
        state = sio.loads(data, trusted=[])
    except AlchemistError:
        raise
    except Exception as e:  # noqa: BLE001 - any damage to the archive is one message
        raise AlchemistError(f"{path}: not a readable distilled model ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise AlchemistError(f"{path}: not a distilled model saved by this tool")
    if state.get("version") != VERSION:
        raise AlchemistError(f"{path}: a distilled model of format version {state.get('version')}, which this "
                             f"version does not read (it reads {VERSION})")
    classes = state.get("classes")
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise AlchemistError(f"{path}: the model's class names are damaged")
    return DistilledModel(_features(state, path), state["classifier"], classes)
