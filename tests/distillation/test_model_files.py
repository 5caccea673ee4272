"""A shared model file is hostile input: loading it never runs code, reads files, writes to the terminal raw,
eats memory or ends in a traceback (the attack review's cases)."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression

from alchemist.core.errors import AlchemistError
from alchemist.distillation.model import MODEL_FILE, load_model
from alchemist.distillation.predict import model_path

TEXTS = ["good song", "great tune", "click here", "free money", "nice voice", "win cash now"] * 5
Y = np.array([0, 0, 1, 1, 0, 1] * 5)


def state(**change) -> dict:
    vec = TfidfVectorizer().fit(TEXTS)
    clf = LogisticRegression().fit(vec.transform(TEXTS), Y)
    base = {"format": "alchemist-distilled-model", "version": 1, "classes": ["ham", "spam"], "features": "tfidf",
            "encoder": None, "vectorizer": vec, "classifier": clf}
    return {**base, **change}


def save(tmp_path, value) -> object:
    path = tmp_path / MODEL_FILE
    path.write_bytes(sio.dumps(value))
    return path


def test_an_honest_model_loads_and_predicts(tmp_path):
    model = load_model(save(tmp_path, state()))
    assert model.classes == ["ham", "spam"] and list(model.predict(["free money", "good song"])) == [1, 0]


def test_a_vectorizer_that_reads_files_is_refused(tmp_path):
    (tmp_path / "a.txt").write_text("good song click here")
    reader = TfidfVectorizer(input="filename").fit([str(tmp_path / "a.txt")])  # reads the files its texts name
    with pytest.raises(AlchemistError, match="TF-IDF vectorizer of the kind"):
        load_model(save(tmp_path, state(vectorizer=reader)))


@pytest.mark.parametrize("change, message", [
    ({"classes": ["ham", "\x1b]52;c;ZXZpbA==\x07\x1b[2J"]}, None),  # cleaned, not refused
    ({"encoder": [1], "features": "embeddings"}, "no description of its embedding model"),
    ({"encoder": {"max_tokens": "x", "precision": "fp32"}, "features": "embeddings"}, "out of range"),
    ({"encoder": {"max_tokens": 96, "precision": "evil"}, "features": "embeddings"}, "out of range"),
    ({"vectorizer": None}, "TF-IDF vectorizer"),
    ({"classifier": None}, "classifier is not"),
    ({"classifier": LinearRegression().fit([[0.0], [1.0]], [0, 1])}, "classifier is not"),
    ({"classes": []}, "class names are damaged"),
    ({"classes": ["only"]}, "class names are damaged"),
])
def test_damaged_or_hostile_parts_are_one_line(tmp_path, change, message):
    path = save(tmp_path, {k: v for k, v in state(**change).items()})
    if message is None:
        model = load_model(path)
        assert all("\x1b" not in c and "\x07" not in c for c in model.classes)
        return
    with pytest.raises(AlchemistError, match=message) as e:
        load_model(path)
    assert "\n" not in str(e.value)


def test_missing_parts_and_a_zip_bomb_are_refused_before_they_cost_anything(tmp_path):
    value = state()
    del value["classifier"]
    with pytest.raises(AlchemistError, match="classifier is not"):
        load_model(save(tmp_path, value))
    bomb = tmp_path / "bomb" / MODEL_FILE
    bomb.parent.mkdir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("schema.json", "{}")
        with z.open("big.npy", "w", force_zip64=True) as member:
            chunk = b"\0" * 2**24
            for _ in range(160):  # 2.5 GB unpacked, a few MB packed
                member.write(chunk)
    bomb.write_bytes(buffer.getvalue())
    with pytest.raises(AlchemistError, match="unpacks to more"):
        load_model(bomb)


def test_a_link_to_a_device_or_a_fifo_is_never_read(tmp_path):
    run = tmp_path / "run"
    (run / "results" / "r1").mkdir(parents=True)
    (run / "results" / "r1" / MODEL_FILE).symlink_to("/dev/zero")
    with pytest.raises(AlchemistError, match="no distilled model here"):
        model_path(run)  # the newest-results search skips what is not a regular file
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(AlchemistError, match="not a regular file"):
        load_model(fifo)
