"""The command line's parser: every command and option, with the defaults from config.json.

Kept apart from the commands (main.py) so `--help` imports nothing but argparse and the choices.
"""

from __future__ import annotations

import argparse

from alchemist.core.paths import command

EPILOG = "Type `{prog} COMMAND --help` for a command's options."


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
                   help=f"a built-in task (see `{command()} datasets`), or a CSV / TSV / JSONL / Parquet file or a "
                        "folder of train/valid/test files of your own"
                        + ("" if required else "; without it, `apply RUN_DIR` uses the data (file, columns, "
                                               "classes, data folder, splits) recorded in the run's manifest"))
    g.add_argument("--data-dir", metavar="DIR",
                   help="folder holding the built-in datasets (default: $ALCHEMIST_DATA_DIR, else "
                        "config.json's data_dir)")
    g.add_argument("--text-column", default="text", metavar="COL", help="text column of CSV/JSONL data (default: text)")
    g.add_argument("--label-column", default="label", metavar="COL",
                   help="label column of CSV/JSONL data, if any (default: label; unlabeled data is fine)")
    g.add_argument("--id-column", metavar="COL",
                   help="the rows' own ids, kept in labels.csv (default: a column named id, if any; else the row "
                        "number)")
    g.add_argument("--encoding", default="utf-8", metavar="NAME",
                   help="text encoding of CSV / TSV / JSONL files (default: utf-8; e.g. cp1252 or latin-1 for "
                        "files saved by Excel on Windows)")
    g.add_argument("--classes", metavar="A,B,...", help="class names in id order, for your own data")
    g.add_argument("--answers", metavar="FILE",
                   help=f"gold labels a person gave with `{command()} annotate` (default: annotations/<dataset>.jsonl "
                        "in the project folder, when there is one): random answers become the valid split, chosen "
                        "ones train the distilled model")
    g.add_argument("--no-answers", action="store_true", help="ignore the answers file of `annotate`")
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
    g.add_argument("--embedding-model", metavar="NAME|DIR", default=defaults.get("embedding_model"),
                   help="the sentence-transformers model the embedding features use: a Hugging Face name "
                        "(downloaded once, then read offline) or a local folder (default: the bundled "
                        "all-MiniLM-L6-v2, which needs no network)")
    g.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default=defaults.get("device", "auto"),
                   help="where embeddings and CLIP run: auto = a CUDA GPU, then Apple's MPS, then the CPU "
                        f"(default: {defaults.get('device', 'auto')})")
    g.add_argument("--no-distill", action="store_true",
                   help="labels only: no distilled model (labels.csv still has every row the programs voted on)")
    g.add_argument("--seeds", type=_positive_int, default=defaults["seeds"],
                   help=f"seeds of the distilled MLP; test score is mean ± std (default: {defaults['seeds']})")
    g.add_argument("--json", metavar="PATH", help="also write the JSON report to PATH (- for the standard output)")
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
                        f"{defaults['program_budget_s']:g}; at most 15 minutes). A slower program is stopped, and "
                        "reported")
    s.add_argument("--allow-weak-sandbox", action="store_true",
                   help="run programs even on a host where neither seccomp (libseccomp) nor user namespaces are "
                        "available: a hostile program could then outlive the run (refused by default, naming "
                        "the missing layers)")
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
    g.add_argument("--no-cache", action="store_true",
                   help="ask the LLM again even for prompts it answered before (fresh programs; the new replies "
                        "replace the cached ones)")
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


def _add_generation_options(p: argparse.ArgumentParser, defaults: dict) -> None:
    from alchemist.core.choices import KNOWLEDGE_TYPES, MODE_NAMES

    g = p.add_argument_group("generation")
    g.add_argument("--mode", choices=MODE_NAMES, default=defaults["mode"],
                   help=f"scriptoriumws: the code LLM writes each program; alchemist: a knowledge LLM first "
                        f"writes prior knowledge, then the code LLM writes from it; alchemist-rag: the same, with "
                        f"knowledge drawn from your documents (--rag-path) (default: {defaults['mode']})")
    g.add_argument("--silver", type=_positive_int, default=0, metavar="N",
                   help="no gold labels and no time to make some (see `annotate`)? the code LLM labels N random "
                        "train rows first (priced, within --max-cost, cached); they stand in for gold in vetting and "
                        "every choice only, marked silver, never called gold (docs/annotate.md)")
    g.add_argument("--code-model", default=defaults["code_model"], metavar="MODEL",
                   help=f"model that writes the programs, from config.json's catalogue (default: {defaults['code_model']})")
    g.add_argument("--knowledge-model", default=None, metavar="MODEL",
                   help="model that writes prior knowledge in alchemist mode (default: config.json's "
                        f"knowledge_model, {defaults['knowledge_model']}, when it goes to the same provider and "
                        "address as the code model; otherwise the code model itself)")
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


def build_parser(defaults: dict, prog: str = "main.py") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Alchemist: label data with LLM-written labeling programs.",
        epilog=EPILOG.format(prog=command()), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    w = sub.add_parser("wizard", help=f"the interactive wizard (also what `{command()}` alone starts)")
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

    n = sub.add_parser("annotate", help="label rows yourself, one at a time in the terminal: a gold set in minutes",
                       description="Show one row at a time; answer with its class's key (1..k), s skip, u undo, b back, "
                                   "q quit. Every answer is saved at once in annotations/<dataset>.jsonl (resumed "
                                   "next time). The next run or apply on the dataset uses the random answers as its "
                                   "valid split, and chosen answers to train the distilled model (docs/annotate.md).")
    _add_data_options(n)
    n.add_argument("--pool", choices=("random", "chosen"), default="random",
                   help="random: a random sample, the only answers scores and choices rest on (default); chosen: "
                        "rows the programs are unsure of or disagree on, or no program voted on (training only)")
    n.add_argument("--programs", metavar="DIR", help="with --pool chosen: a folder of programs, or a run folder")
    n.add_argument("--import", dest="import_csv", metavar="CSV",
                   help="add the labels you already have: a CSV of id,label (label = class name or id) into the pool "
                        "of --pool")
    n.add_argument("--from-stdin", action="store_true", help=argparse.SUPPRESS)  # tests: answers from a pipe

    e = sub.add_parser("export", help="send a run's labels to Hugging Face datasets, Label Studio, Argilla or a CSV",
                       description="Write a run's labels where people review and train: a Hugging Face DatasetDict "
                                   "(save_to_disk; --push to the Hub), Label Studio tasks with the labels as "
                                   "predictions and a labeling config, an Argilla dataset folder (Dataset.from_disk), "
                                   "or a CSV; with each label's confidence and the programs' votes (docs/export.md).")
    e.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (its newest results) or a results folder")
    e.add_argument("--to", required=True, choices=("hf", "label-studio", "argilla", "csv"), help="where to")
    e.add_argument("--out", metavar="PATH", help="the folder to write (default: RESULTS/exports/"
                                                  "<to>-<split>-<only>[-<limit>])")
    e.add_argument("--only", choices=("all", "uncertain", "disagree"), default="all",
                   help="all: every row, in a fixed random order (default); uncertain: the least confident labels "
                        "first; disagree: rows where the programs conflict, the most divided first")
    e.add_argument("--limit", type=_positive_int, metavar="N", help="at most N rows (the first N of --only's order)")
    e.add_argument("--split", choices=("train", "valid", "test", "all"),
                   help="which rows (default: train for label-studio, argilla and csv, the rows whose labels need "
                        "review; all for hf)")
    e.add_argument("--overwrite", action="store_true", help="replace --out if it is an earlier export (only those)")
    e.add_argument("--push", metavar="REPO", help="with --to hf: also push to the Hugging Face Hub as REPO "
                                                   "(needs HF_TOKEN or `huggingface-cli login`)")

    i = sub.add_parser("import-labels", help="take reviewers' labels back (Label Studio, Argilla, or CSV id,label)",
                       description="Read a Label Studio JSON export, an Argilla export (records.json or its folder) "
                                   "or a CSV of id,label, and store the reviewed rows as gold labels of the run's "
                                   "data (annotations/<dataset>.jsonl, as annotate does). The next apply uses them: "
                                   "rows reviewed from a random sample (export --only all) as its valid split, rows "
                                   "picked as uncertain or disputed for training and refinement only.")
    i.add_argument("run_dir", metavar="RUN_DIR", help="the run (or results folder) the file was exported from")
    i.add_argument("file", metavar="FILE", help="the reviewers' export: .json (Label Studio or Argilla), an Argilla "
                                                "folder, or .csv with id and label columns")
    i.add_argument("--answers", metavar="FILE", help="the answers file to add to (default: annotations/<dataset>.jsonl)")
    i.add_argument("--pool", choices=("random", "chosen"),
                   help="put every row in this pool (default: as exported; a plain CSV: random)")

    sub.add_parser("pricing", help="what every run cost, by dataset and mode (the same as `python pricing.py`; "
                                   "`pricing --help` lists its options)", add_help=False)

    p = sub.add_parser("predict", help="label new text (or images) with a run's distilled model")
    p.add_argument("results_dir", metavar="RESULTS_DIR",
                   help="a results folder (holds distilled_model.skops), or a run folder (its newest results)")
    p.add_argument("--text", action="append", default=[], help="a text to label (repeatable)")
    p.add_argument("--image", action="append", default=[], metavar="PATH",
                   help="an image to label with an image run's model, or a folder of them (repeatable)")
    p.add_argument("--clip-model", metavar="NAME|DIR",
                   help="image runs: where the CLIP model is now, if it moved since the run (default: the run's)")
    p.add_argument("--input", metavar="FILE",
                   help="texts to label: a CSV or JSONL file (see --text-column), or plain text, one per line "
                        "(image runs: image paths, one per line or in a CSV column)")
    p.add_argument("--text-column", default="text", metavar="COL", help="text column of --input (default: text)")
    p.add_argument("--id-column", metavar="COL", help="id column of --input, kept in the output (default: id, if "
                                                      "present; else the row number)")
    p.add_argument("--encoding", default="utf-8", metavar="NAME", help="text encoding of --input (default: utf-8)")
    p.add_argument("--output", metavar="FILE",
                   help="write id,text,label,label_name,confidence CSV here (default: stdout)")
    return parser
