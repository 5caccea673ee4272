"""Dataset loading: every format, every error as one line naming the file."""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pytest
from conftest import DEMO_DIR

from alchemist.core.errors import AlchemistError, DatasetError
from alchemist.data.datasets import UNKNOWN, load_dataset
from alchemist.data.readers import Columns
from alchemist.data.tasks import builtin_card, builtin_names
from alchemist.pipeline.settings import Settings, resolve_data_dir


def wrench_rows(rows: list[tuple[str, int | None]], weak: list[list[int]] | None = None) -> dict:
    out = {}
    for i, (text, label) in enumerate(rows):
        row = {"data": {"text": text}, "weak_labels": weak[i] if weak else []}
        if label is not None:
            row["label"] = label
        out[str(i)] = row
    return out


def make_wrench(folder, splits=("train", "valid", "test"), gz=(), label_json=True):
    folder.mkdir(parents=True, exist_ok=True)
    data = wrench_rows([("buy now http://x", 1), ("nice song", 0), ("subscribe!", 1)], [[1, -1], [-1, 0], [1, 1]])
    for split in splits:
        text = json.dumps(data)
        if split in gz:
            with gzip.open(folder / f"{split}.json.gz", "wt") as f:
                f.write(text)
        else:
            (folder / f"{split}.json").write_text(text)
    if label_json:
        (folder / "label.json").write_text(json.dumps({"0": "ham", "1": "spam"}))
    return folder


def test_ten_builtin_cards_with_reference_ids():
    assert builtin_names() == sorted(["youtube", "sms", "imdb", "yelp", "agnews", "medabs", "cancer",
                                      "reddit", "french", "finance"])
    assert builtin_card("agnews").classes == ["World", "Sports", "Business", "Sci/Tech"]
    for name in ("french", "finance"):
        assert builtin_card(name).classes == ["negative", "neutral", "positive"]
    assert builtin_card("sms").metric == "f1" and builtin_card("sms").positive_class == 1
    assert builtin_card("cancer").n_classes == 3 and builtin_card("medabs").n_classes == 5
    assert builtin_card("youtube").classes == ["ham", "spam"]


def test_wrench_plain_and_gzip(tmp_path):
    plain = load_dataset(str(make_wrench(tmp_path / "plain")))
    gz = load_dataset(str(make_wrench(tmp_path / "gz", gz=("train", "test"))))
    for ds in (plain, gz):
        assert set(ds.splits) == {"train", "valid", "test"}
        assert ds.train.texts == ["buy now http://x", "nice song", "subscribe!"]
        assert ds.train.labels.tolist() == [1, 0, 1]
        assert ds.train.weak_labels.dtype == np.int8 and ds.train.weak_labels.shape == (3, 2)
        assert ds.card.classes == ["ham", "spam"]
    assert gz.train.path.name == "train.json.gz"


def test_bundled_demo_loads_by_name():
    ds = load_dataset("demo")
    assert ds.card.arg_name == "comment" and ds.root == DEMO_DIR
    assert len(ds.train) == 400 and ds.get("test").has_labels


def test_csv_with_class_names_and_missing_labels(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text('body,sentiment\n"great, loved it",positive\nawful,Negative\n"no label here",\n')
    ds = load_dataset(str(path), columns=Columns(text="body", label="sentiment"), classes=["negative", "positive"])
    assert ds.train.texts == ["great, loved it", "awful", "no label here"]
    assert ds.train.labels.tolist() == [1, 0, UNKNOWN]
    assert set(ds.splits) == {"train"}


def test_csv_infers_classes_from_labels(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\na,spam\nb,ham\nc,spam\n")
    ds = load_dataset(str(path))
    assert ds.card.classes == ["ham", "spam"] and ds.train.labels.tolist() == [1, 0, 1]


def test_unlabeled_jsonl_with_classes(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a"}\n\n{"text": "b", "id": "x7"}\n')
    ds = load_dataset(str(path), classes=["no", "yes"])
    assert ds.train.texts == ["a", "b"] and ds.train.ids[1] == "x7"
    assert not ds.train.has_labels


def test_folder_of_csv_splits_with_task_card(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    for split in ("train", "test"):
        (folder / f"{split}.csv").write_text("text,label\nhello,0\nwin cash,1\n")
    (folder / "task.json").write_text(json.dumps({"name": "mine", "classes": ["ham", "spam"], "arg_name": "msg"}))
    ds = load_dataset(str(folder))
    assert ds.name == "mine" and ds.card.arg_name == "msg" and set(ds.splits) == {"train", "test"}


ERRORS = {
    "unknown dataset": (lambda p: "no-such-dataset", "unknown dataset 'no-such-dataset'"),
    "missing train split": (lambda p: str(make_wrench(p / "d", splits=("valid", "test"))), "no train split"),
    "corrupt json": (lambda p: _corrupt(make_wrench(p / "d"), "train.json", "{not json"), "train.json: not valid JSON"),
    "corrupt gzip": (lambda p: _corrupt(make_wrench(p / "d", gz=("train",)), "train.json.gz", "garbage"),
                     "train.json.gz: corrupt gzip"),
    "label outside label.json": (lambda p: _edit(make_wrench(p / "d"), "test.json", lambda d: d["1"].update(label=5)),
                                 "test.json: row '1' has label 5, outside the classes 0..1"),
    "no data.text": (lambda p: _edit(make_wrench(p / "d"), "train.json", lambda d: d["0"]["data"].pop("text")),
                     "train.json: row '0' has no 'data.text'"),
    "weak label out of range": (lambda p: _edit(make_wrench(p / "d"), "train.json",
                                                lambda d: d["2"].update(weak_labels=[1, 7])), "weak label outside"),
    "ragged weak labels": (lambda p: _edit(make_wrench(p / "d"), "train.json",
                                           lambda d: d["2"].update(weak_labels=[1])), "different numbers of weak_labels"),
    "bad label.json": (lambda p: _corrupt(make_wrench(p / "d"), "label.json", '{"1": "a"}'), "label.json: expected"),
    "not an object": (lambda p: _corrupt(make_wrench(p / "d"), "train.json", "[1, 2]"), "expected a JSON object"),
    "not utf-8": (lambda p: _corrupt_bytes(make_wrench(p / "d"), "train.json", b"\xff\xfe{}"), "not UTF-8"),
}


def _corrupt(folder, name, text):
    (folder / name).unlink(missing_ok=True)
    if name.endswith(".gz"):
        (folder / name).write_bytes(text.encode())
    else:
        (folder / name).write_text(text)
    return str(folder)


def _corrupt_bytes(folder, name, data):
    (folder / name).write_bytes(data)
    return str(folder)


def _edit(folder, name, change):
    data = json.loads((folder / name).read_text())
    change(data)
    (folder / name).write_text(json.dumps(data))
    return str(folder)


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_are_one_line_and_name_the_file(tmp_path, case):
    make, expected = ERRORS[case]
    with pytest.raises(DatasetError) as err:
        load_dataset(make(tmp_path))
    message = str(err.value)
    assert expected in message and "\n" not in message


def test_csv_errors(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("body,label\nhello,0\n")
    with pytest.raises(DatasetError, match=r"d.csv: line 2 has no column 'text'.*--text-column"):
        load_dataset(str(path))
    path.write_text("text,label\nhello,maybe\n")
    with pytest.raises(DatasetError, match=r"d.csv: row '0' has label 'maybe', which is not a class"):
        load_dataset(str(path), classes=["no", "yes"])
    (tmp_path / "e.csv").write_text("text\nhello\n")
    with pytest.raises(DatasetError, match="--classes"):
        load_dataset(str(tmp_path / "e.csv"))


def test_label_json_must_match_card(tmp_path):
    folder = make_wrench(tmp_path / "d")
    (folder / "task.json").write_text(json.dumps({"name": "d", "classes": ["neg", "pos"]}))
    with pytest.raises(DatasetError, match="do not match the task card"):
        load_dataset(str(folder))


def test_builtin_missing_from_data_dir_says_where_to_look(tmp_path):
    (tmp_path / "agnews").mkdir()
    (tmp_path / "agnews" / "PARTIAL.md").write_text("only valid and test")
    with pytest.raises(DatasetError, match=r"agnews: no train split .* see .*PARTIAL.md"):
        load_dataset("agnews", tmp_path)


def test_bad_task_card_file(tmp_path):
    card = tmp_path / "card.json"
    card.write_text(json.dumps({"name": "x", "classes": ["a"]}))
    with pytest.raises(AlchemistError, match="card.json: 'classes' must be a list of at least two"):
        load_dataset(str(make_wrench(tmp_path / "d")), card_path=card)


def test_data_dir_precedence(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path / "from-config", saved_dir=tmp_path)
    monkeypatch.delenv("ALCHEMIST_DATA_DIR", raising=False)
    assert resolve_data_dir(None, settings) == tmp_path / "from-config"
    monkeypatch.setenv("ALCHEMIST_DATA_DIR", str(tmp_path / "from-env"))
    assert resolve_data_dir(None, settings) == tmp_path / "from-env"
    assert resolve_data_dir(str(tmp_path / "flag"), settings) == tmp_path / "flag"


def test_builtin_from_data_dir(tmp_path):
    shutil.copytree(DEMO_DIR, tmp_path / "youtube", ignore=shutil.ignore_patterns("task.json", "*.py"))
    ds = load_dataset("youtube", tmp_path)
    assert ds.card.name == "youtube" and ds.root == tmp_path / "youtube"


def test_real_datasets_load(shared_data):
    sizes = {"youtube": (1686, 120, 250), "sms": (4571, 500, 500), "imdb": (20000, 2500, 2500),
             "finance": (3488, 388, 970), "french": (6953, 773, 1932)}
    for name, expected in sizes.items():
        ds = load_dataset(name, shared_data)
        assert tuple(len(ds.splits[s]) for s in ("train", "valid", "test")) == expected
    assert load_dataset("youtube", shared_data).train.weak_labels.shape == (1686, 10)


def test_labels_differing_in_case_or_spaces_are_one_class_and_said(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("text,label\na,ham\nb,HAM \nc,spam\nd, Spam\ne,ham\n")
    ds = load_dataset(str(path))
    assert ds.card.classes == ["ham", "spam"] and list(ds.train.labels) == [0, 0, 1, 1, 0]
    assert len(ds.notes) == 1 and "'HAM ', 'ham' as 'ham'" in ds.notes[0] and "' Spam', 'spam' as 'spam'" in ds.notes[0]


def test_own_data_named_like_a_built_in_task_gets_its_own_name(tmp_path):
    path = tmp_path / "finance.jsonl"
    path.write_text('{"text": "shares up", "label": "up"}\n{"text": "shares down", "label": "down"}\n')
    ds = load_dataset(str(path))
    assert ds.name == "finance-own" and ds.card.classes == ["down", "up"]
    other = tmp_path / "reviews.csv"
    other.write_text("text,label\nok,pos\nbad,neg\n")
    assert load_dataset(str(other)).name == "reviews"


def test_tsv_parquet_and_other_encodings_are_read_and_workbooks_refused_with_what_to_do(tmp_path):
    import pandas as pd

    (tmp_path / "rows.tsv").write_text("id\ttext\tlabel\nA7\tgreat song, really\tham\nB9\tclick here\tspam\n")
    ds = load_dataset(str(tmp_path / "rows.tsv"))
    assert ds.train.texts == ["great song, really", "click here"] and ds.train.ids == ["A7", "B9"]
    pd.DataFrame({"key": ["k1", "k2"], "text": ["hi", None], "label": ["ham", "spam"]}).to_parquet(tmp_path / "p.parquet")
    ds = load_dataset(str(tmp_path / "p.parquet"), columns=Columns(id="key"))
    assert ds.train.texts == ["hi", ""] and ds.train.ids == ["k1", "k2"]
    (tmp_path / "latin.csv").write_bytes("text,label\ncaf\xe9 au lait,ham\nfree,spam\n".encode("cp1252"))
    with pytest.raises(DatasetError, match=r"not UTF-8 text \(byte 0xe9 at position 14\).*--encoding cp1252"):
        load_dataset(str(tmp_path / "latin.csv"))
    assert load_dataset(str(tmp_path / "latin.csv"), columns=Columns(encoding="cp1252")).train.texts[0] == "café au lait"
    (tmp_path / "book.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(DatasetError, match="save the sheet as CSV"):
        load_dataset(str(tmp_path / "book.xlsx"))
    with pytest.raises(DatasetError, match="no id column 'ref'"):
        load_dataset(str(tmp_path / "rows.tsv"), columns=Columns(id="ref"))


def test_a_split_column_in_a_file_puts_rows_in_splits_and_an_unknown_value_names_the_row(tmp_path):
    path = tmp_path / "mine.csv"
    rows = [f"{i},text {i},{'ham' if i % 2 else 'spam'},{['train', 'Validation', 'test'][i % 3]}" for i in range(30)]
    path.write_text("id,text,label,split\n" + "\n".join(rows) + "\n")
    ds = load_dataset(str(path))
    assert {s: len(v) for s, v in ds.splits.items()} == {"train": 10, "valid": 10, "test": 10}
    assert "its 'split' column puts the rows in splits (10 train, 10 valid, 10 test)" in ds.notes[0]
    path.write_text("id,text,label,split\n1,a,ham,train\n2,b,spam,holdout\n")
    with pytest.raises(DatasetError, match="row '2' has split 'holdout'"):
        load_dataset(str(path))


@pytest.mark.parametrize("name, content, message", [
    ("deep.jsonl", "[" * 100_000 + "\n", "nested too deeply"),
    ("bom.csv", "text\nhi\n", "cannot be read as utf-16"),
])
def test_hostile_files_are_one_line(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(DatasetError, match=message):
        load_dataset(str(tmp_path / name), columns=Columns(encoding="utf-16" if name == "bom.csv" else "utf-8"))


def test_array_cells_are_text_not_a_crash(tmp_path):
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"text": [[1, 2], [3], None], "label": ["a", "b", "a"]})  # a column of lists
    frame.to_parquet(tmp_path / "arrays.parquet")
    ds = load_dataset(str(tmp_path / "arrays.parquet"))
    assert ds.train.texts[2] == "" and ds.train.texts[0].startswith("[") and "3" in ds.train.texts[1]
    from alchemist.data.datasets import dataset_from_frame

    mixed = pd.DataFrame({"text": [np.array([1, 2]), "plain"], "label": ["a", "b"]})
    assert dataset_from_frame(mixed).train.texts[1] == "plain"
