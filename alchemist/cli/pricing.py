"""Cost ledger: what every run cost, from the run manifests, and what zero-shot labeling would cost.

    python pricing.py [--root DIR] [--by dataset,mode,model,knowledge-type] [--dataset D] [--mode M]
                      [--model M] [--since YYYY-MM-DD] [--json]
    python pricing.py --zero-shot DATASET|FILE --model M [--data-dir D] [--batch-size N] [--json]
                      [--text-column C] [--label-column C] [--classes A,B] [--task-card F]  (own data)
    python pricing.py --fetch-tokenizer      (once, online: exact OpenAI token counts afterwards)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from alchemist.core.errors import AlchemistError, run_command
from alchemist.core.paths import command
from alchemist.generate.zero_shot import DEFAULT_BATCH_SIZE


def build_parser(prog: str = "pricing.py") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", metavar="DIR", help="where the runs are (default: LF_saved_dir, generated_lfs/)")
    p.add_argument("--by", default="dataset,mode", metavar="FIELDS",
                   help="group by any of dataset, mode, model, knowledge-type (default: dataset,mode)")
    p.add_argument("--dataset", help="only this dataset")
    p.add_argument("--mode", help="only this mode")
    p.add_argument("--model", help="only calls served by this model")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="only runs created on or after this day")
    p.add_argument("--json", action="store_true", help='print {"rows": [...], "total_usd": X} for scripts')
    z = p.add_argument_group("zero-shot estimate")
    z.add_argument("--zero-shot", metavar="DATASET", help="what labeling every training row directly would cost: "
                   "a built-in task, or a CSV/JSONL file or folder of your own (read as `main.py` reads it)")
    z.add_argument("--data-dir", metavar="DIR", help="folder holding the datasets")
    z.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N",
                   help=f"rows per call (default {DEFAULT_BATCH_SIZE}, as `main.py zero-shot` sends them)")
    # The same options as main.py's for own data, so the advice a loading error gives works here too.
    z.add_argument("--text-column", default="text", metavar="COL", help="text column of CSV/JSONL data (default: text)")
    z.add_argument("--label-column", default="label", metavar="COL",
                   help="label column of CSV/JSONL data, if any (default: label)")
    z.add_argument("--classes", metavar="A,B,...", help="class names in id order, for your own data")
    z.add_argument("--task-card", metavar="FILE",
                   help="task card JSON for your own data (default: task.json beside it)")
    p.add_argument("--fetch-tokenizer", action="store_true",
                   help="download OpenAI's tokenizer files once (needs the internet) for exact counts")
    return p


def _since(text: str | None) -> str | None:
    if text is None:
        return None
    from datetime import date

    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise AlchemistError(f"--since wants a day as YYYY-MM-DD, not {text!r}") from None


def _runs(args, settings) -> tuple[Path, list]:
    """The runs' folder and every run in it. A folder named with --root must exist (a typo must not read
    as "no costs"); the default one may not exist yet, before the first run."""
    from alchemist.generate import ledger as lg

    root = Path(args.root).expanduser() if args.root else settings.saved_dir
    if args.root and not root.is_dir():
        raise AlchemistError(f"--root {root}: {'not a folder' if root.exists() else 'no such folder'}")
    runs, warnings = lg.scan(root) if root.is_dir() else ([], [])
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    return root, runs


def ledger(args, settings) -> int:
    from alchemist.generate import ledger as lg

    try:
        by = lg.group_fields(args.by)
    except ValueError as e:
        raise AlchemistError(str(e)) from None
    since = _since(args.since)
    root, found = _runs(args, settings)
    runs = [r for r in found if lg.keep(r, args.dataset, args.mode, since)]
    groups = lg.totals(runs, by, args.model)
    rows = [r.to_dict() for r in groups]
    total = round(sum(r["cost_usd"] for r in rows), 8)
    if args.json:
        print(json.dumps({"rows": rows, "total_usd": total}, indent=2))
        return 0
    if not rows:  # a sentence, not an empty table that looks like something went wrong
        print(f"No runs under {root} yet: no {lg.MANIFEST} in it or below (`{command()} run` and `{command()} zero-shot` "
              "write them)."
              if not found else f"None of the {len(found)} run(s) under {root} match the filters.")
        return 0
    from rich.table import Table

    from alchemist.report.console import output_console

    table = Table(title=f"LLM costs of the runs under {root}", title_justify="left")
    for col in by + ["runs", "programs", "LLM calls", "cached ($0)", "input tokens", "output tokens", "dollars"]:
        table.add_column(col, justify="left" if col in by else "right")
    for r in rows:
        table.add_row(*[str(r[f]) for f in by], str(r["runs"]), str(r["programs"]), str(r["llm_calls"]),
                      str(r["cached_calls"]), f"{r['input_tokens']:,}", f"{r['output_tokens']:,}",
                      f"${r['cost_usd']:.4f}")
    output_console().print(table)
    print(f"Total: ${total:.4f} over {len({p for r in groups for p in r.runs})} run(s).")
    return 0


def zero_shot(args, settings) -> int:
    from alchemist.data.datasets import load_dataset, require_text
    from alchemist.data.readers import Columns
    from alchemist.generate.ledger import zero_shot_usage
    from alchemist.generate.prompts import TaskPrompts
    from alchemist.generate.zero_shot import estimate
    from alchemist.llm.catalogue import get_model
    from alchemist.llm.tokens import TokenCounter
    from alchemist.pipeline.settings import resolve_data_dir

    if not args.model:
        raise AlchemistError("--zero-shot needs --model M (a model from config.json)")
    if args.batch_size < 1:
        raise AlchemistError("--batch-size must be at least 1")
    spec = get_model(args.model, settings.models)
    dataset = require_text(load_dataset(args.zero_shot, resolve_data_dir(args.data_dir, settings),
                                        Columns(args.text_column, args.label_column or None),
                                        [c.strip() for c in args.classes.split(",")] if args.classes else None,
                                        Path(args.task_card) if args.task_card else None), "the zero-shot estimate")
    counter = TokenCounter(spec, settings.cache_root / "tiktoken")
    est = estimate(TaskPrompts(dataset.card), spec, dataset.train.texts, counter, args.batch_size)
    root, runs = _runs(args, settings)
    used = zero_shot_usage(runs, dataset.name, spec.name)  # what real runs' replies took, to check the assumption
    measured = None
    if used is not None:
        output = round(used.output_tokens_per_label * est.rows)
        measured = {**used.to_dict(), "output_tokens_at_this_rate": output,
                    "usd_at_this_rate": round(spec.cost(est.input_tokens, output), 8)}
    if args.json:
        print(json.dumps({"dataset": dataset.name, **est.to_dict(), "past_runs": measured}, indent=2))
        return 0
    default = " (as `main.py zero-shot` sends them by default)" if args.batch_size == DEFAULT_BATCH_SIZE else ""
    print(f"Zero-shot labeling of the {est.rows:,} training rows of {dataset.name} with {spec.name}, "
          f"{args.batch_size} row(s) per call{default}:\n"
          f"  {est.calls:,} calls, {est.input_tokens:,} input tokens ({est.token_method}), "
          f"{est.output_tokens:,} output tokens (assumed: {est.output_assumption})\n"
          f"  ≈ ${est.usd:.4f} at ${spec.input_per_1m:g} / ${spec.output_per_1m:g} per 1M tokens")
    if measured is None:
        print(f"  No past zero-shot runs of {dataset.name} with {spec.name} under {root} to compare the output "
              "assumption with.")
    else:
        print(f"  Past zero-shot runs of {dataset.name} with {spec.name} under {root}: {used.labels:,} labels in "
              f"{used.calls:,} call(s) took {used.output_tokens_per_label:g} output tokens per label (assumed: "
              f"{est.output_tokens_per_label:g}); at that rate ≈ ${measured['usd_at_this_rate']:.4f}")
    return 0


def fetch_tokenizer(settings) -> int:
    from alchemist.llm.tokens import fetch_encodings

    folder = settings.cache_root / "tiktoken"
    try:
        names = fetch_encodings(folder)
    except Exception as e:  # noqa: BLE001 - no network, a proxy, a bad download: say so in one line
        raise AlchemistError(f"could not download the tokenizer files ({type(e).__name__}); "
                             "estimates keep using the stated approximation") from None
    print(f"cached {', '.join(names)} under {folder}")
    return 0


def main(argv: list[str] | None = None, prog: str = "pricing.py") -> int:
    from alchemist.pipeline.settings import load_settings

    def dispatch() -> int:
        settings = load_settings()
        args = build_parser(prog).parse_args(argv)
        if args.fetch_tokenizer:
            return fetch_tokenizer(settings)
        return zero_shot(args, settings) if args.zero_shot else ledger(args, settings)

    return run_command(dispatch)


if __name__ == "__main__":
    sys.exit(main())
