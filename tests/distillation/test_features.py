"""Distillation features: MiniLM embeddings (cached, head+tail truncation), TF-IDF, and the choice on valid."""

from __future__ import annotations

import csv
import io
import json
import pickle

import numpy as np
import pytest

from alchemist.core.errors import AlchemistError
from alchemist.distillation import embeddings
from alchemist.distillation.embeddings import TextEncoder
from alchemist.distillation.features import TfidfFeatures
from alchemist.distillation.fit import distill, prepare, selection
from alchemist.distillation.model import LEGACY_FILE, MODEL_FILE, load_model

NOUNS = ["movie", "meal", "service", "hotel", "trip", "book", "concert", "room", "staff", "show"]
TRAIN_WORDS = (["great", "wonderful", "excellent", "fantastic", "superb"],
               ["terrible", "awful", "horrible", "dreadful", "bad"])
HELD_OUT_WORDS = (["amazing", "brilliant", "outstanding", "delightful", "lovely"],  # words train never shows
                  ["disgusting", "atrocious", "miserable", "abysmal", "poor"])


def sentiment(words, n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    texts = [f"The {NOUNS[rng.integers(10)]} was {words[1 - y][rng.integers(5)]}." for y in labels]
    return texts, labels


def test_encoder_matches_sentence_transformers_and_normalises():
    from alchemist.generate.rag import _local_model

    texts = ["A short sentence.", "Another, rather different one about football scores."]
    ours = TextEncoder(precision="fp32").encode(texts)
    reference = _local_model().encode(texts, normalize_embeddings=True)
    assert ours.shape == (2, 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
    assert (ours * reference).sum(1).min() > 0.999


def test_long_text_keeps_head_and_tail():
    enc = TextEncoder(max_tokens=16)
    enc.load()
    long = "opening words here " + "filler " * 5000 + "the verdict is wonderful"
    (ids,) = enc._ids([long])
    words = enc._tokenizer.decode(ids)
    assert len(ids) == 16 and "opening" in words and "wonderful" in words and words.count("filler") < 10
    short = enc._ids(["just a few words"])[0]
    assert enc._tokenizer.decode(short) == "[CLS] just a few words [SEP]"


def test_embeddings_are_cached_per_content_and_damaged_files_recomputed(tmp_path, monkeypatch):
    texts = [f"sentence number {i}" for i in range(5)]
    first = TextEncoder(tmp_path).encode(texts)
    files = list(tmp_path.rglob("*.npy"))
    assert len(files) == 1 and TextEncoder(tmp_path).missing(texts) == 0

    def no_compute(*a, **k):
        raise AssertionError("recomputed a cached block")

    monkeypatch.setattr(TextEncoder, "_compute", no_compute)
    assert np.allclose(TextEncoder(tmp_path).encode(texts), first, atol=2e-3)
    assert TextEncoder(tmp_path).missing(texts + ["new"]) == 6  # another content: another block
    monkeypatch.undo()
    files[0].write_bytes(b"not an array")
    assert np.allclose(TextEncoder(tmp_path).encode(texts), first, atol=2e-3)


def test_a_model_that_cannot_load_is_one_error_and_embeddings_are_left_out(monkeypatch):
    monkeypatch.setattr(embeddings, "_LOADED", {})
    monkeypatch.setattr(embeddings, "MODEL_NAME", "x")

    def broken(*args):
        raise embeddings.EmbeddingError("the local embedding model x could not load (OSError: gone)")

    monkeypatch.setattr(embeddings, "_load", broken)
    sets, notes = prepare(["tfidf", "embeddings"], ["a b", "a c", "b c"])
    assert [s.features.name for s in sets] == ["tfidf"] and "could not load" in notes[0]


def _choose(train, valid, test):
    sets, notes = prepare(["tfidf", "embeddings"], train[0], valid[0], test[0])
    assert not notes
    return distill(sets, train[1], ["negative", "positive"], 2, valid[1], test[1],
                   plan=selection(train[0], valid[0]))


def test_embeddings_chosen_when_valid_uses_words_train_never_showed():
    result = _choose(sentiment(TRAIN_WORDS, 300, 0), sentiment(HELD_OUT_WORDS, 100, 1),
                     sentiment(HELD_OUT_WORDS, 100, 2))
    assert result.features == "embeddings" and result.seeds == 1 and len(result.scores) == 1
    valid = {c["features"]: c["valid"] for c in result.candidates}
    assert valid["embeddings"] > valid["tfidf"] + 0.15
    assert result.mean > 0.8 and "best distilled acc on valid" in result.reason


def test_tfidf_chosen_when_one_rare_token_decides():
    rng = np.random.default_rng(0)

    def coded(n):
        labels = rng.integers(0, 2, n)
        texts = [f"{' '.join(rng.choice(NOUNS, 6))} {'zqvx' if y else 'kfjw'}" for y in labels]
        return texts, labels

    result = _choose(coded(300), coded(100), coded(100))
    assert result.features == "tfidf" and result.seeds == 2 and len(result.scores) == 2
    valid = {c["features"]: c["valid"] for c in result.candidates}
    assert valid["tfidf"] >= valid["embeddings"] and result.mean > 0.95


def test_selection_never_scores_a_candidate_on_rows_it_trained_on():
    train = [f"t{i}" for i in range(100)]
    assert selection(train, [f"v{i}" for i in range(100)]).rows.all()
    few = selection(train, ["t1", "t2"] + [f"v{i}" for i in range(98)])
    assert few.fold is None and not few.rows[:2].any() and few.rows[2:].all() and "98 valid rows" in few.description
    same = selection(train, train)  # a dataset whose train split is its valid split
    assert same.fold is not None and "cross-fitting" in same.description
    for f in range(3):
        out = same.same_text(np.flatnonzero(same.fold == f), len(train))
        assert (out == (same.fold == f)).all()  # each fold's texts are left out of its own fit


def test_cross_fitting_when_train_is_valid():
    texts, labels = sentiment(TRAIN_WORDS, 200, 3)
    sets, _ = prepare(["tfidf", "embeddings"], texts, texts, texts)
    result = distill(sets, labels, ["n", "p"], 1, labels, labels, plan=selection(texts, texts))
    assert "cross-fitting" in result.selection and {c["features"] for c in result.candidates} == {"tfidf", "embeddings"}


def test_saved_embedding_model_holds_no_weights_and_predicts(tmp_path):
    texts, labels = sentiment(TRAIN_WORDS, 120, 4)
    sets, _ = prepare(["embeddings"], texts)
    result = distill(sets, labels, ["negative", "positive"], 3)
    assert result.features == "embeddings" and result.reason.endswith("as requested")
    path = tmp_path / "model.skops"
    result.model.save(path)
    assert path.stat().st_size < 100_000  # settings of the encoder, never its 90 MB of weights
    loaded = load_model(path)
    assert list(loaded.predict(["The hotel was excellent.", "The meal was horrible."])) == [1, 0]


def test_a_pickled_model_of_an_earlier_version_is_refused_without_being_unpickled(tmp_path):
    marker = tmp_path / "ran"

    class Hostile:
        def __reduce__(self):  # what a shared pickle could do when opened
            return (open, (str(marker), "w"))

    results = tmp_path / "results"
    results.mkdir()
    (results / LEGACY_FILE).write_bytes(pickle.dumps(Hostile()))
    for path in (results / LEGACY_FILE, results / MODEL_FILE):  # named, or found beside the new name
        with pytest.raises(AlchemistError, match=r"pickle by an earlier version.*apply RUN_DIR"):
            load_model(path)
    assert not marker.exists()


def test_a_model_file_with_untrusted_types_is_refused(tmp_path):
    import skops.io as sio
    from sklearn.neural_network import MLPClassifier

    texts, labels = sentiment(TRAIN_WORDS, 60, 6)
    mlp = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5).fit(TfidfFeatures().fit_transform(texts), labels)
    path = tmp_path / MODEL_FILE
    path.write_bytes(sio.dumps({"format": "alchemist-distilled-model", "version": 1, "classifier": mlp}))
    with pytest.raises(AlchemistError, match="not trusted"):  # the optimizer state is not a default-trusted type
        load_model(path)
    path.write_bytes(b"PK\x03\x04 damaged")
    with pytest.raises(AlchemistError, match="not a readable distilled model"):
        load_model(path)


def test_a_saved_tfidf_mlp_model_predicts_as_the_fitted_one(tmp_path):
    texts, labels = sentiment(TRAIN_WORDS, 120, 5)
    sets, _ = prepare(["tfidf"], texts)
    result = distill(sets, labels, ["n", "p"], 1)
    path = tmp_path / MODEL_FILE
    result.model.save(path)
    loaded = load_model(path)
    assert isinstance(loaded.features, TfidfFeatures) and loaded.classes == ["n", "p"]
    assert np.allclose(loaded.predict_proba(texts[:20]), result.model.predict_proba(texts[:20]))


def test_cli_features_flag_and_predict_with_embeddings(tmp_path, capsys):
    from conftest import DEMO_PROGRAMS

    from alchemist.cli.main import main

    out = tmp_path / "runs"
    assert main(["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--features", "embeddings", "--seeds", "2",
                 "--out", str(out), "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    feats = report["distilled"]["features"]
    assert feats["chosen"] == "embeddings" and feats["requested"] == "embeddings" and report["distilled"]["seeds"] == 1
    printed = capsys.readouterr()
    assert "Distilling (MiniLM embeddings + logistic regression" in printed.err and "distilled:" in printed.out
    (run,) = out.iterdir()
    assert main(["predict", str(run), "--text", "WIN a FREE prize now, click http://x.co"]) == 0
    (row,) = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert row["label_name"] == "spam"
    with pytest.raises(SystemExit):
        main(["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--features", "bert"])
    assert "invalid choice: 'bert'" in capsys.readouterr().err


def test_labels_of_several_label_models_compete_through_distillation():
    texts, gold = sentiment(TRAIN_WORDS, 200, 6)
    valid = sentiment(TRAIN_WORDS, 80, 7)
    noisy = np.where(np.random.default_rng(0).random(200) < 0.4, 1 - gold, gold)  # a worse label model
    sets, _ = prepare(["tfidf"], texts, valid[0])
    result = distill(sets, {"snorkel": noisy, "majority": gold}, ["n", "p"], 1, valid[1],
                     plan=selection(texts, valid[0]))
    assert result.labels == "majority" and len(result.candidates) == 2
    assert "snorkel labels + tfidf" in result.reason and "tie" not in result.reason  # no tie decided it
    tied = distill(sets, {"snorkel": gold, "majority": gold}, ["n", "p"], 1, valid[1], plan=selection(texts, valid[0]))
    assert tied.labels == "snorkel" and "a tie, kept by the label model chosen on its own" in tied.reason


def test_a_rerun_reads_every_embedding_from_the_cache(tmp_path, capsys):
    from conftest import DEMO_PROGRAMS

    from alchemist.cli.main import main

    reports = []
    for k in range(2):
        assert main(["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--features", "embeddings", "--seeds", "1",
                     "--out", str(tmp_path / "runs"), "--json", str(tmp_path / f"r{k}.json")]) == 0
        reports.append(json.loads((tmp_path / f"r{k}.json").read_text()))
        err = capsys.readouterr().err
    assert "embeddings" in reports[0]["timings_s"] and "embeddings" not in reports[1]["timings_s"]
    assert "Embedding texts" not in err  # nothing left to embed: no embedding bar on the re-run
    assert reports[0]["distilled"]["test_mean"] == reports[1]["distilled"]["test_mean"]


def test_combined_features_join_tfidf_and_embeddings_and_predict_as_trained(tmp_path):
    train, valid = sentiment(TRAIN_WORDS, 200, 6), sentiment(HELD_OUT_WORDS, 60, 7)
    sets, notes = prepare(["tfidf", "embeddings", "combined"], train[0], valid[0])
    assert not notes and [s.features.name for s in sets] == ["tfidf", "embeddings", "combined"]
    tfidf, emb, combined = sets
    # built from the other two (nothing computed twice), the same as computing it afresh
    assert combined.train.shape == (200, tfidf.train.shape[1] + 384)
    fresh, _ = prepare(["combined"], train[0], valid[0])
    assert np.allclose(fresh[0].valid.toarray(), combined.valid.toarray(), atol=1e-6)
    result = distill([combined], train[1], ["negative", "positive"], 3)
    assert result.features == "combined" and result.seeds == 1  # logistic regression: one fit
    path = tmp_path / "model.skops"
    result.model.save(path)
    loaded = load_model(path)
    assert path.stat().st_size < 2_000_000  # the vectorizer and weights of a linear model, no encoder weights
    expected = result.model.classifier.predict_proba(combined.valid)
    assert np.allclose(loaded.predict_proba(valid[0]), expected, atol=1e-5)


def test_every_mode_name_offered_on_the_command_line_is_implemented():
    from alchemist.core.choices import MODE_NAMES
    from alchemist.generate.modes import MODES

    assert set(MODE_NAMES) == set(MODES)


def test_a_named_embedding_model_is_used_cached_apart_and_saved_with_the_model(tmp_path, capsys):
    from conftest import DEMO_PROGRAMS

    from alchemist.cli.main import main
    from alchemist.testing.tiny_encoder import build_tiny_encoder

    folder = build_tiny_encoder(tmp_path / "tiny")
    encoder = TextEncoder(tmp_path / "cache", model=str(folder))
    vectors = encoder.encode(["win a free gift card", "I love this song"])
    assert vectors.shape == (2, 32) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert encoder.settings != TextEncoder(tmp_path / "cache").settings  # never another model's vectors
    out = tmp_path / "runs"
    assert main(["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--features", "embeddings", "--seeds", "1",
                 "--embedding-model", str(folder), "--device", "cpu", "--out", str(out),
                 "--json", str(tmp_path / "r.json")]) == 0
    feats = json.loads((tmp_path / "r.json").read_text())["distilled"]["features"]
    assert feats["embedding_model"].startswith(str(folder)) and ", cpu)" in feats["embedding_model"]
    assert feats["classifier"] == "tiny embeddings + logistic regression"
    (run,) = out.iterdir()
    capsys.readouterr()
    assert main(["predict", str(run), "--text", "win a free gift card now"]) == 0
    (row,) = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert row["label_name"] in ("ham", "spam")
    loaded = load_model(run / MODEL_FILE)
    assert loaded.features.encoder.model == str(folder)


def test_an_embedding_model_or_device_that_cannot_load_is_one_line_before_anything_runs(tmp_path, capsys):
    from conftest import DEMO_PROGRAMS

    from alchemist.cli.main import main

    base = ["apply", str(DEMO_PROGRAMS), "--dataset", "demo", "--out", str(tmp_path / "runs")]
    assert main([*base, "--embedding-model", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "no such model folder" in err and err.count("\n") == 1
    (tmp_path / "empty").mkdir()
    assert main([*base, "--embedding-model", str(tmp_path / "empty")]) == 2
    assert "not a model folder" in capsys.readouterr().err
    import torch

    if not torch.cuda.is_available():
        assert main([*base, "--device", "cuda"]) == 2
        assert "no CUDA GPU is visible" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # nothing was applied or written
