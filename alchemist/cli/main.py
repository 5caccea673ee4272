"""Alchemist command line.

    python main.py                               the interactive wizard
    python main.py datasets                      list the built-in tasks and where their data is
    python main.py apply PROGRAMS_DIR --dataset NAME   apply saved programs, aggregate, distill, report
    python main.py apply --human --dataset NAME  the same with the dataset's own human-written votes
    python main.py run --dataset NAME --mode alchemist  an LLM writes the programs, then they are applied
    python main.py predict RESULTS_DIR --text "..."    label new text with a run's distilled model
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from alchemist.core.errors import AlchemistError, run_command

if TYPE_CHECKING:
    from alchemist.pipeline.run_config import RunConfig
EPILOG = "Type `python main.py COMMAND --help` for a command's options."


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _add_data_options(p: argparse.ArgumentParser, required: bool = True) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--dataset", required=required, metavar="NAME|PATH",
                   help="a built-in task (see `main.py datasets`), or a CSV/JSONL file or a folder of "
                        "train/valid/test files of your own"
                        + ("" if required else "; without it, `apply RUN_DIR` uses the data (file, columns, "
                                               "classes, data folder, splits) recorded in the run's manifest"))
    g.add_argument("--data-dir", metavar="DIR",
                   help="folder holding the built-in datasets (default: $ALCHEMIST_DATA_DIR, else "
                        "config.json's data_dir)")
    g.add_argument("--text-column", default="text", metavar="COL", help="text column of CSV/JSONL data (default: text)")
    g.add_argument("--label-column", default="label", metavar="COL",
                   help="label column of CSV/JSONL data, if any (default: label; unlabeled data is fine)")
    g.add_argument("--classes", metavar="A,B,...", help="class names in id order, for your own data")
    g.add_argument("--task-card", metavar="FILE", help="task card JSON for your own data (default: task.json beside it)")
    i = p.add_argument_group("images (a folder of train/valid/test class folders, or a CSV of image paths: "
                             "docs/images.md)")
    i.add_argument("--clip-model", metavar="NAME|DIR",
                   help="the CLIP model that scores images against concepts and embeds them for the distilled "
                        "model: a Hugging Face name (downloaded once) or a local folder, which works offline "
                        "(default: openai/clip-vit-base-patch32)")
    i.add_argument("--concepts", metavar="FILE",
                   help="concepts.json (a JSON list of strings) to score images against; default for apply: the "
                        "one saved beside the programs; for run: the knowledge LLM lists them")
    i.add_argument("--group-column", metavar="COL[,COL]",
                   help="group column(s) of an image CSV, for worst-group accuracy (default: group, if present; "
                        "Waterbirds: y,place)")


def _add_apply_options(p: argparse.ArgumentParser, defaults: dict, out_help: str) -> None:
    from alchemist.core.choices import FEATURES, LABEL_MODELS

    g = p.add_argument_group("labeling")
    g.add_argument("--label-model", choices=LABEL_MODELS, default=defaults["label_model"],
                   help=f"how votes are combined: auto picks the best of snorkel (class balance from valid), "
                        f"majority and weighted (votes weighted by valid accuracy) on valid "
                        f"(default: {defaults['label_model']}; majority vote is always reported too)")
    g.add_argument("--no-vetting", action="store_true",
                   help="keep every program that runs in the label model (by default, duplicates, programs that "
                        "vote on nothing and ones no better than chance on valid are left out, with the reason)")
    g.add_argument("--features", choices=FEATURES,
                   default=defaults.get("features", "auto"),
                   help="what the distilled classifier reads: tfidf (TF-IDF + MLP), embeddings (MiniLM sentence "
                        "embeddings, computed once per dataset and cached, + logistic regression), combined (both, "
                        "+ logistic regression), or auto: the best on valid "
                        f"(default: {defaults.get('features', 'auto')})")
    g.add_argument("--seeds", type=_positive_int, default=defaults["seeds"],
                   help=f"seeds of the distilled MLP; test score is mean ± std (default: {defaults['seeds']})")
    g.add_argument("--json", metavar="PATH", help="also write the JSON report to PATH")
    g.add_argument("--out", metavar="DIR", help=out_help)
    s = p.add_argument_group("sandbox")
    s.add_argument("--timeout", type=_positive_float, default=defaults["row_timeout_s"], metavar="SECONDS",
                   help=f"CPU seconds one program may spend on one row before it abstains (default: {defaults['row_timeout_s']})")
    s.add_argument("--memory-mb", type=_positive_int, default=defaults["memory_mb"],
                   help=f"memory limit of each sandbox worker (default: {defaults['memory_mb']})")
    s.add_argument("--workers", type=int, default=defaults["workers"],
                   help="sandbox worker processes (default: 0 = one per core)")
    s.add_argument("--chunk-rows", type=_positive_int, default=defaults["chunk_rows"],
                   help=f"rows sent to a worker at a time (default: {defaults['chunk_rows']})")
    s.add_argument("--program-budget", type=_positive_float, default=defaults["program_budget_s"], metavar="SECONDS",
                   help="wall-clock time one program may take over the whole apply, at least; more on big data: "
                        f"{defaults['program_budget_ms_per_row']:g} ms per row (default: "
                        f"{defaults['program_budget_s']:g}). A slower program is stopped, and reported")
    s.add_argument("--backend", choices=("local", "dask"), default="local",
                   help="local: sandbox workers on this machine (default); dask: the same sandboxed evaluation "
                        "inside Dask workers, over partitions (a Parquet/CSV --dataset is then read by Dask "
                        "partition by partition, never whole)")
    s.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a "
                                                          "LocalCluster with one process per core)")
    s.add_argument("--partition-rows", type=_positive_int, default=50_000, metavar="N",
                   help="rows per Dask task for data in memory (default: 50000)")
    s.add_argument("--no-column-cache", action="store_true",
                   help="run every program again, even unchanged ones on unchanged data")


def _add_llm_options(g, defaults: dict) -> None:
    """How LLM calls are made: shared by `run` and `zero-shot`."""
    g.add_argument("--description", metavar="TEXT", help="the task in your own words (default: the task card's)")
    g.add_argument("--base-url", metavar="URL", help="send the provider's requests to this server (passed to the "
                   "SDK as is; OPENAI_BASE_URL / ANTHROPIC_BASE_URL work too)")
    g.add_argument("--offline", action="store_true", help="answer only from the response cache; fail on a miss")
    g.add_argument("--max-cost", type=_positive_float, metavar="USD", default=defaults.get("max_cost"),
                   help="stop before a call that could push the run's cost past USD")
    g.add_argument("--llm-timeout", type=_positive_float, default=defaults["llm_timeout_s"], metavar="SECONDS",
                   help=f"timeout of one API call (default: {defaults['llm_timeout_s']})")
    g.add_argument("--llm-retries", type=int, default=defaults["llm_retries"], metavar="N",
                   help=f"retries on rate limits, 5xx and timeouts, with backoff (default: {defaults['llm_retries']})")
    g.add_argument("--concurrency", type=_positive_int, default=defaults.get("concurrency", 8), metavar="N",
                   help="LLM requests in flight at once: programs are written side by side (each one's calls "
                        "stay in order), fewer while the provider answers 429 (default: "
                        f"{defaults.get('concurrency', 8)})")


def _llm_choices(args: argparse.Namespace) -> dict:
    return dict(description=args.description, base_url=args.base_url, offline=args.offline,
                max_cost=args.max_cost, llm_timeout_s=args.llm_timeout, llm_retries=max(0, args.llm_retries),
                concurrency=args.concurrency)


def _add_generation_options(p: argparse.ArgumentParser, defaults: dict) -> None:
    from alchemist.core.choices import KNOWLEDGE_TYPES, MODE_NAMES

    g = p.add_argument_group("generation")
    g.add_argument("--mode", choices=MODE_NAMES, default=defaults["mode"],
                   help=f"scriptoriumws: the code LLM writes each program; alchemist: a knowledge LLM first "
                        f"writes prior knowledge, then the code LLM writes from it; alchemist-rag: the same, with "
                        f"knowledge drawn from your documents (--rag-path) (default: {defaults['mode']})")
    g.add_argument("--code-model", default=defaults["code_model"], metavar="MODEL",
                   help=f"model that writes the programs, from config.json's catalogue (default: {defaults['code_model']})")
    g.add_argument("--knowledge-model", default=None, metavar="MODEL",
                   help="model that writes prior knowledge in alchemist mode (default: config.json's "
                        f"knowledge_model, {defaults['knowledge_model']})")
    g.add_argument("--knowledge-type", choices=KNOWLEDGE_TYPES, default=defaults["knowledge_type"],
                   help=f"kind of prior knowledge in alchemist mode (default: {defaults['knowledge_type']})")
    g.add_argument("--num-programs", type=_positive_int, default=defaults["num_programs"], metavar="N",
                   help=f"programs to write (default: {defaults['num_programs']})")
    _add_llm_options(g, defaults)
    g.add_argument("--temperature", type=float, default=defaults["temperature"],
                   help=f"sampling temperature, for models that take one (default: {defaults['temperature']})")
    g.add_argument("--max-output-tokens", type=_positive_int, default=defaults["max_output_tokens"], metavar="N",
                   help=f"reply length limit per call (default: {defaults['max_output_tokens']})")
    g.add_argument("--prompt-rows", type=int, default=defaults.get("prompt_rows", 8), metavar="N",
                   help="unlabeled training rows shown to the code LLM so programs match how the data looks "
                        f"(a fixed sample; never test rows; 0: none; default: {defaults.get('prompt_rows', 8)})")
    g.add_argument("--refine-rounds", type=int, default=defaults.get("refine_rounds", 1), metavar="N",
                   help="rounds in which each weak program (low accuracy or coverage on valid) is shown valid rows "
                        "it got wrong and asked for a better version; the better of old and new on the other half "
                        f"of valid is kept (0: none; at most 5; default: {defaults.get('refine_rounds', 1)})")
    g.add_argument("--concepts-per-class", type=_positive_int, default=8, metavar="N",
                   help="image runs: concepts the knowledge LLM lists per class (default: 8)")
    g.add_argument("--trial-rows", type=_positive_int, default=defaults["trial_rows"], metavar="N",
                   help=f"training rows each new program is trial-run on (default: {defaults['trial_rows']})")
    r = p.add_argument_group("documents (--mode alchemist-rag)")
    r.add_argument("--rag-path", action="append", default=[], metavar="PATH",
                   help="a document or a folder of them (.txt .md .pdf .csv .html .json); repeatable")
    r.add_argument("--chunk-size", type=_positive_int, default=1000, metavar="CHARS", help="chunk size (default: 1000)")
    r.add_argument("--chunk-overlap", type=int, default=150, metavar="CHARS", help="chunk overlap (default: 150)")
    r.add_argument("--top-k", type=_positive_int, default=4, metavar="K", help="chunks given to the knowledge LLM (default: 4)")
    r.add_argument("--embeddings", choices=("local", "openai"), default="local",
                   help="local: all-MiniLM-L6-v2 shipped in a package, offline (default); openai: text-embedding-3-small")


def build_parser(defaults: dict) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py", description="Alchemist: label data with LLM-written labeling programs.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    w = sub.add_parser("wizard", help="the interactive wizard (also what `python main.py` alone starts)")
    w.add_argument("--data-dir", metavar="DIR", help="folder holding the datasets")
    w.add_argument("--out", metavar="DIR", help="root of the run folders (default: LF_saved_dir, generated_lfs/)")

    d = sub.add_parser("datasets", help="list the built-in tasks, whether each is on disk, and get them (--download)",
                       description="List the built-in tasks and whether each is in the data folder; with --download, "
                                   "fetch them from the Hugging Face Hub (HF_ENDPOINT, HF_TOKEN are honoured), convert "
                                   "to the WRENCH layout and check them before anything is written (docs/download.md).")
    d.add_argument("--data-dir", metavar="DIR", help="folder holding the datasets")
    d.add_argument("--download", nargs="+", metavar="NAME",
                   help="download these built-in datasets (or `all`) into the data folder; cancer and reddit "
                        "need an account, so their steps are printed instead")
    d.add_argument("--from", dest="from_path", metavar="PATH",
                   help="with --download cancer or reddit: the file (or folder) you downloaded by hand, "
                        "converted and checked the same way")

    a = sub.add_parser("apply", help="apply saved labeling programs (or --human votes), aggregate, distill, report",
                       description="Apply labeling programs in the sandbox, combine their votes with a label "
                                   "model, distill a classifier and report.")
    a.add_argument("programs_dir", nargs="?", metavar="PROGRAMS_DIR", help="folder of lf_*.py programs")
    a.add_argument("--human", action="store_true",
                   help="use the dataset's own weak_labels (human-written programs' votes) instead of files")
    _add_data_options(a, required=False)
    _add_apply_options(a, defaults, "create the results folder under DIR (default: PROGRAMS_DIR/results/, "
                                    "or LF_saved_dir/<dataset>/human/ for --human)")

    r = sub.add_parser("run", help="have an LLM write labeling programs, then apply them (labels, model, report)",
                       description="Generate labeling programs with an LLM (saved with every prompt, reply, token "
                                   "and dollar in manifest.json), then apply them as `apply` does.")
    _add_data_options(r)
    _add_generation_options(r, defaults)
    _add_apply_options(r, defaults, "write the run under DIR/<dataset>/<mode>/<run-id>/ (default: LF_saved_dir "
                                    "from config.json, generated_lfs/)")

    z = sub.add_parser("zero-shot", help="the baseline: an LLM labels the rows directly (shows the estimate first)",
                       description="Label rows directly with an LLM (several rows per call, JSON answers parsed "
                                   "strictly), then report exactly as `run` does, to compare the two.")
    _add_data_options(z)
    zg = z.add_argument_group("zero-shot")
    zg.add_argument("--model", default=defaults["code_model"], help=f"the labeling model (default: {defaults['code_model']})")
    zg.add_argument("--limit", type=_positive_int, metavar="N", help="label at most N rows of each split (a fixed sample)")
    zg.add_argument("--batch-size", type=_positive_int, default=10, metavar="N", help="rows per call (default: 10)")
    zg.add_argument("--yes", action="store_true", help="skip the confirmation (needed when not on a terminal)")
    _add_llm_options(zg, defaults)
    _add_apply_options(z, defaults, "write the run under DIR/<dataset>/zero-shot/<run-id>/ (default: generated_lfs/)")

    m = sub.add_parser("demo", help="the whole flow offline, with recorded LLM replies (no key, no network)",
                       description="Run the whole flow on the bundled demo data with LLM replies recorded for the "
                                   "demo: no API key, no network.")
    m.add_argument("--out", metavar="DIR", help="root of the run folders (default: LF_saved_dir, generated_lfs/)")
    m.add_argument("--seeds", type=_positive_int, default=3, help="seeds of the distilled MLP (default: 3)")

    v = sub.add_parser("review", help="review a run's programs: how each did, edit, turn off, fix, re-apply",
                       description="The review screen of a run folder (also in the wizard): each program's status, "
                                   "coverage, valid accuracy and conflicts; its source, votes, valid mistakes and "
                                   "disagreements with the label model; edit in $EDITOR, turn off/on, ask the LLM "
                                   "for a fixed version, write more programs; re-apply and compare scores.")
    v.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (generated_lfs/<dataset>/<mode>/<run-id>)")

    p = sub.add_parser("predict", help="label new text (or images) with a run's distilled model")
    p.add_argument("results_dir", metavar="RESULTS_DIR",
                   help="a results folder (holds distilled_model.pkl), or a run folder (its newest results)")
    p.add_argument("--text", action="append", default=[], help="a text to label (repeatable)")
    p.add_argument("--image", action="append", default=[], metavar="PATH",
                   help="an image to label with an image run's model, or a folder of them (repeatable)")
    p.add_argument("--clip-model", metavar="NAME|DIR",
                   help="image runs: where the CLIP model is now, if it moved since the run (default: the run's)")
    p.add_argument("--input", metavar="FILE",
                   help="texts to label: a CSV or JSONL file (see --text-column), or plain text, one per line "
                        "(image runs: image paths, one per line or in a CSV column)")
    p.add_argument("--text-column", default="text", metavar="COL", help="text column of --input (default: text)")
    p.add_argument("--output", metavar="FILE",
                   help="write id,text,label,label_name,confidence CSV here (default: stdout)")
    return parser


def cmd_datasets(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from alchemist.data.datasets import presence
    from alchemist.data.images import find_image_datasets
    from alchemist.core.safe_text import clean
    from alchemist.data.download.fetch import run_downloads
    from alchemist.data.download.sources import download_command, how_to_get, load_sources
    from alchemist.data.tasks import builtin_card, builtin_names
    from alchemist.pipeline.settings import load_settings, resolve_data_dir
    data_dir = resolve_data_dir(args.data_dir, load_settings())
    flag = f" --data-dir {args.data_dir}" if args.data_dir else ""  # so the printed command gets the same folder
    if args.download:
        return run_downloads(args.download, data_dir, local=Path(args.from_path).expanduser() if args.from_path
                             else None, flag=flag)
    if args.from_path:
        raise AlchemistError("--from goes with --download cancer or --download reddit")
    sources = load_sources()
    table = Table(title=f"Built-in tasks (data folder: {data_dir})", title_justify="left")
    for col in ("task", "classes", "metric", "on disk", "how to get it"):
        table.add_column(col, overflow="fold")
    commands = []  # printed below the table, whole, so they can be copied
    for name in builtin_names():
        card = builtin_card(name)
        root, status = presence(name, data_dir)
        table.add_row(name, ", ".join(f"{i} {c}" for i, c in enumerate(card.classes)), card.metric, status,
                      "" if root else how_to_get(name, sources) or card.source.get("how_to_get", ""))
        if root is None and name in sources:
            manual = "   # prints the steps by hand" if sources[name].manual else ""
            commands.append(f"  {download_command(name, flag)}{manual}")
    console = Console(width=None if sys.stdout.isatty() else 160, markup=False)
    console.print(table)
    images = find_image_datasets(data_dir)
    if images:
        found = Table(title=f"Image datasets in {data_dir} (run them with --dataset PATH; docs/images.md)",
                      title_justify="left")
        for col in ("path", "what it holds"):
            found.add_column(col, overflow="fold")
        for path, what in images:
            found.add_row(clean(str(path), 300), clean(what, 300))
        console.print(found)
    if commands:
        print("To get a missing one (or all of them: --download all; see docs/download.md):", *commands, sep="\n")
    return 0


def config_from_args(args: argparse.Namespace, settings) -> RunConfig:
    """The RunConfig of an `apply` or `run` command line."""
    from alchemist.pipeline.run_config import RunConfig, run_config, sandbox_limits, split_defaults
    from alchemist.pipeline.settings import resolve_data_dir
    common = dict(
        dataset=args.dataset, data_dir=resolve_data_dir(args.data_dir, settings), label_model=args.label_model,
        seeds=args.seeds, json_path=Path(args.json) if args.json else None,
        out_dir=Path(args.out) if args.out else None, saved_dir=settings.saved_dir,
        text_column=args.text_column, label_column=args.label_column or None,
        classes=[c.strip() for c in args.classes.split(",")] if args.classes else None,
        task_card=Path(args.task_card) if args.task_card else None, column_cache=not args.no_column_cache,
        vetting=not args.no_vetting, features=args.features, group_column=args.group_column or None,
        concepts_path=Path(args.concepts).expanduser() if args.concepts else None,
        **({"clip_model": args.clip_model} if args.clip_model else {}),
        backend=args.backend, scheduler=args.scheduler, partition_rows=args.partition_rows,
        limits=sandbox_limits(settings.defaults, row_timeout_s=args.timeout, memory_mb=args.memory_mb,
                              workers=args.workers, chunk_rows=args.chunk_rows, budget_min_s=args.program_budget),
        **split_defaults(settings.defaults))
    if args.command == "apply":
        if args.human and args.programs_dir:
            raise AlchemistError("give either PROGRAMS_DIR or --human, not both")
        if not args.human and not args.programs_dir:
            raise AlchemistError("give a folder of programs (PROGRAMS_DIR) or --human")
        if args.dataset is None:
            common.update(_recorded_data(args, settings))
            common.update({k: v for k, v in (("clip_model", args.clip_model), ("group_column", args.group_column))
                           if v})  # flags given now win over the recorded ones
        return RunConfig(command="apply", programs_dir=Path(args.programs_dir) if args.programs_dir else None,
                         human=args.human, **common)
    if args.command == "zero-shot":
        return run_config(settings, **common, **_llm_choices(args), command="zero-shot", code_model=args.model,
                          limit=args.limit, batch_size=args.batch_size)
    return run_config(
        settings, **common, mode=args.mode, code_model=args.code_model,
        knowledge_model=args.knowledge_model or settings.defaults["knowledge_model"],
        knowledge_type=args.knowledge_type, num_programs=args.num_programs, **_llm_choices(args),
        temperature=args.temperature, max_output_tokens=args.max_output_tokens, trial_rows=args.trial_rows,
        prompt_rows=args.prompt_rows, refine_rounds=args.refine_rounds, concepts_per_class=args.concepts_per_class,
        rag_paths=[Path(p) for p in args.rag_path], chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap,
        top_k=args.top_k, embeddings=args.embeddings)


def _recorded_data(args: argparse.Namespace, settings) -> dict:
    """`apply RUN_DIR` without --dataset: the data the run recorded (--data-dir still overrides its folder)."""
    from alchemist.pipeline.run_config import recorded_data
    from alchemist.pipeline.settings import resolve_data_dir
    if args.human:
        raise AlchemistError("--human needs --dataset NAME (the dataset whose own votes to apply)")
    data_dir = resolve_data_dir(args.data_dir, settings)
    choices = recorded_data(Path(args.programs_dir), data_dir)
    if args.data_dir:
        choices["data_dir"] = data_dir
    return choices


def confirm_zero_shot(config, settings, yes: bool) -> None:
    """Show what the zero-shot labeling will cost and ask before spending (unless --yes)."""
    from alchemist.data.datasets import load_dataset, require_text, sample_splits
    from alchemist.data.readers import Columns
    from alchemist.llm.catalogue import get_model
    from alchemist.generate.prompts import TaskPrompts
    from alchemist.llm.tokens import TokenCounter
    from alchemist.generate.zero_shot import estimate

    spec = get_model(config.code_model, settings.models)
    dataset = sample_splits(require_text(load_dataset(config.dataset, config.data_dir, Columns(
        config.text_column, config.label_column), config.classes, config.task_card), "zero-shot"), config.limit)
    texts = [t for split in dataset.splits.values() for t in split.texts]
    est = estimate(TaskPrompts(dataset.card, config.description), spec, texts,
                   TokenCounter(spec, settings.cache_root / "tiktoken"), config.batch_size)
    print(f"Zero-shot labeling of {est.rows:,} rows ({', '.join(f'{n} {len(s)}' for n, s in dataset.splits.items())}) "
          f"with {spec.name}: {est.calls:,} calls, ≈{est.input_tokens:,} input tokens ({est.token_method}), "
          f"≈{est.output_tokens:,} output tokens ({est.output_assumption}): ≈${est.usd:.4f}", file=sys.stderr)
    if config.offline or yes:
        return
    if not sys.stdin.isatty():
        raise AlchemistError(f"not on a terminal: pass --yes to spend ≈${est.usd:.4f} on zero-shot labeling")
    answer = input("Proceed? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise KeyboardInterrupt


def cmd_apply(args: argparse.Namespace, settings) -> int:
    """`apply`, `run` and `zero-shot` share everything but how the votes are made."""
    from alchemist.core.progress import make_progress
    from alchemist.report.console import render
    from alchemist.pipeline.executor import Executor

    config = config_from_args(args, settings)
    if args.command == "zero-shot":
        try:
            confirm_zero_shot(config, settings, args.yes)
        except KeyboardInterrupt:
            print("Nothing was spent.", file=sys.stderr)
            return 0
    report = Executor(config, make_progress(), settings).run()
    render(report)
    return 0


def cmd_wizard(args: argparse.Namespace, settings) -> int:
    from alchemist.core.progress import make_progress
    from alchemist.report.console import render
    from alchemist.pipeline.settings import resolve_data_dir
    from alchemist.pipeline.executor import Executor

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise AlchemistError("the wizard needs an interactive terminal; for scripts use "
                             "`python main.py run --dataset NAME ...` (see `python main.py run --help`)")
    from alchemist.cli import review
    from alchemist.cli import wizard
    from alchemist.core.safe_text import clean
    from alchemist.cli.questions import WizardExit

    print("Alchemist — label data with LLM-written labeling programs. Type exit at any prompt to leave.\n")
    data_dir = resolve_data_dir(getattr(args, "data_dir", None), settings)
    out = Path(args.out) if getattr(args, "out", None) else None
    ran = False
    while True:  # back to the first menu after every run, review or re-apply
        try:
            chosen = wizard.converse(settings, data_dir, out)
            if isinstance(chosen, Path):
                review.review(chosen, settings, make_progress())
                continue
            executor = Executor(chosen, make_progress(), settings)
            executor.on_concepts = wizard.edit_concepts  # image runs: the concepts are shown, and may be edited
            report = executor.run()
        except WizardExit:
            print("Bye." if ran else "Bye — nothing was run.")
            return 0
        except AlchemistError as e:  # said, and asked again: the session goes on
            print(f"error: {clean(str(e), 1000)}")
            continue
        ran = True
        render(report)
        print(f"Report with plots: {Path(report['output_dir']) / 'report.html'}\n")


def cmd_review(args: argparse.Namespace, settings) -> int:
    from alchemist.core.progress import make_progress
    from alchemist.cli.questions import WizardExit

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise AlchemistError("review is interactive and needs a terminal; `python main.py apply RUN_DIR` "
                             "re-applies a run from a script")
    from alchemist.cli import review

    try:
        review.review(Path(args.run_dir), settings, make_progress())
    except WizardExit:
        pass
    return 0


def run_demo(out: Path | None = None, seeds: int = 3, base_url: str | None = None, record: bool = False) -> int:
    """The offline demo (`record=True` is used by datasets/demo/record_replies.py to re-record it)."""
    from alchemist.cli.demo import BANNER, DEMO_MODEL, DEMO_PROGRAMS, RECORDED_DIR
    from alchemist.llm.session import LLMError
    from alchemist.core.progress import make_progress
    from alchemist.report.console import render
    from alchemist.pipeline.run_config import RunConfig
    from alchemist.pipeline.settings import load_settings
    from alchemist.pipeline.executor import Executor

    settings = load_settings()
    settings.models = {**settings.models, DEMO_MODEL.name: DEMO_MODEL}
    settings.cache_dir = RECORDED_DIR
    # Built from RunConfig's fixed defaults, not config.json: the recorded replies are keyed on the exact
    # prompts and sampling parameters, so a user's config.json must not change what the demo asks.
    config = RunConfig(dataset="demo", command="run", mode="alchemist", code_model=DEMO_MODEL.name,
                       knowledge_model=DEMO_MODEL.name, knowledge_type="rules", num_programs=DEMO_PROGRAMS,
                       offline=not record, base_url=base_url, seeds=seeds, out_dir=out,
                       concurrency=1 if record else 8,  # recording plays a queue of replies: in order
                       saved_dir=settings.saved_dir)  # other caches go to settings.cache_root, never beside the replies
    if not record:
        print(BANNER, file=sys.stderr)
    try:
        report = Executor(config, make_progress(), settings).run()
    except LLMError as e:
        raise AlchemistError(f"{e} — the recorded demo replies no longer match the prompts; re-record them "
                             "with `python datasets/demo/record_replies.py`") from None
    render(report)
    if not record:
        print("This was the recorded demo: the LLM replies were replayed, not generated. For real runs see "
              "`python main.py run --help` or start the wizard with `python main.py`.", file=sys.stderr)
    return 0


def _read_texts(path: Path, column: str) -> tuple[list[str], list[str]]:
    from alchemist.data.readers import read_texts

    return read_texts(path, column)


def _model_path(folder: Path) -> Path:
    """The distilled model in a results folder, or in a run folder's newest results (said on stderr). A
    folder holding only a model saved by an earlier version gives that file: loading it says what to do."""
    from alchemist.distill.model import LEGACY_FILE, MODEL_FILE

    for name in (MODEL_FILE, LEGACY_FILE):
        if (folder / name).is_file():
            return folder / name
    if not folder.is_dir():
        return folder / MODEL_FILE
    found = sorted([*folder.glob(f"results/*/{MODEL_FILE}"), *folder.glob(f"results/*/{LEGACY_FILE}")],
                   key=lambda p: p.parent.name)
    if found:
        print(f"using the newest results of this run: {found[-1].parent}", file=sys.stderr)
        return found[-1]
    raise AlchemistError(f"{folder}: no distilled model here (it is saved in a results folder, "
                         f"RUN_DIR/results/<time>/{MODEL_FILE}, once a run has trained one)")


def _input_texts(path: Path, column: str) -> tuple[list[str], list[str]]:
    """(ids, texts) of a CSV / JSONL / WRENCH JSON file; any other file is plain text, one text per line."""
    name = path.name.removesuffix(".gz")
    if name.endswith((".csv", ".jsonl", ".json")):
        return _read_texts(path, column)
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except FileNotFoundError:
        raise AlchemistError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise AlchemistError(f"{path}: cannot read it as UTF-8 text ({e})") from None
    return [str(i) for i in range(len(lines))], lines


def _image_inputs(paths: list[str]) -> tuple[list[str], list[str]]:
    """(ids, paths) of --image arguments: files as given, folders as the images inside them (sorted)."""
    from alchemist.data.images import images_in

    found: list[str] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            inside = [str(f) for f in images_in(path)]  # hidden files (._x.png, checkpoints) left out
            if not inside:
                raise AlchemistError(f"{path}: no images in this folder")
            found += inside
        else:
            found.append(str(path))
    return found, found


def _existing_images(paths: list[str], base: Path) -> list[str]:
    """Absolute paths (relative ones from the input file's folder); a missing image is an error before any work."""
    out = []
    for text in paths:
        path = Path(text.strip()).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            raise AlchemistError(f"{path}: image not found" + (" (relative paths in --input are read from "
                                                                "its folder)" if base != Path.cwd() else ""))
        out.append(str(path.resolve()))
    return out


def cmd_predict(args: argparse.Namespace) -> int:
    from alchemist.distill.model import load_model
    from alchemist.core.files import atomic_write_text

    if not args.text and not args.input and not args.image:
        raise AlchemistError("give --text TEXT (repeatable), --image PATH (image runs) or --input FILE")
    output = Path(args.output) if args.output else None
    if output is not None and not output.parent.is_dir():  # before the work, not after it
        raise AlchemistError(f"--output {output}: the folder {output.parent} does not exist")
    model = load_model(_model_path(Path(args.results_dir)))
    images = model.features.name == "clip"
    if images and args.text:
        raise AlchemistError("this model labels images (an image run's): give --image PATH or --input FILE of paths")
    if not images and (args.image or args.clip_model):
        raise AlchemistError("this model labels text: give --text TEXT or --input FILE")
    if args.input and (args.image or args.text):
        raise AlchemistError("give --input FILE, or --text / --image, not both")
    if images and args.clip_model:
        from alchemist.images.clip import ClipEncoder

        model.features.encoder = ClipEncoder(args.clip_model)
    column = args.text_column
    if images and args.input and column == "text":  # a CSV of image paths: its column found as datasets find it
        from alchemist.data.images import csv_image_column

        column = csv_image_column(Path(args.input), None) or column
    ids, texts = (_input_texts(Path(args.input), column) if args.input else
                  _image_inputs(args.image) if images else ([str(i) for i in range(len(args.text))], list(args.text)))
    if images:
        texts = _existing_images(texts, Path(args.input).parent if args.input else Path.cwd())
    probs = model.predict_proba(texts)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "image" if images else "text", "label", "label_name", "confidence"])
    for i, text, p in zip(ids, texts, probs, strict=True):
        k = int(p.argmax())
        writer.writerow([i, text, k, model.classes[k], f"{p[k]:.4f}"])
    if output is None:
        sys.stdout.write(buf.getvalue())
    else:
        atomic_write_text(output, buf.getvalue())
    return 0


def main(argv: list[str] | None = None) -> int:
    from alchemist.pipeline.settings import load_settings
    def command() -> int:
        settings = load_settings()
        args = build_parser(settings.defaults).parse_args(argv)
        if args.command == "datasets":
            return cmd_datasets(args)
        if args.command in ("apply", "run", "zero-shot"):
            return cmd_apply(args, settings)
        if args.command == "predict":
            return cmd_predict(args)
        if args.command == "review":
            return cmd_review(args, settings)
        if args.command == "demo":
            return run_demo(Path(args.out) if args.out else None, args.seeds)
        return cmd_wizard(args, settings)

    return run_command(command)


if __name__ == "__main__":
    sys.exit(main())
