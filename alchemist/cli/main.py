"""The command line: `alchemist COMMAND` (installed) and `python main.py COMMAND` (a clone) run this.

    alchemist                                   the interactive wizard
    alchemist datasets                          list the built-in tasks and where their data is
    alchemist apply PROGRAMS_DIR --dataset NAME apply saved programs, aggregate, distill, report
    alchemist apply --human --dataset NAME      the same with the dataset's own human-written votes
    alchemist run --dataset NAME --mode alchemist   an LLM writes the programs, then they are applied
    alchemist predict RESULTS_DIR --text "..."  label new text with a run's distilled model
    alchemist pricing                           what every run cost (as `python pricing.py`)

The options are in parser.py; the wizard, the review screen and pricing in their own modules; the
work itself in the engine (alchemist/pipeline/ orders it). Errors are one line (exit status 2).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from alchemist.core.errors import AlchemistError, run_command
from alchemist.core.paths import command

if TYPE_CHECKING:
    from alchemist.pipeline.run_config import RunConfig


def cmd_datasets(args: argparse.Namespace) -> int:
    from rich.table import Table

    from alchemist.core.safe_text import clean
    from alchemist.data.datasets import presence
    from alchemist.data.download.fetch import run_downloads
    from alchemist.data.download.sources import download_command, how_to_get, load_sources
    from alchemist.data.images import find_image_datasets
    from alchemist.data.tasks import builtin_card, builtin_names
    from alchemist.pipeline.settings import load_settings, resolve_data_dir
    from alchemist.report.console import output_console

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
    console = output_console()
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
        seeds=args.seeds, json_path=_json_path(args.json),
        out_dir=Path(args.out) if args.out else None, saved_dir=settings.saved_dir,
        text_column=args.text_column, label_column=args.label_column or None, id_column=args.id_column or None,
        encoding=args.encoding, answers=Path(args.answers).expanduser() if args.answers else None,
        use_answers=not args.no_answers,
        classes=[c.strip() for c in args.classes.split(",")] if args.classes else None,
        task_card=Path(args.task_card) if args.task_card else None, column_cache=not args.no_column_cache,
        vetting=not args.no_vetting, features=args.features, distill=not args.no_distill, group_column=args.group_column or None,
        embedding_model=args.embedding_model or None, device=args.device,
        concepts_path=Path(args.concepts).expanduser() if args.concepts else None,
        **({"clip_model": args.clip_model} if args.clip_model else {}),
        backend=args.backend, scheduler=args.scheduler, partition_rows=args.partition_rows,
        limits=sandbox_limits(settings.defaults, row_timeout_s=args.timeout, memory_mb=args.memory_mb,
                              workers=args.workers, chunk_rows=args.chunk_rows, budget_min_s=args.program_budget,
                              allow_weak=args.allow_weak_sandbox or None),
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
        knowledge_model=args.knowledge_model,  # None: the code model, or config.json's where it goes to the same place
        knowledge_type=args.knowledge_type, num_programs=args.num_programs, **_llm_choices(args),
        temperature=args.temperature, max_output_tokens=args.max_output_tokens, trial_rows=args.trial_rows,
        prompt_rows=args.prompt_rows, refine_rounds=args.refine_rounds, silver=args.silver, concepts_per_class=args.concepts_per_class,
        rag_paths=[Path(p) for p in args.rag_path], chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap,
        top_k=args.top_k, embeddings=args.embeddings)


def _json_path(value: str | None) -> Path | None:
    """--json FILE, or - for the standard output."""
    if value is None:
        return None
    if not value.strip():
        raise AlchemistError("--json needs a file name (or - for the standard output)")
    return Path("/dev/stdout") if value == "-" else Path(value)


def _llm_choices(args: argparse.Namespace) -> dict:
    return dict(description=args.description, base_url=args.base_url, offline=args.offline,
                max_cost=args.max_cost, llm_timeout_s=args.llm_timeout, llm_retries=max(0, args.llm_retries),
                concurrency=args.concurrency, use_cache=not args.no_cache)


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
    from alchemist.generate.prompts import TaskPrompts
    from alchemist.generate.zero_shot import estimate
    from alchemist.llm.catalogue import get_model
    from alchemist.llm.tokens import TokenCounter

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
    from alchemist.pipeline.executor import Executor
    from alchemist.report.console import render

    config = config_from_args(args, settings)
    config.command_line = command_line(getattr(args, "argv", None))
    if args.command == "zero-shot":
        try:
            confirm_zero_shot(config, settings, args.yes)
        except KeyboardInterrupt:
            print("Nothing was spent.", file=sys.stderr)
            return 0
    report = Executor(config, make_progress(), settings).run()
    render(report)
    return 1 if report.get("status") == "no signal" and not report.get("labeled_rows") else 0  # no label at all


def cmd_wizard(args: argparse.Namespace, settings) -> int:
    from alchemist.core.progress import make_progress
    from alchemist.pipeline.executor import Executor
    from alchemist.pipeline.settings import resolve_data_dir
    from alchemist.report.console import render

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise AlchemistError("the wizard needs an interactive terminal; for scripts use "
                             f"`{command()} run --dataset NAME ...` (see `{command()} run --help`)")
    from alchemist.cli import review, wizard
    from alchemist.cli.questions import WizardExit
    from alchemist.core.safe_text import clean

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
        if report.get("status") in ("ok", "no signal") and report.get("output_dir"):
            from alchemist.cli.exchange import export_now

            try:
                export_now(Path(report["output_dir"]))
            except WizardExit:
                print("Bye.")
                return 0


def cmd_review(args: argparse.Namespace, settings) -> int:
    from alchemist.cli.questions import WizardExit
    from alchemist.core.progress import make_progress

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise AlchemistError(f"review is interactive and needs a terminal; `{command()} apply RUN_DIR` "
                             "re-applies a run from a script")
    from alchemist.cli import review

    try:
        review.review(Path(args.run_dir), settings, make_progress())
    except WizardExit:
        pass
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from alchemist.core.files import atomic_write_text, check_writable
    from alchemist.core.safe_text import clean
    from alchemist.distillation.model import load_model
    from alchemist.distillation.predict import existing_images, image_inputs, input_texts, model_path

    if not args.text and not args.input and not args.image:
        raise AlchemistError("give --text TEXT (repeatable), --image PATH (image runs) or --input FILE")
    output = Path(args.output) if args.output else None
    if output is not None and not output.parent.is_dir():  # before the work, not after it
        raise AlchemistError(f"--output {output}: the folder {output.parent} does not exist")
    if output is not None:
        check_writable(output, "--output", folder=False)
    model = load_model(model_path(Path(args.results_dir)))
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
    ids, texts = (input_texts(Path(args.input), column, args.id_column, args.encoding) if args.input else
                  image_inputs(args.image) if images else ([str(i) for i in range(len(args.text))], list(args.text)))
    if images:
        texts = existing_images(texts, Path(args.input).parent if args.input else Path.cwd())
    probs = model.predict_proba(texts)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "image" if images else "text", "label", "label_name", "confidence"])
    shown = (lambda cell: clean(cell, 10_000)) if output is None and sys.stdout.isatty() else str  # noqa: E731
    for i, text, p in zip(ids, texts, probs, strict=True):  # on a terminal: never raw escape sequences
        k = int(p.argmax())
        writer.writerow([shown(i), shown(text), k, model.classes[k], f"{p[k]:.4f}"])
    if output is None:
        sys.stdout.write(buf.getvalue())
    else:
        atomic_write_text(output, buf.getvalue())
    return 0


def main(argv: list[str] | None = None) -> int:
    """The `alchemist` command (and `python main.py`): 0 on success, 2 with a one-line error, 130 on Ctrl-C."""
    from alchemist.cli.parser import build_parser
    from alchemist.pipeline.settings import load_settings

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["pricing"]:  # its own options: the same as `python pricing.py`
        from alchemist.cli.pricing import main as pricing

        return pricing(argv[1:], prog=f"{_prog()} pricing")

    def dispatch() -> int:
        settings = load_settings()
        args = build_parser(settings.defaults, _prog()).parse_args(argv)
        args.argv = argv  # as typed: the report shows the whole command
        if args.command == "datasets":
            return cmd_datasets(args)
        if args.command in ("apply", "run", "zero-shot"):
            return cmd_apply(args, settings)
        if args.command == "predict":
            return cmd_predict(args)
        if args.command == "review":
            return cmd_review(args, settings)
        if args.command == "annotate":
            from alchemist.cli.annotate import cmd_annotate

            return cmd_annotate(args, settings)
        if args.command == "export":
            from alchemist.cli.exchange import cmd_export

            return cmd_export(args)
        if args.command == "import-labels":
            from alchemist.cli.exchange import cmd_import_labels

            return cmd_import_labels(args, settings)
        if args.command == "demo":
            from alchemist.cli.demo import run_demo

            return run_demo(Path(args.out) if args.out else None, args.seeds)
        return cmd_wizard(args, settings)

    return run_command(dispatch)


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed, for the report: quoted as a shell would need it, secrets redacted."""
    import shlex

    from alchemist.core.safe_text import redact

    words = sys.argv[1:] if argv is None else argv
    return redact(("alchemist " if _prog() == "alchemist" else "python main.py ") + shlex.join(words))


def _prog() -> str:
    """How help names the command: `alchemist` when installed and run so, else `main.py`."""
    return "alchemist" if Path(sys.argv[0]).name == "alchemist" else "main.py"
