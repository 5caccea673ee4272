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
from alchemist.core.paths import command
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
               {"max_tokens": text.max_tokens, "precision": text.precision, "model": text.model}
               if text is not None else None)
    return {"format": FORMAT, "version": VERSION, "classes": list(model.classes), "features": f.name,
            "encoder": encoder, "vectorizer": tfidf.vectorizer if tfidf is not None else None, "classifier": clf}


MAX_FILE_BYTES = 512 * 2**20  # a model this tool saves is a few MB; more is refused before it is read
MAX_UNPACKED_BYTES = 2 * 2**30  # what the archive's members may hold once unpacked (a zip bomb is refused)
PRECISIONS = ("fp32", "bf16", "fp16")


def _bad(where: Path, what: str) -> AlchemistError:
    return AlchemistError(f"{where}: not a distilled model this tool saved ({what}); it is not loaded")


def _read(path: Path) -> bytes:
    """The file's bytes: a regular file (after links), of a sane size, whose archive unpacks to a sane size."""
    import io
    import stat
    import zipfile

    try:
        info = path.stat()
    except FileNotFoundError:
        raise AlchemistError(f"{path}: no distilled model here") from None
    except OSError as e:
        raise AlchemistError(f"{path}: cannot read it ({e.strerror or e})") from None
    if not stat.S_ISREG(info.st_mode):
        raise _bad(path, "not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise _bad(path, f"{info.st_size:,} bytes, more than any model it saves")
    try:
        data = path.read_bytes()
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (OSError, zipfile.BadZipFile, ValueError) as e:
        raise AlchemistError(f"{path}: not a readable distilled model ({type(e).__name__}: {e})") from None
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise _bad(path, "its archive unpacks to more than any model it saves")
    return data


def _vectorizer(value: object, where: Path):
    """A TF-IDF vectorizer as this tool fits them: it reads the text it is given (never files), with the
    built-in analyzers only."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if type(value) is not TfidfVectorizer or value.input != "content" or value.analyzer not in (
            "word", "char", "char_wb") or value.preprocessor is not None or value.tokenizer is not None \
            or not hasattr(value, "vocabulary_") or not hasattr(value, "idf_"):
        raise _bad(where, "its text features are not a fitted TF-IDF vectorizer of the kind this tool fits")
    return value


def _classifier(value: object, n_classes: int, where: Path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    if type(value) not in (LogisticRegression, MLPClassifier) or not hasattr(value, "classes_"):
        raise _bad(where, "its classifier is not a fitted one of the kinds this tool trains")
    known = np.asarray(value.classes_)
    if known.ndim != 1 or not len(known) or known.dtype.kind not in "iu" or known.min() < 0 or known.max() >= n_classes:
        raise _bad(where, "its classifier's classes do not match its class names")
    return value


def _features(state: dict, where: Path) -> Features:
    from alchemist.distillation.embeddings import TextEncoder

    name, enc = state.get("features"), state.get("encoder")
    if name == "tfidf":
        return TfidfFeatures(_vectorizer(state.get("vectorizer"), where))
    if not isinstance(enc, dict):
        raise _bad(where, "no description of its embedding model")
    if name == "clip":
        from alchemist.images.clip import ClipEncoder

        if not isinstance(enc.get("model"), str) or not enc["model"]:
            raise _bad(where, "no CLIP model named")
        return ClipFeatures(ClipEncoder(enc["model"]))
    if name in ("embeddings", "combined"):
        tokens, precision, model = enc.get("max_tokens"), enc.get("precision"), enc.get("model")
        if type(tokens) is not int or not 8 <= tokens <= 512 or precision not in PRECISIONS:
            raise _bad(where, "its embedding settings are out of range")
        if model is not None and not (isinstance(model, str) and model and len(model) < 1000):
            raise _bad(where, "its embedding model is not named")
        # on this machine's device: a model made on a GPU predicts on a CPU (bf16/fp16 weights run as fp32 there)
        from alchemist.distillation.embeddings import precision_for, resolve_device

        device = resolve_device("auto")
        same = precision == "fp32" or precision == precision_for(device)
        embeddings = EmbeddingFeatures(TextEncoder(max_tokens=tokens, precision=precision if same else "fp32",
                                                   model=model))
        if name == "embeddings":
            return embeddings
        return CombinedFeatures(TfidfFeatures(_vectorizer(state.get("vectorizer"), where)), embeddings)
    raise AlchemistError(f"{where}: a distilled model with unknown features {name!r} (made by a newer version?)")


def load_model(path: Path) -> DistilledModel:
    """Load a model this tool saved; nothing in the file can run code, read files or reach the terminal
    raw (see the module docstring): a file that is not such a model is one line, never a traceback."""
    import skops.io as sio

    from alchemist.core.safe_text import clean

    path = Path(path)
    if path.name.endswith(".pkl") or (not path.exists() and (path.parent / LEGACY_FILE).is_file()):
        raise AlchemistError(f"{path.parent / LEGACY_FILE}: a model saved as a pickle by an earlier version, which "
                             "is not opened (unpickling can run code); re-create it, for free: "
                             f"`{command()} apply RUN_DIR` (RUN_DIR: the run folder that holds the programs)")
    data = _read(path)
    try:
        untrusted = sio.get_untrusted_types(data=data)
        if untrusted:
            raise AlchemistError(f"{path}: holds types that are not trusted ({', '.join(untrusted[:5])}); "
                                 "not a model saved by this tool, so it is not loaded")
        state = sio.loads(data, trusted=[])
    except AlchemistError:
        raise
    except Exception as e:  # noqa: BLE001 - any damage to the archive is one message
        raise AlchemistError(f"{path}: not a readable distilled model ({type(e).__name__}: {clean(e, 200)})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise AlchemistError(f"{path}: not a distilled model saved by this tool")
    if state.get("version") != VERSION:
        raise AlchemistError(f"{path}: a distilled model of format version {clean(state.get('version'), 20)}, which "
                             f"this version does not read (it reads {VERSION})")
    classes = state.get("classes")
    if not isinstance(classes, list) or len(classes) < 2 or not all(isinstance(c, str) and c for c in classes):
        raise _bad(path, "its class names are damaged")
    classes = [clean(c, 100) for c in classes]  # printed by predict: never raw control characters
    try:
        return DistilledModel(_features(state, path), _classifier(state.get("classifier"), len(classes), path),
                              classes)
    except AlchemistError:
        raise
    except Exception as e:  # noqa: BLE001 - a damaged part of a trusted object: one message
        raise _bad(path, f"{type(e).__name__}: {clean(e, 200)}") from None
