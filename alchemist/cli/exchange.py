"""`alchemist export` and `alchemist import-labels`: the command-line side of alchemist/exchange/."""

from __future__ import annotations

import argparse
from pathlib import Path

from alchemist.core.safe_text import clean


def cmd_export(args: argparse.Namespace) -> int:
    from alchemist.exchange.export import export

    done = export(Path(args.run_dir), args.to, Path(args.out) if args.out else None, args.only, args.limit,
                  args.split, args.overwrite, args.push)
    print(clean(f"{done.rows:,} rows of {done.results} exported to {done.folder} ({', '.join(done.files)})", 2000))
    if args.to in ("label-studio", "argilla"):
        print(clean(how_to_load(args.to, done.folder), 2000))
    if args.to != "hf" and done.pool:
        print(clean(f"Reviewed answers come back with: alchemist import-labels {args.run_dir} FILE "
                    f"(these rows go to the {done.pool} pool: "
                    + ("a random sample, so they can score the run" if done.pool == "random"
                       else "picked for a reason, so they train only") + ")", 2000))
    elif args.to != "hf":
        print(f"These are {args.split} rows: reviewers' answers to them cannot be imported (valid rows have gold "
              "labels already; test rows are only ever scored). Export --split train for review.")
    if done.note:
        print(clean(done.note, 500))
    return 0


def how_to_load(target: str, folder: Path) -> str:
    if target == "label-studio":
        return (f"In Label Studio: create a project, paste {folder / 'label_config.xml'} as its labeling interface "
                f"(Settings > Labeling Interface > Code), then Import {folder / 'tasks.json'}; the run's labels are "
                "predictions (turn on 'Use predictions to prelabel tasks').")
    return (f"In Argilla 2.x: rg.Dataset.from_disk('{folder}', client=rg.Argilla(api_url=..., api_key=...)); "
            "export the reviewed records with dataset.records.to_json(PATH).")


def cmd_import_labels(args: argparse.Namespace, settings) -> int:
    import json

    from alchemist.core.errors import AlchemistError
    from alchemist.exchange.import_labels import import_labels
    from alchemist.exchange.run_labels import results_folder
    from alchemist.pipeline.data_stage import read_data
    from alchemist.pipeline.run_config import data_choices, run_config

    results = results_folder(Path(args.run_dir))
    report = json.loads((results / "report.json").read_text(encoding="utf-8"))
    if not isinstance(report.get("data"), dict):
        raise AlchemistError(f"{results}: the run recorded no data to take answers into (a run that read its file "
                             "by partitions with Dask has no row texts to review)")
    data = data_choices(report["data"], str(results / "report.json"))
    data["data_dir"] = data["data_dir"] or settings.data_dir
    dataset = read_data(run_config(settings, command="apply", **data))
    done = import_labels(results, Path(args.file), dataset, Path(args.answers) if args.answers else None, args.pool)
    pools = ", ".join(f"{n:,} {p}" for p, n in sorted(done.by_pool.items()))
    n = sum(done.by_pool.values())
    print(clean(f"{n:,} reviewed row{'s' if n != 1 else ''} imported into {done.answers}"
                + (f" ({pools})" if pools else "")
                + f"; {done.corrected:,} {'differs' if done.corrected == 1 else 'differ'} from the run's label", 2000))
    for note in done.notes:
        print(clean(f"note: {note}", 1000))
    print(clean(f"Re-apply to use them: {reapply_hint(report, results, args.answers)} (random-pool rows become valid "
                "rows: scores, vetting, the label-model choice and calibration rest on them; chosen-pool rows train "
                "the distilled model and show refinement its mistakes)", 2000))
    return 0


def reapply_hint(report: dict, results: Path, answers: str | None) -> str:
    """The command that applies the run again on its data: a run folder knows its data; a folder of programs
    applied with --dataset needs the command as it was typed."""
    import shlex

    run_dir = Path(report.get("run_dir") or report.get("programs_source") or results.parent.parent)
    extra = f" --answers {shlex.quote(answers)}" if answers else ""
    if (run_dir / "manifest.json").is_file():
        return f"alchemist apply {shlex.quote(str(run_dir))}{extra}"
    typed = report.get("command_line")
    if isinstance(typed, str) and typed:
        return typed + extra
    return f"the apply you ran on these programs (the same --dataset and options){extra}"


def export_now(results: Path) -> None:
    """The wizard's and the review screen's export: where to, which rows; errors are said, not raised."""
    from questionary import Choice

    from alchemist.cli import questions as ask
    from alchemist.core.errors import AlchemistError
    from alchemist.exchange.export import export

    target = ask.select("Export the labels?", [
        Choice("No", "no"),
        Choice("Label Studio (tasks with the labels as predictions, and their labeling config)", "label-studio"),
        Choice("Argilla 2.x (a dataset folder: Dataset.from_disk)", "argilla"),
        Choice("Hugging Face datasets (save_to_disk; every split)", "hf"),
        Choice("CSV (one row per label, with the programs' votes)", "csv")], default="no")
    if target == "no":
        return
    only = "all"
    if target != "hf":
        only = ask.select("Which rows first?", [
            Choice("A random sample of train (reviewed answers can score the next apply)", "all"),
            Choice("The least confident labels first (reviewed answers train only)", "uncertain"),
            Choice("Rows where the programs disagree (reviewed answers train only)", "disagree")], default="all")
    try:
        done = export(results, target, only=only, limit=None if only == "all" and target == "hf" else 500)
    except AlchemistError as e:
        print(clean(f"error: {e}", 1000))
        return
    print(clean(f"{done.rows:,} rows exported to {done.folder}", 2000))
    if target in ("label-studio", "argilla"):
        print(clean(how_to_load(target, done.folder), 2000))
    if target != "hf":
        print(clean(f"Bring the answers back with: alchemist import-labels {results} FILE", 2000))
