"""The answers file: appended at once, replayed (undo, back, resume), refused when it does not fit the data."""

from __future__ import annotations

import numpy as np
import pytest

from alchemist.annotation.answers import AnswersError, create, fingerprint, import_csv, open_for, read
from alchemist.annotation.pools import chosen_order, next_row, random_order
from alchemist.annotation.use import with_answers
from alchemist.data.datasets import Dataset, Split
from alchemist.data.tasks import TaskCard

IDS = ["a", "b", "c", "d", "e", "f"]
TEXTS = ["good film", "bad film", "fine", "awful", "lovely", "boring"]
CLASSES = ["neg", "pos"]


def fresh(tmp_path):
    return open_for(tmp_path / "answers.jsonl", "toy", IDS, TEXTS, CLASSES)


def test_every_answer_is_on_disk_at_once_and_replays_the_same(tmp_path):
    a = fresh(tmp_path)
    a.answer("a", "good film", "pos", "random", 1.5)
    a.skip("b", "bad film")
    a.answer("c", "fine", "pos", "chosen")
    again = read(a.path)  # another process reading now sees everything
    assert {k: v.label for k, v in again.answers.items()} == {"a": "pos", "c": "pos"}
    assert again.skipped == {"b"} and [x.row for x in again.by_pool("chosen")] == ["c"]


def test_undo_takes_back_the_last_step_and_restores_a_replaced_answer(tmp_path):
    a = fresh(tmp_path)
    a.answer("a", "good film", "neg", "random")
    a.answer("a", "good film", "pos", "random")  # changed (back, answered again)
    a.skip("b", "bad film")
    assert a.undo() == "b" and "b" not in a.skipped
    assert a.undo() == "a" and a.answers["a"].label == "neg"  # the earlier answer comes back
    again = read(a.path)
    assert again.answers["a"].label == "neg" and not again.skipped
    assert again.undo() == "a" and "a" not in again.answers and again.undo() is None


def test_a_line_cut_short_by_a_crash_is_ignored_but_damage_elsewhere_is_refused(tmp_path):
    a = fresh(tmp_path)
    a.answer("a", "good film", "pos", "random")
    with open(a.path, "a") as f:
        f.write('{"kind": "answer", "row": "b", "te')  # the process died mid-line
    assert list(read(a.path).answers) == ["a"]
    again = read(a.path)
    again.answer("c", "fine", "neg", "random")  # the next session goes on: the cut line is closed and marked
    assert {k: v.label for k, v in read(a.path).answers.items()} == {"a": "pos", "c": "neg"}
    a.path.write_text("\n".join(a.path.read_text().split("\n")[:2]) + "\n")
    lines = a.path.read_text().split("\n")
    a.path.write_text("\n".join([lines[0], "not json", lines[1], ""]))
    with pytest.raises(AnswersError, match="line 2: not a JSON record"):
        read(a.path)


def test_answers_that_do_not_fit_the_data_are_refused_naming_the_row(tmp_path):
    a = fresh(tmp_path)
    a.answer("d", "awful", "neg", "random")
    with pytest.raises(AnswersError, match="text of row 'd' changed"):
        open_for(a.path, "toy", IDS, TEXTS[:3] + ["AWFUL!"] + TEXTS[4:], CLASSES)
    with pytest.raises(AnswersError, match="row 'd' was answered but is not in this data"):
        open_for(a.path, "toy", ["a", "b", "c"], TEXTS[:3], CLASSES)
    with pytest.raises(AnswersError, match="classes neg, pos; this data has bad, good"):
        open_for(a.path, "toy", IDS, TEXTS, ["bad", "good"])
    with pytest.raises(AnswersError, match="not one of the classes"):
        a.answer("e", "lovely", "great", "random")
    text = a.path.read_text().replace('"label": "neg"', '"label": "meh"')
    a.path.write_text(text)
    with pytest.raises(AnswersError, match="row 'd' has label 'meh'"):
        read(a.path)


def test_a_csv_of_id_label_is_checked_whole_before_anything_is_written(tmp_path):
    a = fresh(tmp_path)
    good = tmp_path / "mine.csv"
    good.write_text("id,label\na,pos\nb,0\nc,POS\n")
    n, notes = import_csv(a, good, IDS, TEXTS, "random")
    assert n == 3 and "0 = neg, 1 = pos" in notes[0]
    assert {k: v.label for k, v in read(a.path).answers.items()} == {"a": "pos", "b": "neg", "c": "pos"}
    before = a.path.read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text("d,neg\nzz,pos\n")
    with pytest.raises(AnswersError, match="row 2 names id 'zz'"):
        import_csv(a, bad, IDS, TEXTS, "random")
    bad.write_text("d,neg\ne,maybe\n")
    with pytest.raises(AnswersError, match="row 2 .id 'e'. has label 'maybe'"):
        import_csv(a, bad, IDS, TEXTS, "random")
    assert a.path.read_text() == before  # nothing half-imported


def test_a_file_that_is_not_an_answers_file_or_a_folder_that_cannot_be_made_is_one_line(tmp_path):
    other = tmp_path / "data.csv"
    other.write_text("id,text\n1,hello\n")
    with pytest.raises(AnswersError, match="is not an answers file"):
        read(other)
    with pytest.raises(AnswersError, match="cannot create the folder"):
        open_for(other / "a.jsonl", "toy", IDS, TEXTS, CLASSES)


def test_an_import_says_what_it_replaced_and_reads_excels_utf8(tmp_path):
    a = fresh(tmp_path)
    a.answer("a", "good film", "neg", "random")
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffid,sentiment\na,pos\nb,neg\nb,pos\n".encode())
    n, notes = import_csv(a, bom, IDS, TEXTS, "random")
    assert n == 3 and any("1 of these rows had another answer" in x for x in notes)
    assert any("appear more than once" in x for x in notes) and read(a.path).answers["b"].label == "pos"
    empty = tmp_path / "empty.csv"
    empty.write_text("id,label\n")
    with pytest.raises(AnswersError, match="no rows"):
        import_csv(a, empty, IDS, TEXTS, "random")


def test_a_second_create_keeps_what_is_there(tmp_path):
    a = fresh(tmp_path)
    a.answer("a", "good film", "pos", "random")
    again = create(a.path, "toy", fingerprint(IDS, TEXTS, CLASSES), CLASSES)
    assert list(again.answers) == ["a"]


def test_pools_random_is_stable_and_chosen_puts_unvoted_then_unsure_rows_first():
    assert random_order(50).tolist() == random_order(50).tolist()
    votes = np.array([[0, 0], [-1, -1], [0, 1], [1, 1]])
    probs = np.array([[0.95, 0.05], [0.5, 0.5], [0.55, 0.45], [0.1, 0.9]])
    order = chosen_order(votes, probs).tolist()
    assert order[:2] == [1, 2] and set(order[2:]) == {0, 3}
    assert next_row(np.array(order), ["w", "x", "y", "z"], {"x"}) == 2
    assert next_row(np.array([0]), ["w"], {"w"}) is None


def test_random_answers_become_valid_and_chosen_answers_train(tmp_path):
    card = TaskCard(name="toy", classes=CLASSES, description="")
    train = Split("train", tmp_path, list(IDS), list(TEXTS), np.full(6, -1))
    dataset = Dataset("toy", card, tmp_path, {"train": train})
    a = fresh(tmp_path)
    a.answer("b", "bad film", "neg", "random")
    a.answer("e", "lovely", "pos", "random")
    a.answer("f", "boring", "neg", "chosen")
    out, info, note = with_answers(dataset, a)
    assert out.splits["valid"].ids == ["b", "e"] and out.splits["valid"].labels.tolist() == [0, 1]
    assert out.train.ids == ["a", "c", "d", "f"] and out.train_gold.tolist() == [-1, -1, -1, 0]
    assert info == {"file": str(a.path), "random": 2, "chosen": 1, "from_review": 0} and "2 random answers are valid rows" in note
