"""The interactive wizard: `python main.py` asks a few questions, shows the estimated cost, runs.

Questions, in order: what to do (new run, or re-apply a previous run's programs for free); dataset
(built-in task or your own file); the task in your own words; mode; code LLM; for Alchemist the
knowledge LLM and knowledge type; the number of programs; then a summary with the estimated cost and
a confirmation. Answers are remembered for next time. The run itself is the same `RunConfig` the
command-line flags build, handed to the same `Executor`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from questionary import Choice

from alchemist.cli import questions as ask
from alchemist.core.errors import AlchemistError
from alchemist.core.files import atomic_write_json
from alchemist.core.safe_text import clean
from alchemist.data.datasets import EvalSplit, load_dataset, presence, split_for_evaluation
from alchemist.data.images import csv_image_column, find_image_datasets, is_image_folder
from alchemist.data.readers import Columns, columns_of, find_split_file
from alchemist.data.tasks import builtin_card, builtin_names
from alchemist.generate.estimate import estimate_run
from alchemist.generate.prompts import IMAGE_KNOWLEDGE_TYPES, KNOWLEDGE_TYPES, TaskPrompts, pick_examples, sample_rows
from alchemist.images import concepts as concept_files
from alchemist.llm.catalogue import ModelSpec, destinations
from alchemist.pipeline.run_config import MAX_CONCURRENCY, MAX_REFINE_ROUNDS, RunConfig, reapply_config, run_config
from alchemist.pipeline.settings import Settings

OWN_DATA = "__own__"
MODES = [("scriptoriumws", "ScriptoriumWS — the code LLM writes each program from the task"),
         ("alchemist", "Alchemist without RAG — a knowledge LLM writes prior knowledge first, then the code LLM"),
         ("alchemist-rag", "Alchemist with RAG — the knowledge LLM reads your own documents first")]
TWO_STAGE = ("alchemist", "alchemist-rag")
KNOWLEDGE_HELP = {"rules": "labeling rules and heuristics", "keywords": "keywords and phrases per class",
                  "description": "a description of the data and each class",
                  "examples": "5 labeled examples per class from your train/valid rows, analysed into rules"}


@dataclass
class Answers:
    dataset: str = "youtube"
    own_path: str = ""
    text_column: str = "text"
    label_column: str = "label"
    classes: str = ""
    descriptions: dict[str, str] = field(default_factory=dict)  # per dataset, as last written
    mode: str = "alchemist"
    code_model: str = ""
    knowledge_model: str = ""
    knowledge_type: str = "rules"
    rag_paths: str = ""  # comma-separated files or folders
    num_programs: int = 10
    refine_rounds: int = 1
    concurrency: int = 8  # advanced: LLM requests in flight
    max_cost: str = ""  # advanced: the budget cap in dollars ("" for none)
    embedding_model: str = ""  # advanced: a sentence-transformers model for the embedding features ("": MiniLM)
    device: str = "auto"  # advanced: where embeddings and CLIP run
    group_column: str = ""  # image CSVs: group column(s) for worst-group accuracy
    clip_model: str = "openai/clip-vit-base-patch32"
    concepts_file: str = ""  # image runs: "" lets the knowledge LLM list the concepts
    silver: int = 0  # data without gold: rows the code LLM labels for the choices (0: none)

    @property
    def dataset_arg(self) -> str:
        return self.own_path if self.dataset == OWN_DATA else self.dataset


def _state_file(settings: Settings) -> Path:
    return settings.cache_root / "wizard_last.json"


def load_answers(settings: Settings) -> Answers:
    d = settings.defaults
    answers = Answers(mode=d["mode"], code_model=d["code_model"], knowledge_model=d["knowledge_model"],
                      knowledge_type=d["knowledge_type"], num_programs=d["num_programs"],
                      refine_rounds=d.get("refine_rounds", 1), concurrency=d.get("concurrency", 8),
                      max_cost="" if d.get("max_cost") is None else str(d["max_cost"]),
                      embedding_model=d.get("embedding_model") or "", device=d.get("device") or "auto")
    try:
        saved = json.loads(_state_file(settings).read_text(encoding="utf-8"))
        for key, value in saved.items():
            if key in Answers.__dataclass_fields__ and isinstance(value, type(getattr(answers, key))):
                setattr(answers, key, value)
    except (OSError, ValueError):
        pass  # no (or an unreadable) memory of the last run: defaults
    return answers


def save_answers(settings: Settings, answers: Answers) -> None:
    try:
        atomic_write_json(_state_file(settings), asdict(answers))
    except OSError:
        pass  # remembering is a convenience, never a reason to fail


# --- questions -------------------------------------------------------------------------------------
def ask_dataset(answers: Answers, data_dir: Path) -> tuple[Answers, object]:
    from alchemist.core.progress import make_progress
    from alchemist.data.download.fetch import download  # the Hub client only once used
    from alchemist.data.download.sources import download_command, load_sources

    sources, fetch = load_sources(), "__download__"

    def ask_download(missing: list[str]) -> str | None:
        """A missing built-in dataset: its size and source first, a confirmation, then the download (checked
        before anything is written). Its name, or None to go back to the dataset menu."""
        name = ask.select("Which dataset should be downloaded?",
                          [*(Choice(f"{n:8s} {sources[n].size_text:>16s}  {sources[n].title}", n) for n in missing),
                           Choice("(back)", "")])
        src = sources.get(name)
        if src is None or not ask.confirm(f"Download {name} ({src.size_text}, from Hugging Face {src.repo}) "
                                          f"into {data_dir / name}?", "Yes, download it", "No, go back"):
            return None
        print(f"  {download(name, data_dir, sources=sources, progress=make_progress())}")
        return name

    while True:
        choices, missing = [], []  # missing: not on disk, and fetched for the user when asked
        for name in builtin_names():
            card = builtin_card(name)
            label = f"{name:8s} {card.item}: {', '.join(card.classes)}"
            found, status = presence(name, data_dir)
            if not found and name in sources and not sources[name].manual:
                missing.append(name)
            how = (f"`{download_command(name)}` prints the steps (a Kaggle account is needed)"
                   if name in sources and sources[name].manual else
                   f"choose 'Download a built-in dataset' below, or run `{download_command(name)}`")
            choices.append(Choice(label, name, disabled=None if found else f"{status}; {how}"))
        choices.append(Choice("demo     bundled demo data: video comments, ham or spam", "demo"))
        for path, what in find_image_datasets(data_dir):
            choices.append(Choice(f"{path.parent.name if path.is_file() else path.name:8s} {what}", str(path)))
        if missing:  # its label names no dataset, so typing a name still points at that dataset
            choices.append(Choice("Download a built-in dataset (its size is shown first)", fetch))
        choices.append(Choice("My own data (a CSV or JSONL file, a folder of train/valid/test files, or images: "
                              "class folders or a CSV of image paths)", OWN_DATA))
        answers.dataset = ask.select("Which dataset?", choices, default=answers.dataset)
        try:
            if answers.dataset == fetch:
                answers.dataset = ask_download(missing) or fetch
                if answers.dataset == fetch:
                    continue
            if answers.dataset != OWN_DATA and csv_image_column(Path(answers.dataset), None):
                answers.own_path, answers.dataset = answers.dataset, OWN_DATA  # its columns are asked
                return answers, _ask_image_csv(answers)
            if answers.dataset != OWN_DATA:
                return answers, load_dataset(answers.dataset, data_dir)
            return answers, _ask_own_data(answers)
        except AlchemistError as e:
            print(f"  That data cannot be used: {e}")


def _ask_own_data(answers: Answers):
    def exists(path: str) -> str:
        return "" if Path(path.strip()).expanduser().exists() else "no such file or folder"

    answers.own_path = ask.text("Path to your data (CSV, JSONL, or a folder):", answers.own_path, exists).strip()
    path = Path(answers.own_path).expanduser()
    if is_image_folder(path):
        answers.group_column = ""  # class folders have no columns
        return load_dataset(answers.own_path)
    if csv_image_column(path, None):
        return _ask_image_csv(answers)
    columns = _own_columns(path)
    if columns:  # offered from the file itself: a column that is not there cannot be chosen
        answers.text_column = ask.select("Which column holds the text?", [Choice(c, c) for c in columns],
                                         default=answers.text_column if answers.text_column in columns else
                                         next((c for c in columns if c.lower() in ("text", "review", "comment")),
                                              columns[0]))
        label_choices = [Choice("(none: the data is unlabeled)", "")] + [
            Choice(c, c) for c in columns if c != answers.text_column]
        answers.label_column = ask.select("Which column holds the labels?", label_choices,
                                          default=answers.label_column if answers.label_column in columns else
                                          next((c for c in columns if c.lower() in ("label", "labels", "class")),
                                               ""))
    answers.classes = ask.text("Class names in id order, comma-separated (empty: learn them from the labels):",
                               answers.classes).strip()
    classes = [c.strip() for c in answers.classes.split(",") if c.strip()] or None
    return load_dataset(answers.own_path, columns=Columns(answers.text_column, answers.label_column or None),
                        classes=classes)


def _ask_image_csv(answers: Answers):
    """A CSV of image paths: which column holds the paths, the labels, the groups (Waterbirds: y and place)."""
    path = Path(answers.own_path).expanduser()
    columns = columns_of(path)
    answers.text_column = ask.select("Which column holds the image paths?", [Choice(c, c) for c in columns],
                                     default=csv_image_column(path, answers.text_column))
    others = [c for c in columns if c != answers.text_column]
    answers.label_column = ask.select("Which column holds the labels?",
                                      [Choice("(none: the images are unlabeled)", "")] + [Choice(c, c) for c in others],
                                      default=answers.label_column if answers.label_column in others else
                                      next((c for c in others if c.lower() in ("label", "y", "class")), ""))

    def known(text: str) -> str:
        missing = [c for c in (x.strip() for x in text.split(",")) if c and c not in columns]
        return f"no column {', '.join(missing)} (columns: {', '.join(columns)})" if missing else ""

    answers.group_column = ask.text("Group column(s) for worst-group accuracy, comma-separated (e.g. y,place; "
                                    "empty: none):", answers.group_column, known).strip()
    answers.classes = ask.text("Class names in id order, comma-separated (empty: learn them from the labels):",
                               answers.classes).strip()
    return load_dataset(answers.own_path, columns=Columns(answers.text_column, answers.label_column or None,
                                                          answers.group_column or None),
                        classes=[c.strip() for c in answers.classes.split(",") if c.strip()] or None)


def ask_images(answers: Answers) -> Answers:
    """Image runs: the CLIP model, and where the concepts come from."""
    answers.clip_model = ask.text("Which CLIP model scores the images? (a Hugging Face name, downloaded once, or a "
                                  "local folder)", answers.clip_model,
                                  lambda t: "" if t.strip() else "give a model name or a folder").strip()
    source = ask.select("Where do the concepts come from?", [
        Choice("The knowledge LLM lists them per class (you see and can edit them before programs are written)", "llm"),
        Choice("A concepts.json file (a JSON list of strings)", "file")],
        default="file" if answers.concepts_file else "llm")
    answers.concepts_file = ""
    if source == "file":
        def readable(text: str) -> str:
            try:
                concept_files.load(Path(text.strip()).expanduser())
            except AlchemistError as e:
                return str(e)
            return ""

        answers.concepts_file = ask.text("Path to the concepts file:", "", readable).strip()
    return answers


def edit_concepts(concepts: list[str]) -> list[str]:
    """Show the concepts before any program is written; use them, edit them in $EDITOR, or type them anew."""
    import tempfile

    while True:
        print("\nConcepts every image will be scored against (the programs read these scores):")
        for i, concept in enumerate(concepts, 1):
            print(f"  {i:2d}. {clean(concept, 100)}")
        what = ask.select("Use these concepts?", [Choice("Use them", "use"),
                                                  Choice("Edit them in $EDITOR (one per line)", "edit"),
                                                  Choice("Type the list again (comma-separated)", "type")])
        if what == "use":
            return concepts
        if what == "edit":
            with tempfile.TemporaryDirectory(prefix="alchemist-concepts-") as folder:
                path = Path(folder) / "concepts.txt"
                path.write_text("\n".join(concepts) + "\n", encoding="utf-8")
                if failed := ask.open_in_editor(path):
                    print(f"  {failed}")
                    continue
                edited = concept_files.tidy(path.read_text(encoding="utf-8", errors="replace").splitlines())
        else:
            edited = concept_files.tidy(ask.text("Concepts, comma-separated:", ", ".join(concepts)).split(","))
        if len(edited) < 2:
            print("  At least two concepts are needed; the list was kept as it was.")
            continue
        concepts = edited


def _own_columns(path: Path) -> list[str]:
    """The columns of a CSV/JSONL file, or of the train file in a folder ([] for WRENCH JSON)."""
    if path.is_dir():
        path = find_split_file(path, "train") or path
    return columns_of(path) if path.is_file() else []


def _model_choices(models: dict[str, ModelSpec]) -> list[Choice]:
    choices = []
    for spec in models.values():
        price = f"${spec.input_per_1m:g} / ${spec.output_per_1m:g} per 1M tokens in/out"
        label = f"{spec.name:26s} {spec.provider:17s} {price}"
        needs_key = spec.provider != "openai-compatible" or spec.api_key_env
        missing = needs_key and not os.environ.get(spec.key_env)
        choices.append(Choice(label, spec.name, disabled=f"{spec.key_env} not set" if missing else None))
    return choices


def ask_models(answers: Answers, models: dict[str, ModelSpec], two_stage: bool, images: bool = False) -> Answers:
    choices = _model_choices(models)
    if all(c.disabled for c in choices):
        raise AlchemistError("no model has its API key set: put OPENAI_API_KEY or ANTHROPIC_API_KEY in .env "
                             "(see .env.example), or add a local openai-compatible model to config.json")
    answers.code_model = ask.select("Which LLM writes the programs (code LLM)?", choices, default=answers.code_model)
    if two_stage or images:
        code, known = models.get(answers.code_model), models.get(answers.knowledge_model)
        same_place = known is not None and code is not None and (known.provider, known.endpoint()) == (
            code.provider, code.endpoint())  # never suggest sending the data somewhere the code model does not
        answers.knowledge_model = ask.select(
            "Which LLM " + ("lists the concepts" + (" and writes the prior knowledge" if two_stage else "")
                            if images else "writes the prior knowledge") + " (knowledge LLM)?",
            choices, default=answers.knowledge_model if same_place else answers.code_model)
    if two_stage:
        kinds = IMAGE_KNOWLEDGE_TYPES if images else KNOWLEDGE_TYPES
        answers.knowledge_type = ask.select(
            "What kind of prior knowledge?", [Choice(f"{k:12s} {KNOWLEDGE_HELP[k]}", k) for k in kinds],
            default=answers.knowledge_type if answers.knowledge_type in kinds else kinds[0])
    return answers


def _split_paths(text: str) -> list[Path]:
    return [Path(p.strip()).expanduser() for p in text.split(",") if p.strip()]


def _paths_exist(text: str) -> str:
    """Asked now, not after "Run it": the paths must hold at least one document the RAG mode can read."""
    from alchemist.generate.rag import documents_problem

    paths = _split_paths(text)
    if not paths:
        return "give at least one file or folder"
    return documents_problem(paths)


def _whole(low: int, high: int, example: int, what: str = "") -> Callable[[str], str]:
    """A validator for a whole number from low to high ("" when fine, else what to type)."""
    def check(text: str) -> str:
        try:
            n = int(text.strip())
        except ValueError:
            return f"type a whole number, e.g. {example}"
        return "" if low <= n <= high else f"choose between {low} and {high}{' ' + what if what else ''}"

    return check


_count = _whole(1, 100, 10, "programs")
_rounds = _whole(0, MAX_REFINE_ROUNDS, 1, "rounds")
_in_flight = _whole(1, MAX_CONCURRENCY, 8)


def _dollars(text: str) -> str:
    if not text.strip():
        return ""
    try:
        return "" if float(text) > 0 else "a budget must be more than $0 (leave it empty for none)"
    except ValueError:
        return "type a number of dollars, e.g. 0.50, or leave it empty for no cap"


def ask_advanced(answers: Answers) -> Answers:
    """Settings most people leave alone (their defaults come from config.json)."""
    answers.concurrency = int(ask.text(
        "How many LLM requests in flight at once? (programs are written side by side; fewer are sent while the "
        "provider answers 429)", str(answers.concurrency), _in_flight))
    answers.max_cost = ask.text("Budget cap in dollars for this run (empty: none)?", answers.max_cost,
                                _dollars).strip()
    answers.embedding_model = ask.text(
        "Embedding model for the distilled model (a sentence-transformers name on Hugging Face, downloaded once, "
        "or a folder; empty: the bundled all-MiniLM-L6-v2)?", answers.embedding_model).strip()
    answers.device = ask.select("Where should embeddings run?", [
        Choice("auto: a CUDA GPU if there is one, then Apple's MPS, then the CPU", "auto"),
        Choice("cpu", "cpu"), Choice("cuda", "cuda"), Choice("mps", "mps")], default=answers.device)
    return answers


def ask_run(answers: Answers, settings: Settings, data_dir: Path):
    """Every question of a new run; returns the answers and the loaded dataset."""
    answers, dataset = ask_dataset(answers, data_dir)
    key = answers.dataset_arg
    default = (answers.descriptions.get(key) or dataset.card.description
               or f"Classify each {dataset.card.item} into one of: {', '.join(dataset.card.classes)}.")
    answers.descriptions[key] = ask.text(
        "Describe the dataset and the labeling task in your own words (it goes into every prompt):",
        default, lambda t: "" if t.strip() else "a description is needed").strip()
    images = dataset.modality == "image"
    answers.silver = 0 if images else ask_gold(dataset)
    if images:
        answers = ask_images(answers)
    modes = [(n, label) for n, label in MODES if not (images and n == "alchemist-rag")]  # images: concepts, not documents
    answers.mode = ask.select("Which mode?", [Choice(label, name) for name, label in modes],
                              default=answers.mode if answers.mode in dict(modes) else "alchemist")
    if answers.mode == "alchemist-rag":
        answers.rag_paths = ask.text(
            "Your documents (a file or folder; several separated by commas — .txt .md .pdf .csv .html .json):",
            answers.rag_paths, _paths_exist).strip()
    answers = ask_models(answers, settings.models, two_stage=answers.mode in TWO_STAGE, images=images)
    answers.num_programs = int(ask.text("How many labeling programs?", str(answers.num_programs), _count))
    answers.refine_rounds = int(ask.text(
        "How many refinement rounds? (weak programs are shown valid rows they got wrong and rewritten; 0: none)",
        str(answers.refine_rounds), _rounds))
    return answers, dataset


def _no_gold_note(dataset, config: RunConfig) -> str:
    """What the run scores on when the data has no gold labels: a person's answers, silver rows, or nothing."""
    from alchemist.annotation.answers import AnswersError, default_path, read

    path = default_path(dataset.name)
    try:
        answers = read(path) if path.exists() else None
    except AnswersError as e:
        return f"your answers cannot be used ({e})"
    if answers is not None and answers.by_pool("random"):
        return (f"{len(answers.by_pool('random'))} random answers in {path} are the valid split"
                + (f"; {len(answers.by_pool('chosen'))} chosen ones train the distilled model" if answers.by_pool("chosen") else ""))
    if config.silver:
        return f"no gold labels: {config.code_model} labels {config.silver} rows first (silver, for the choices only)"
    return "your data has no gold labels: the run labels your rows but can score nothing"


def ask_gold(dataset) -> int:
    """Data without gold labels: label some rows now, have the LLM label some (silver), or go on; returns
    the number of silver rows (0 for none)."""
    from alchemist.annotation.answers import default_path

    if any(split.has_labels for split in dataset.splits.values()):
        return 0
    have = default_path(dataset.name)
    pick = ask.select(
        "Your data has no gold labels: nothing can be scored, vetted or chosen on them. Make some?"
        + (f" ({have} holds answers already: the run will use them)" if have.exists() else ""), [
            Choice("Label some rows myself now (one at a time, about 5 s a row, each saved at once)", "annotate"),
            Choice("Have the code LLM label 100 rows, for the choices only (silver; priced with the run)", "silver"),
            Choice("Go on without", "none")])
    if pick == "annotate":
        from alchemist.cli.annotate import annotate_now

        annotate_now(dataset)
    return 100 if pick == "silver" else 0


def config_for(answers: Answers, settings: Settings, data_dir: Path, out: Path | None,
               images: bool = False) -> RunConfig:
    two_stage = answers.mode in TWO_STAGE
    own = answers.dataset == OWN_DATA
    image_choices = dict(clip_model=answers.clip_model, group_column=(answers.group_column or None) if own else None,
                         concepts_path=Path(answers.concepts_file).expanduser() if answers.concepts_file else None)
    return run_config(
        settings, dataset=answers.dataset_arg, data_dir=data_dir, out_dir=out, mode=answers.mode,
        code_model=answers.code_model,
        knowledge_model=answers.knowledge_model if two_stage or images else settings.defaults["knowledge_model"],
        knowledge_type=answers.knowledge_type if two_stage else settings.defaults["knowledge_type"],
        num_programs=answers.num_programs, refine_rounds=answers.refine_rounds, silver=answers.silver,
        concurrency=answers.concurrency, max_cost=float(answers.max_cost) if answers.max_cost else None,
        embedding_model=answers.embedding_model or None, device=answers.device,
        description=answers.descriptions.get(answers.dataset_arg),
        text_column=answers.text_column if own else "text",
        label_column=(answers.label_column or None) if own else "label",
        classes=[c.strip() for c in answers.classes.split(",") if c.strip()] or None if own else None,
        rag_paths=_split_paths(answers.rag_paths) if answers.mode == "alchemist-rag" else [],
        **(image_choices if images else {}))


def summary(config: RunConfig, settings: Settings, dataset) -> str:
    code = settings.models[config.code_model]
    knowledge = settings.models[config.knowledge_model] if config.mode in TWO_STAGE else None
    examples = pick_examples(dataset) if knowledge and config.knowledge_type == "examples" else ""
    est = estimate_run(TaskPrompts(dataset.card, config.description, sample_rows(dataset, config.prompt_rows)), code, knowledge, config.knowledge_type,
                       config.num_programs, config.max_output_tokens, examples,
                       tokenizer_dir=settings.cache_root / "tiktoken", refine_rounds=config.refine_rounds)
    scored, note = split_for_evaluation(dataset, EvalSplit(config.split_valid, config.split_test, config.split_seed))
    if not any(split.has_labels for split in dataset.splits.values()):
        note = _no_gold_note(dataset, config)
    lines = [
        "", "Summary",
        f"  dataset:        {config.dataset} ({len(scored.train)} training rows; classes "
        f"{', '.join(dataset.card.classes)})",
        *([f"  evaluation:     {note}"] if note else []),
        f"  mode:           {config.mode}",
        f"  code LLM:       {code.name}",
    ]
    if knowledge:
        lines.append(f"  knowledge LLM:  {knowledge.name} ({config.knowledge_type})")
    lines.append(f"  data sent to:   {destinations([code, knowledge], config.base_url)} (your task description "
                 "and sample rows" + (", excerpts of your documents" if config.rag_paths else "") + ")")
    if dataset.modality == "image":
        lines += [f"  images:         CLIP {config.clip_model} scores each image against the concepts (the images "
                  "are embedded once and cached)",
                  "  concepts:       " + (f"from {config.concepts_path}" if config.concepts_path else
                                          f"{config.concepts_per_class} per class, listed by "
                                          f"{config.knowledge_model} (one more call; shown to you first)")]
    if config.rag_paths:
        lines.append(f"  documents:      {', '.join(map(str, config.rag_paths))} (embedded locally, top "
                     f"{config.top_k} chunks per program)")
    lines += [
        f"  programs:       {config.num_programs}"
        + (f", then {config.refine_rounds} refinement round(s) for weak ones" if config.refine_rounds else ""),
        f"  LLM calls:      {est.calls} (up to {est.max_calls} if every program needs its repair request"
        + (" and is refined" if config.refine_rounds else "") + ")",
        f"  estimated cost: about ${est.typical_usd:.4f}; at most ${est.worst_usd:.4f} "
        "(every reply at the output limit, every program repaired" + (" and refined)" if config.refine_rounds else ")"),
        f"  in flight:      up to {config.concurrency} LLM requests at once"
        + (f"; budget cap ${config.max_cost:g}" if config.max_cost else "; no budget cap"),
        f"  written to:     {(config.out_dir or config.saved_dir) / dataset.name / config.mode}/<run-id>/",
        "",
    ]
    return "\n".join(lines)


# --- re-use -----------------------------------------------------------------------------------------
def previous_runs(saved_dir: Path, limit: int = 20) -> list[tuple[Path, dict]]:
    """Run folders with a readable manifest, newest first."""
    found = []
    for manifest in saved_dir.glob("*/*/*/manifest.json"):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("programs"):
            found.append((manifest.stat().st_mtime, manifest.parent, data))
    found.sort(key=lambda t: t[0], reverse=True)
    return [(path, data) for _, path, data in found[:limit]]


def ask_reuse(runs: list[tuple[Path, dict]],
              question: str = "Which run's programs (edit them first if you like)?") -> tuple[Path, dict]:
    choices = []
    for path, data in runs:
        programs = data.get("programs", [])
        ok = sum(p.get("status") == "ok" for p in programs)
        cost = data.get("totals", {}).get("cost_usd", 0)
        label = (f"{data.get('dataset', '?')} / {data.get('mode', '?')} / {path.name}: {len(programs)} programs "
                 f"({ok} ok), ${cost:.4f}, {data.get('status', '?')}")
        choices.append(Choice(label, str(path)))
    chosen = Path(ask.select(question, choices))
    return chosen, dict(runs)[chosen]


# --- the whole conversation ------------------------------------------------------------------------
def converse(settings: Settings, data_dir: Path, out: Path | None) -> RunConfig | Path:
    """The first menu, then its questions: a RunConfig to execute, or a run folder to review. The wizard
    comes back here after every run, so one session can run, review, fix and re-run."""
    answers = load_answers(settings)
    runs = previous_runs(out or settings.saved_dir)
    if runs:
        what = ask.select("What would you like to do?", [
            Choice("Start a new labeling run", "new"),
            Choice("Review a run's programs: how each did; edit, turn off or fix them", "review"),
            Choice("Re-apply a previous run's programs (no LLM calls, $0)", "reuse"),
            Choice("Exit", "exit")], default="new")
        if what == "exit":
            raise ask.WizardExit()
        if what == "review":
            return ask_reuse(runs, "Which run's programs?")[0]
        if what == "reuse":
            path, _ = ask_reuse(runs)
            return reapply_config(settings, path, data_dir)  # the data, columns and splits the run recorded
    while True:
        answers, dataset = ask_run(answers, settings, data_dir)
        images = dataset.modality == "image"
        config = config_for(answers, settings, data_dir, out, images)
        print(summary(config, settings, dataset))
        go = [Choice("Run it", "run"), Choice("Change my answers", "change"),
              Choice("Advanced settings (requests in flight, budget cap)", "advanced")]
        choice = ask.select("Go ahead?", go)
        while choice == "advanced":
            answers = ask_advanced(answers)
            config = config_for(answers, settings, data_dir, out, images)
            print(summary(config, settings, dataset))
            choice = ask.select("Go ahead?", go)
        if choice == "run":
            save_answers(settings, answers)
            return config
