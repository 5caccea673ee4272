"""Image runs, offline: a tiny random CLIP in the transformers format and small generated images.

The model's scores mean nothing; these tests check loading, caching, the dict contract of programs,
concepts, the whole `run`/`apply`/`predict` flow through the real OpenAI SDK, and the report.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import concept_reply

from alchemist.cli import main
from alchemist.core.errors import AlchemistError, DatasetError
from alchemist.data.datasets import load_dataset
from alchemist.data.readers import Columns
from alchemist.images import concepts as concept_files
from alchemist.images.clip import ClipEncoder, ClipError
from alchemist.sandbox import ProgramSource, SandboxApplier, SandboxLimits
from alchemist.sandbox.rows import ScoreRows
from alchemist.testing.fake_llm import FakeLLM
from alchemist.testing.tiny_clip import build_tiny_clip, make_images

CONCEPTS = ["water background", "forest background", "webbed feet", "short pointed beak"]
PROGRAMS = {
    "lf_01": "# Strategy: water beats forest\ndef label_function(x):\n"
             "    return 1 if x['water background'] > x['forest background'] else 0\n",
    "lf_02": "# Strategy: feet above the median concept\ndef label_function(x):\n"
             "    s = sorted(x.values())\n    return 1 if x['webbed feet'] >= s[len(s) // 2] else -1\n",
    "lf_03": "# Strategy: beak\ndef label_function(x):\n"
             "    return 0 if x.get('short pointed beak', 0.0) > x['webbed feet'] else -1\n",
}


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory) -> Path:
    return build_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")


@pytest.fixture
def images(tmp_path) -> Path:
    return make_images(tmp_path / "birds")


@pytest.fixture
def programs(tmp_path) -> Path:
    folder = tmp_path / "programs"
    folder.mkdir()
    for name, source in PROGRAMS.items():
        (folder / f"{name}.py").write_text(source)
    concept_files.save(folder, CONCEPTS)
    return folder


def _report(path: Path) -> dict:
    return json.loads(path.read_text())


# --- datasets -----------------------------------------------------------------------------------------------
def test_class_folders_load_as_an_image_dataset(images):
    dataset = load_dataset(str(images))
    assert dataset.modality == "image"
    assert dataset.card.classes == ["landbird", "waterbird"]  # folder names, sorted
    assert dataset.card.item == "image"
    assert {s: len(sp) for s, sp in dataset.splits.items()} == {"train": 24, "valid": 12, "test": 12}
    first = dataset.train.texts[0]
    assert Path(first).is_absolute() and Path(first).is_file()
    assert set(dataset.get("test").labels.tolist()) == {0, 1}


def test_csv_of_image_paths_with_splits_labels_and_groups(images):
    dataset = load_dataset(str(images / "metadata.csv"), columns=Columns("text", "y", "y,place"),
                           classes=["landbird", "waterbird"])
    assert dataset.modality == "image" and dataset.name == "birds"
    assert {s: len(sp) for s, sp in dataset.splits.items()} == {"train": 24, "valid": 12, "test": 12}
    assert set(dataset.get("test").groups) == {"0|land", "0|water", "1|land", "1|water"}
    # without the group column asked for (or present), no groups
    plain = load_dataset(str(images / "metadata.csv"), columns=Columns("text", "y"), classes=["a", "b"])
    assert plain.get("test").groups is None


def test_image_csv_problems_are_one_line_errors(images):
    meta = images / "metadata.csv"
    text = meta.read_text()
    meta.write_text(text.replace("train/landbird/0.png", "train/landbird/missing.png"))
    with pytest.raises(DatasetError, match="1 image file.s. not found.*missing.png"):
        load_dataset(str(meta), columns=Columns("text", "y"))
    meta.write_text(text.replace(",0\n", ",training\n", 1))
    with pytest.raises(DatasetError, match="split 'training'"):
        load_dataset(str(meta), columns=Columns("text", "y"))


def test_class_folder_edge_cases(images):
    (images / "train" / "landbird" / ".ipynb_checkpoints").mkdir()
    shutil.copy(images / "train" / "landbird" / "0.png", images / "train" / "landbird" / ".ipynb_checkpoints" / "0.png")
    (images / "train" / "landbird" / "._1.png").write_bytes(b"mac resource fork")
    (images / "train" / "landbird" / "notes.txt").write_text("not an image")
    assert len(load_dataset(str(images)).train) == 24  # hidden files and other files are not data
    (images / "train" / "seabird").mkdir()  # an empty class folder would shift every class id
    with pytest.raises(DatasetError, match="seabird hold no images"):
        load_dataset(str(images))
    (images / "train" / "seabird").rmdir()
    with pytest.raises(DatasetError, match="class folders have no groups"):
        load_dataset(str(images), columns=Columns("text", "label", "place"))


def test_nested_class_folders_are_found(tmp_path, images):
    nested = tmp_path / "nested"
    for split in ("train", "test"):
        for name in ("landbird", "waterbird"):
            shutil.copytree(images / split / name, nested / split / name / "batch1")
    dataset = load_dataset(str(nested))
    assert dataset.modality == "image" and len(dataset.train) == 24


def test_image_csv_variants(images, tmp_path):
    meta = images / "metadata.csv"
    rows = meta.read_text().splitlines()
    (images / "bom.csv").write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")
    assert load_dataset(str(images / "bom.csv"), columns=Columns("img_filename", "y")).modality == "image"
    header, first, *rest = rows
    (images / "gap.csv").write_text("\n".join([header, first.replace("train/landbird/0.png", ""), *rest]) + "\n")
    with pytest.raises(DatasetError, match="1 image file.s. not found"):  # still an image CSV, found by later rows
        load_dataset(str(images / "gap.csv"), columns=Columns("text", "y"))
    (images / "floats.csv").write_text("\n".join([header.replace("split", "Split"),
                                                  *(r.rsplit(",", 1)[0] + "," + r.rsplit(",", 1)[1] + ".0"
                                                    for r in [first, *rest])]) + "\n")
    assert len(load_dataset(str(images / "floats.csv"), columns=Columns("text", "y")).get("test")) == 12
    (images / "blank.csv").write_text("\n".join([header, first.rsplit(",", 1)[0] + ",", *rest]) + "\n")
    with pytest.raises(DatasetError, match="has split ''"):
        load_dataset(str(images / "blank.csv"), columns=Columns("text", "y"))
    with pytest.raises(DatasetError, match="no column plcae for groups"):
        load_dataset(str(meta), columns=Columns("text", "y", "y,plcae"))
    # a folder holding one CSV of image paths beside the images (Waterbirds) loads by the folder's name
    for extra in ("bom.csv", "gap.csv", "floats.csv", "blank.csv"):
        (images / extra).unlink()
    (images / "imgs").mkdir()
    for split in ("train", "valid", "test"):  # the images elsewhere: only the CSV says what is what
        (images / split).rename(images / "imgs" / split)
    meta.write_text("\n".join([header, *(r if i == 0 else "imgs/" + r for i, r in enumerate(rows[1:], 1))]) + "\n")
    dataset = load_dataset("birds", data_dir=tmp_path, columns=Columns("text", "y"))
    assert dataset.modality == "image" and len(dataset.train) == 24


def test_a_class_folder_only_in_test_is_refused(images):
    (images / "test" / "seabird").mkdir()
    shutil.copy(images / "test" / "waterbird" / "0.png", images / "test" / "seabird" / "0.png")
    with pytest.raises(DatasetError, match="seabird.*not one of train's"):
        load_dataset(str(images))


# --- CLIP ---------------------------------------------------------------------------------------------------
def test_clip_embeds_images_once_and_caches_them(clip_dir, images, tmp_path, monkeypatch):
    paths = load_dataset(str(images)).train.texts
    encoder = ClipEncoder(str(clip_dir), tmp_path / "clip-cache")
    assert encoder.missing(paths) == len(paths)
    first = encoder.images(paths)
    assert first.shape == (len(paths), 16)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-2)
    assert encoder.missing(paths) == 0

    def no_model(*_a, **_k):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(ClipEncoder, "_embed_images", no_model)
    again = ClipEncoder(str(clip_dir), tmp_path / "clip-cache").images(paths)
    assert np.allclose(first, again, atol=1e-3)  # stored as float16
    sims = encoder.similarities(first, CONCEPTS)
    assert sims.shape == (len(paths), len(CONCEPTS)) and np.all(np.abs(sims) <= 1.0 + 1e-5)


def test_cache_keys_on_image_bytes_not_names(clip_dir, images, tmp_path):
    paths = load_dataset(str(images)).train.texts[:4]
    encoder = ClipEncoder(str(clip_dir), tmp_path / "clip-cache")
    encoder.images(paths)
    copies = []
    for i, p in enumerate(paths):
        copies.append(str(shutil.copy(p, tmp_path / f"copy{i}.png")))
    assert encoder.missing(copies) == 0  # moved data stays cached
    from PIL import Image

    Image.new("RGB", (24, 24), (255, 0, 0)).save(copies[0])
    assert encoder.missing(copies) == 1  # a changed image is embedded again, alone
    assert encoder.missing(copies + [copies[1]]) == 1  # an added copy of a cached image costs nothing


def test_unloadable_model_and_unreadable_image_are_clear_errors(clip_dir, images, tmp_path):
    with pytest.raises(ClipError, match="no such folder"):
        ClipEncoder(str(tmp_path / "no-such-model-folder-x"), None).concepts(["a"])
    broken = tmp_path / "broken-model"
    shutil.copytree(clip_dir, broken)
    (broken / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ClipError, match="could not load"):
        ClipEncoder(str(broken), None).concepts(["a"])
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image at all")
    with pytest.raises(ClipError, match="broken.png: not a readable image"):
        ClipEncoder(str(clip_dir), None).images([str(bad)])


# --- the dict contract --------------------------------------------------------------------------------------
PROBE = """
def label_function(x):
    ok = isinstance(x, dict) and list(x) == ["a b", "c"] and all(isinstance(v, float) for v in x.values())
    if not ok:
        return 2
    seen = x.get("mark", 0.0)
    x["mark"] = 1.0  # a program may change its own row's dict: the next row gets a fresh one
    if seen:
        return 3
    return 0 if x["a b"] > x["c"] else 1
"""


def test_programs_get_a_fresh_dict_of_floats_per_row():
    rows = ScoreRows(np.array([[0.3, 0.1], [0.1, 0.3], [np.nan, np.inf], [0.25, 0.25]]), ["a b", "c"])
    assert rows[2] == {"a b": 0.0, "c": 0.0}  # nan and inf never reach a program
    result = SandboxApplier([ProgramSource("probe", PROBE)], 4, SandboxLimits(workers=1, chunk_rows=3)).apply(rows)
    assert result.matrix[:, 0].tolist() == [0, 1, 1, 1]
    assert not result.runs[0].errors


def test_score_rows_refuse_bad_concept_names():
    for keys in ([], ["a", "a"], ["", "b"], ["x" * 300, "b"]):
        with pytest.raises(AlchemistError):
            ScoreRows(np.zeros((1, len(keys))), keys)


# --- concepts -----------------------------------------------------------------------------------------------
def test_a_concepts_file_is_kept_as_written_or_refused_with_the_reason(tmp_path):
    path = tmp_path / "c.json"
    written = ["water background.", "Long neck", "ünïcode wings"]
    path.write_text(json.dumps(written))
    assert concept_files.load(path) == written  # programs look these names up: never changed
    for bad, message in ((["a", "a"], "listed twice"), (["a", "  "], "printable line"),
                         (["a", "b\tc"], "printable line"), (["a", "x" * 201], "printable line"),
                         ([f"c{i}" for i in range(101)], "at most 100")):
        path.write_text(json.dumps(bad))
        with pytest.raises(AlchemistError, match=message):
            concept_files.load(path)


def test_concepts_from_an_llm_take_each_class_in_turn():
    reply = json.dumps({"landbird": [f"land {i}" for i in range(80)], "waterbird": [f"water {i}" for i in range(80)]})
    concepts = concept_files.parse_reply(reply)
    assert len(concepts) == 100 and sum(c.startswith("water") for c in concepts) == 50


def test_concepts_from_replies_and_files(tmp_path):
    fenced = 'Sure.\n```json\n{"landbird": ["brown feathers", "tree branch"], "waterbird": ["webbed feet", "Tree branch"]}\n```'
    assert concept_files.parse_reply(fenced) == ["brown feathers", "webbed feet", "tree branch"]
    assert concept_files.parse_reply("- long neck\n- water\x1b[31m background\n2. short bill") == [
        "long neck", "water background", "short bill"]
    with pytest.raises(AlchemistError, match="fewer than two"):
        concept_files.parse_reply("I cannot help with that.")
    for content, message in (("{", "not valid JSON"), ('{"a": 1}', "JSON list"), ('["only one"]', "at least two")):
        (tmp_path / "c.json").write_text(content)
        with pytest.raises(AlchemistError, match=message):
            concept_files.load(tmp_path / "c.json")
    with pytest.raises(AlchemistError, match="no concepts file"):
        concept_files.load(tmp_path / "none.json")


# --- the whole flow -----------------------------------------------------------------------------------------
def test_apply_scores_concepts_and_reports_worst_group(clip_dir, images, programs, tmp_path, capsys):
    out = tmp_path / "report.json"
    code = main.main(["apply", str(programs), "--dataset", str(images / "metadata.csv"), "--label-column", "y",
                      "--classes", "landbird,waterbird", "--group-column", "y,place", "--clip-model", str(clip_dir),
                      "--seeds", "1", "--json", str(out)])
    assert code == 0, capsys.readouterr().err
    report = _report(out)
    assert report["status"] == "ok" and report["modality"] == "image"
    assert report["concepts"] == CONCEPTS
    assert [p["status"] for p in report["programs"]][:1] == ["ok"]
    assert report["distilled"]["features"]["chosen"] == "clip"
    test_groups = report["groups"]["test"]
    assert set(test_groups) == {"label_model", "distilled"}
    worst = test_groups["label_model"]
    assert worst["worst_group_accuracy"] == min(g["accuracy"] for g in worst["groups"].values())
    html = (Path(report["output_dir"]) / "report.html").read_text()
    assert "Accuracy by group" in html and "short pointed beak" in html
    shown = capsys.readouterr().out
    assert "Accuracy by group" in shown and "worst" in shown
    labels = (Path(report["output_dir"]) / "labels.csv").read_text().splitlines()
    assert len(labels) == 1 + 48 and ".png" in labels[1]


def test_a_model_that_is_not_clip_is_refused(clip_dir, tmp_path):
    from transformers import BertConfig, BertModel

    other = tmp_path / "bert"
    BertModel(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=32)).save_pretrained(other)
    for f in clip_dir.iterdir():
        if f.name != "config.json" and not f.name.endswith(".safetensors"):
            shutil.copy(f, other / f.name)
    with pytest.raises(ClipError):
        ClipEncoder(str(other), None).concepts(["a"])


def test_predict_labels_image_paths(clip_dir, images, programs, tmp_path, capsys):
    assert main.main(["apply", str(programs), "--dataset", str(images), "--clip-model", str(clip_dir),
                      "--seeds", "1"]) == 0
    capsys.readouterr()
    assert main.main(["predict", str(programs), "--image", str(images / "test" / "waterbird"),
                      "--image", str(images / "test" / "landbird" / "0.png")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id,image,label,label_name,confidence" and len(lines) == 1 + 6 + 1
    assert main.main(["predict", str(programs), "--text", "a bird"]) == 2
    assert "labels images" in capsys.readouterr().err
    assert main.main(["predict", str(programs), "--image", str(tmp_path / "nope.png")]) == 2
    assert "image not found" in capsys.readouterr().err
    # the model moved: --clip-model says where it is now
    moved = tmp_path / "moved-clip"
    shutil.copytree(clip_dir, moved)
    listing = tmp_path / "paths.csv"
    listing.write_text("img_filename\n" + str(images / "test" / "landbird" / "1.png") + "\n")
    assert main.main(["predict", str(programs), "--input", str(listing), "--clip-model", str(moved)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].split(",")[1].endswith("1.png")  # the CSV's image column was found
    assert main.main(["predict", str(programs), "--input", str(listing), "--image", str(listing)]) == 2
    assert "not both" in capsys.readouterr().err


@pytest.mark.parametrize("mode", ["alchemist", "scriptoriumws"])
def test_run_lists_concepts_writes_programs_and_reapplies(env, clip_dir, images, capsys, mode):
    with FakeLLM(concept_reply) as server:
        out = env / "report.json"
        code = main.main(["run", "--dataset", str(images), "--base-url", server.openai_url, "--mode", mode,
                          "--num-programs", "2", "--clip-model", str(clip_dir), "--seeds", "1", "--refine-rounds", "0",
                          "--out", str(env / "runs"), "--json", str(out)])
        assert code == 0, capsys.readouterr().err
        prompts = [FakeLLM._prompt_text(r["body"]) for r in server.requests]
    report = _report(out)
    run_dir = Path(report["run_dir"])
    saved = json.loads((run_dir / "concepts.json").read_text())
    assert saved == ["forest background", "water background", "short pointed beak", "webbed feet"]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["concepts"]["count"] == 4 and manifest["calls"][0]["stage"] == "concepts"
    assert manifest["totals"]["cost_usd"] > 0
    code_prompts = [p for p in prompts if "def label_function(x)" in p]
    assert code_prompts and all('"webbed feet"' in p and "CLIP cosine similarity" in p for p in code_prompts)
    assert report["concepts"] == saved and report["status"] in ("ok", "no signal")  # the tiny CLIP means nothing
    assert len(report["programs"]) == 2 and not any(p["status"] == "failed" for p in report["programs"])
    votes = np.load(Path(report["output_dir"]) / "label_matrix.npz")["train"]
    assert set(np.unique(votes)) == {0, 1}  # every row got a dict and a vote
    # re-apply with no flags: the data, the CLIP model and the concepts come from the run folder
    capsys.readouterr()
    assert main.main(["apply", str(run_dir), "--seeds", "1", "--json", str(env / "again.json")]) == 0
    again = _report(env / "again.json")
    assert again["concepts"] == saved and again["label_model"]["test"] == report["label_model"]["test"]


def test_image_runs_refuse_what_they_cannot_do_before_spending(env, clip_dir, images, capsys):
    with FakeLLM(concept_reply) as server:
        for extra, message in ((["--mode", "alchemist", "--knowledge-type", "keywords"], "is for text"),
                               (["--mode", "alchemist-rag", "--rag-path", str(images)], "not documents")):
            assert main.main(["run", "--dataset", str(images), "--base-url", server.openai_url,
                              "--clip-model", str(clip_dir), *extra]) == 2
            assert message in capsys.readouterr().err
        assert main.main(["zero-shot", "--dataset", str(images), "--base-url", server.openai_url, "--yes"]) == 2
        err = capsys.readouterr().err
        assert "zero-shot labels text" in err and "≈$" not in err  # refused before any estimate
        from alchemist.cli import pricing

        assert pricing.main(["--zero-shot", str(images), "--model", "gpt-4o-mini"]) == 2
        assert "a text LLM cannot see images" in capsys.readouterr().err
        (images / "train" / "landbird" / "0.png").write_bytes(b"broken")
        assert main.main(["run", "--dataset", str(images), "--base-url", server.openai_url,
                          "--clip-model", str(clip_dir)]) == 2
        assert "not a readable image" in capsys.readouterr().err
        assert server.calls == 0


def test_example_image_programs_pass_the_gate_and_vote_on_their_concepts():
    from conftest import ROOT

    from alchemist.programs.program_files import load_program_dir

    folder = ROOT / "examples" / "waterbirds_programs"
    concepts = concept_files.load(folder / concept_files.FILE)
    programs = load_program_dir(folder)
    assert programs and all(p.status == "ok" for p in programs)
    rows = ScoreRows(np.array([[0.3 if c in ("webbed feet", "flat wide bill", "long neck", "floating on water")
                                else 0.2 for c in concepts],
                               [0.3 if c in ("short pointed beak", "perching on a branch", "small songbird")
                                else 0.2 for c in concepts]]), concepts)
    result = SandboxApplier([p.as_source() for p in programs], 2, SandboxLimits(workers=1)).apply(rows)
    assert result.matrix.tolist() == [[1, 1], [0, 0]]


def test_apply_with_a_concepts_file_of_your_own(clip_dir, images, programs, tmp_path, capsys):
    own = tmp_path / "mine.json"
    own.write_text(json.dumps(CONCEPTS + ["long neck"]))
    out = tmp_path / "r.json"
    assert main.main(["apply", str(programs), "--dataset", str(images), "--clip-model", str(clip_dir),
                      "--concepts", str(own), "--seeds", "1", "--json", str(out)]) == 0
    assert _report(out)["concepts"] == CONCEPTS + ["long neck"]
    (programs / "concepts.json").unlink()
    assert main.main(["apply", str(programs), "--dataset", str(images), "--clip-model", str(clip_dir)]) == 2
    assert "no concepts file" in capsys.readouterr().err


def test_refinement_and_review_read_concept_scores(env, clip_dir, images, capsys):
    """Refinement runs the programs on valid's concept scores and shows mistakes as scores; the review
    screen's evidence reads an image run's labels."""
    from alchemist.report.evidence import evidence, load_run

    with FakeLLM(concept_reply) as server:
        out = env / "report.json"
        assert main.main(["run", "--dataset", str(images), "--base-url", server.openai_url, "--mode", "scriptoriumws",
                          "--num-programs", "2", "--clip-model", str(clip_dir), "--seeds", "1", "--refine-rounds", "1",
                          "--out", str(env / "runs"), "--json", str(out)]) == 0, capsys.readouterr().err
        prompts = [FakeLLM._prompt_text(r["body"]) for r in server.requests]
    report = _report(out)
    manifest = json.loads((Path(report["run_dir"]) / "manifest.json").read_text())
    section = manifest["refinement"]
    assert section["valid_rows"]["shown"] + section["valid_rows"]["decide"] == 12
    for request in section["requests"]:  # a program that votes on every valid row is never called silent
        assert "0% of the shown" not in json.dumps(request)
    refine_prompts = [p for p in prompts if "Improve this labeling function" in p]
    for prompt in refine_prompts:
        assert "- concept scores: {" in prompt and '"webbed feet"' in prompt and ".png" not in prompt
    code_prompts = [p for p in prompts if "Write a Python labeling function" in p]
    assert code_prompts and not any("keywords" in p.lower() for p in code_prompts)  # image angles, not text ones
    view = load_run(Path(report["run_dir"]))
    ev = evidence(view, "lf_01")
    assert ev.votes and all(text.endswith(".png") for text, _ in ev.votes)


def test_the_image_report_renders_in_a_browser_with_names_escaped(clip_dir, images, programs, tmp_path, capsys):
    from helpers import browser, chromium

    if browser() is None:
        pytest.skip("no chromium, chromium-browser or google-chrome binary on PATH")
    hostile = CONCEPTS + ['<img src=x onerror="alert(1)"> plumage']
    (programs / "concepts.json").write_text(json.dumps(hostile))
    out = tmp_path / "r.json"
    assert main.main(["apply", str(programs), "--dataset", str(images / "metadata.csv"), "--label-column", "y",
                      "--group-column", "y,place", "--clip-model", str(clip_dir), "--seeds", "1",
                      "--json", str(out)]) == 0, capsys.readouterr().err
    page = Path(_report(out)["output_dir"]) / "report.html"
    dom = chromium(tmp_path, page, "--dump-dom")
    assert 'id="groups"' in dom and "worst group" in dom and 'id="concepts"' in dom
    assert "&lt;img src=x" in dom and "<img src" not in dom
