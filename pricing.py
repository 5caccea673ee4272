"""Cost ledger: what every run cost, from the run manifests, and what zero-shot labeling would cost.

    python pricing.py [--root DIR] [--by dataset,mode,model,knowledge-type] [--dataset D] [--mode M]
                      [--model M] [--since YYYY-MM-DD] [--json]
    python pricing.py --zero-shot DATASET --model M [--data-dir D] [--batch-size N] [--json]
    python pricing.py --fetch-tokenizer      (once, online: exact OpenAI token counts afterwards)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from alchemist.errors import AlchemistError, run_command


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pricing.py", description=__doc__.split("\n\n")[0],
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
    z.add_argument("--zero-shot", metavar="DATASET", help="what labeling every training row directly would cost")
    z.add_argument("--data-dir", metavar="DIR", help="folder holding the datasets")
    z.add_argument("--batch-size", type=int, default=1, help="rows per call (default 1, as in the paper)")
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


def ledger(args, settings) -> int:
    from alchemist import ledger as lg

    try:
        by = lg.group_fields(args.by)
    except ValueError as e:
        raise AlchemistError(str(e)) from None
    root = Path(args.root) if args.root else settings.saved_dir
    runs, warnings = lg.scan(root)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    since = _since(args.since)
    runs = [r for r in runs if lg.keep(r, args.dataset, args.mode, since)]
    groups = lg.totals(runs, by, args.model)
    rows = [r.to_dict() for r in groups]
    total = round(sum(r["cost_usd"] for r in rows), 8)
    if args.json:
        print(json.dumps({"rows": rows, "total_usd": total}, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"LLM costs of the runs under {root}", title_justify="left")
    for col in by + ["runs", "programs", "LLM calls", "cached ($0)", "input tokens", "output tokens", "dollars"]:
        table.add_column(col, justify="left" if col in by else "right")
    for r in rows:
        table.add_row(*[str(r[f]) for f in by], str(r["runs"]), str(r["programs"]), str(r["llm_calls"]),
                      str(r["cached_calls"]), f"{r['input_tokens']:,}", f"{r['output_tokens']:,}",
                      f"${r['cost_usd']:.4f}")
    Console(width=None if sys.stdout.isatty() else 160, markup=False).print(table)
    print(f"Total: ${total:.4f} over {len({p for r in groups for p in r.runs})} run(s)."
          if rows else f"No runs found under {root}.")
    return 0


def zero_shot(args, settings) -> int:
    from alchemist.datasets import load_dataset
    from alchemist.models import get_model
    from alchemist.prompts import TaskPrompts
    from alchemist.tokens import TokenCounter
    from alchemist.zero_shot import estimate
    from config import resolve_data_dir

    if not args.model:
        raise AlchemistError("--zero-shot needs --model M (a model from config.json)")
    if args.batch_size < 1:
        raise AlchemistError("--batch-size must be at least 1")
    spec = get_model(args.model, settings.models)
    dataset = load_dataset(args.zero_shot, resolve_data_dir(args.data_dir, settings))
    counter = TokenCounter(spec, settings.cache_root / "tiktoken")
    est = estimate(TaskPrompts(dataset.card), spec, dataset.train.texts, counter, args.batch_size)
    if args.json:
        print(json.dumps({"dataset": dataset.name, **est.to_dict()}, indent=2))
        return 0
    print(f"Zero-shot labeling of the {est.rows:,} training rows of {dataset.name} with {spec.name}, "
          f"{args.batch_size} row(s) per call:\n"
          f"  {est.calls:,} calls, {est.input_tokens:,} input tokens ({est.token_method}), "
          f"{est.output_tokens:,} output tokens (assumed: {est.output_assumption})\n"
          f"  ≈ ${est.usd:.4f} at ${spec.input_per_1m:g} / ${spec.output_per_1m:g} per 1M tokens")
    return 0


def fetch_tokenizer(settings) -> int:
    from alchemist.tokens import fetch_encodings

    folder = settings.cache_root / "tiktoken"
    try:
        names = fetch_encodings(folder)
    except Exception as e:  # noqa: BLE001 - no network, a proxy, a bad download: say so in one line
        raise AlchemistError(f"could not download the tokenizer files ({type(e).__name__}); "
                             "estimates keep using the stated approximation") from None
    print(f"cached {', '.join(names)} under {folder}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from config import load_settings

    def command() -> int:
        settings = load_settings()
        args = build_parser().parse_args(argv)
        if args.fetch_tokenizer:
            return fetch_tokenizer(settings)
        return zero_shot(args, settings) if args.zero_shot else ledger(args, settings)

    return run_command(command)


if __name__ == "__main__":
    sys.exit(main())
