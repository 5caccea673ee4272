"""The data stage of a run: read the dataset, hold out valid/test from a labeled file without them, and
say — before anything is spent — what the run will not be able to score or do."""

from __future__ import annotations

from pathlib import Path

from alchemist.core.errors import AlchemistError
from alchemist.core.progress import NullProgress
from alchemist.data.datasets import Dataset, EvalSplit, load_dataset, require_text, split_for_evaluation
from alchemist.data.readers import Columns
from alchemist.generate.prompts import IMAGE_KNOWLEDGE_TYPES
from alchemist.pipeline.context import RunContext
from alchemist.pipeline.run_config import RunConfig

BIG_FILE = 20_000_000  # bytes: a file this big takes seconds to read


def read_data(c: RunConfig) -> Dataset:
    """The run's data as read: no split held out, no answers moved (what annotate and import-labels check
    answers against)."""
    return load_dataset(c.dataset, c.data_dir, Columns(c.text_column, c.label_column, c.group_column, c.id_column,
                                                       c.encoding), c.classes, c.task_card)


class DataStage:
    def __init__(self, ctx: RunContext):
        self.ctx = ctx
        self.note = ""  # what was done to the data before labeling (held-out splits)

    def load(self) -> Dataset:
        """Read the data; a labeled file without valid/test splits gets them held out of train. What the
        run will not be able to score is said now, before anything is spent."""
        c = self.ctx.config
        path = Path(c.dataset).expanduser()
        big = path.is_file() and path.stat().st_size > BIG_FILE  # a spinner only where reading takes a while
        with (self.ctx.progress if big else NullProgress()).stage(f"Reading {path.name}", total=None, unit="steps"):
            dataset = read_data(c)
        for note in dataset.notes:
            self.ctx.progress.log(f"note: {note}")
        self.ctx.warnings.extend(dataset.notes)
        if dataset.modality == "image":
            self._check_image_run(dataset)
        raw = dataset  # what answers files are made against (annotate and import-labels read the data so)
        dataset, self.note = split_for_evaluation(dataset, EvalSplit(c.split_valid, c.split_test, c.split_seed))
        if self.note:  # held out first: the same rows whatever answers there are, so runs stay comparable
            self.ctx.progress.log(f"note: {self.note}")
        dataset = self._answers(dataset, raw)
        found = []
        for split in ("valid", "test"):
            if dataset.get(split) is None:
                found.append(f"no {split} split: " + ("no program accuracies or class balance" if split == "valid"
                                                      else "no test scores"))
            elif not dataset.splits[split].has_labels:
                found.append(f"the {split} split has no gold labels: no {split} scores")
        if not any(s.has_labels for s in dataset.splits.values()):
            found = [f"no gold labels anywhere in {dataset.root.name} (label column '{c.label_column}'): the run "
                     "labels your rows but can score nothing"] + found
        for warning in found:
            self.ctx.progress.log(f"warning: {warning}")
        self.ctx.warnings.extend(found)
        return dataset

    def _answers(self, dataset: Dataset, raw: Dataset) -> Dataset:
        """A person's answers (alchemist annotate, import-labels), checked against the data as read, used on
        the rows still in train; said before anything is spent."""
        c = self.ctx.config
        if not c.use_answers or dataset.modality != "text" or "train" not in dataset.splits:
            return dataset
        from alchemist.annotation.use import find, with_answers

        answers = find(raw, c.answers)
        if answers is None or not answers.answers:
            return dataset
        dataset, _, note = with_answers(dataset, answers)
        self.ctx.progress.log(f"note: {note}")  # said once, now; the report keeps it as gold_rows
        return dataset

    def _check_image_run(self, dataset: Dataset) -> None:
        """What an image run cannot do, said before anything is spent."""
        c = self.ctx.config
        if c.command == "zero-shot":
            require_text(dataset, "zero-shot")
        if c.human:
            raise AlchemistError(f"{dataset.root}: an image dataset has no human programs' votes (--human)")
        if c.command == "run" and c.mode == "alchemist-rag":
            raise AlchemistError("image runs take the concepts the knowledge LLM lists, not documents: use "
                                 "--mode alchemist or scriptoriumws")
        if c.command == "run" and c.mode == "alchemist" and c.knowledge_type not in IMAGE_KNOWLEDGE_TYPES:
            raise AlchemistError(f"knowledge type '{c.knowledge_type}' is for text; image runs take "
                                 f"{' or '.join(IMAGE_KNOWLEDGE_TYPES)} (--knowledge-type)")
        if c.features not in ("auto", "clip"):
            self.ctx.warn(f"--features {c.features} is for text: an image run's distilled model reads "
                          "CLIP image embeddings")
