"""The run report: one JSON-ready dict, printed as readable tables.

Rendering works from the dict alone, so a saved `report.json` prints the same way.
"""

from __future__ import annotations

from typing import TextIO

from alchemist.core.safe_text import clean


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _errors(errors: dict) -> str:
    parts = [f"{k.replace('_', ' ')} {v}" for k, v in sorted(errors.items()) if v]
    return ", ".join(parts) if parts else ""


PIPED_WIDTH = 400  # columns when output goes to a file, a pipe or CI: tables never break a word there


def output_console(out: TextIO | None = None):
    """A rich Console for results: the terminal's width on a terminal; plain and wide when piped or saved."""
    import sys

    from rich.console import Console

    stream = out or sys.stdout
    tty = hasattr(stream, "isatty") and stream.isatty()
    return Console(file=out, soft_wrap=False, width=None if tty else PIPED_WIDTH, markup=False,
                   highlight=tty, color_system="auto" if tty else None)


def render(report: dict, out: TextIO | None = None) -> None:
    """Print the program table and the scores."""
    from rich.table import Table
    from rich.text import Text

    def cell(value: object, limit: int = 300) -> Text:  # plain text: no markup, no control characters
        return Text(clean(value, limit))

    console = output_console(out)
    metric = report["metric"]
    table = Table(title=cell(f"Labeling programs on {report['dataset']} ({report['programs_source']})"),
                  title_justify="left")
    for col, justify in (("program", "left"), ("status", "left"), ("coverage", "right"),
                         ("overlap", "right"), ("conflict", "right"), ("valid acc", "right"), ("valid n", "right"),
                         ("errors / reason", "left")):
        table.add_column(col, justify=justify, overflow="fold")
    for p in report["programs"]:
        note = p.get("reason") or _errors(p.get("errors", {}))
        if p.get("error_samples") and p["status"] == "ok":
            note = f"{note}; e.g. {p['error_samples'][0]}"
        table.add_row(cell(p["name"], 80), cell(p["status"], 40), _pct(p.get("coverage")), _pct(p.get("overlap")),
                      _pct(p.get("conflict")), _fmt(p.get("valid_accuracy")), str(p.get("valid_support", "—")),
                      cell(note))
    console.print(table)
    if report.get("status") not in (None, "ok"):  # before the scores, so nobody reads them first
        console.print(cell(f"Status: {report['status']} — {report.get('status_reason') or report.get('error', '')}",
                           1000))
    if report.get("data_note"):
        console.print(cell(f"Data: {report['data_note']}", 1000))

    scores = Table(title=f"Scores ({metric}{' of the positive class' if metric == 'f1' else ''})",
                   title_justify="left")
    silver = (report.get("gold_rows") or {}).get("source") == "silver"
    for col in ("", "valid (silver)" if silver else "valid", "test"):
        scores.add_column(col, justify="left" if not col else "right")
    lm, mv, dist = report["label_model"], report["majority_vote"], report["distilled"]
    scores.add_row(cell(f"label model ({lm['name']})"), _fmt(lm.get("valid")), _fmt(lm.get("test")))
    scores.add_row("majority vote", _fmt(mv.get("valid")), _fmt(mv.get("test")))
    test = dist.get("test_mean")
    dist_test = "—" if test is None else f"{test:.3f}" + (f" ± {dist.get('test_std') or 0:.3f}"
                                                          if len(dist.get("scores") or []) > 1 else "")
    scores.add_row(distilled_label(dist), _fmt(distilled_valid(dist)), dist_test)
    if gold := gold_row(dist):
        scores.add_row(*gold)
    console.print(scores)
    if line := gold_rows_line(report):
        console.print(cell(line, 1000))
    if line := gold_line(dist):
        console.print(cell(line, 1000))
    if line := calibration_line(report.get("calibration")):
        console.print(cell(line, 1000))
    if lm.get("reason"):
        console.print(cell(f"Label model {lm['name']}: {lm['reason']}", 1000))
    if line := features_line(dist):
        console.print(cell(line, 1000))
    if line := refinement_line(report.get("refinement")):
        console.print(cell(line, 2000))
    _print_per_class(console, cell, report)
    _print_groups(console, cell, report)
    if report.get("concepts"):
        console.print(cell(f"Concepts ({len(report['concepts'])}, scored by {report.get('clip_model', 'CLIP')}): "
                           + ", ".join(report["concepts"]), 3000))

    t = report["timings_s"]
    console.print(f"Train coverage {_pct(report.get('coverage'))}, overlap {_pct(report.get('overlap'))}, "
                  f"conflict {_pct(report.get('conflict'))}.  Time: apply {t.get('apply', 0):.1f}s, "
                  f"label model {t.get('label_model', 0):.1f}s, distill {t.get('distill', 0):.1f}s, "
                  f"total {t.get('total', 0):.1f}s.", markup=False, highlight=False)
    if line := sandbox_line(report):
        console.print(line, markup=False, highlight=False)
    if "llm_calls" in report:
        console.print(f"LLM: {report['llm_calls']} calls ({report.get('cached_calls', 0)} from the cache, at $0), "
                      f"{report.get('input_tokens', 0):,} input / {report.get('output_tokens', 0):,} output tokens, "
                      f"${report.get('cost_usd', 0):.4f}.  Programs and manifest: {report.get('run_dir')}",
                      markup=False, highlight=False)
    zs = report.get("zero_shot_estimate")
    if zs:
        replay = (f" (${zs['run_cost_usd']:.4f} counting the calls replayed from the cache)"
                  if zs.get("replayed_usd") else "")
        times = (f" ({zs['times_more']:g}x more)" if zs.get("times_more") and report.get("status") != "no signal"
                 else "")  # no ratio to a run that labeled nothing
        console.print(f"This run: ${report.get('cost_usd', 0):.4f}{replay}; zero-shot labeling of these "
                      f"{zs['rows']:,} rows with {zs['model']}: ≈${zs['usd']:.4f}{times} "
                      f"[{zs['token_method']}; {zs['output_assumption']}].", markup=False, highlight=False)
    for w in report.get("warnings", []):
        console.print(f"warning: {clean(w, 1000)}", markup=False, highlight=False)
    if report.get("output_dir"):
        console.print(f"Results: {clean(report['output_dir'], 1000)}", markup=False, highlight=False)


def _print_per_class(console, cell, report: dict) -> None:
    """Per-class precision / recall / F1 on test: the label model's labels and the distilled model."""
    from rich.table import Table

    lm = (report.get("label_model") or {}).get("test_per_class")
    dist = (report.get("distilled") or {}).get("per_class")
    if not lm and not dist:
        return
    table = Table(title="Per class on test (precision / recall / F1)", title_justify="left")
    table.add_column("class")
    table.add_column("support", justify="right")
    for name, part in (("label model", lm), ("distilled", dist)):
        if part:
            table.add_column(name, justify="right")
    dist_share = (report.get("label_model") or {}).get("train_distribution") or {}
    if dist_share:
        table.add_column("share of train labels", justify="right")
    for name in report.get("classes", []):
        row = [cell(name, 60)]
        first = (lm or dist)["classes"].get(name, {})
        row.append(str(first.get("support", "")))
        for part in (lm, dist):
            if part:
                c = part["classes"].get(name, {})
                row.append(f"{c.get('precision', 0):.2f} / {c.get('recall', 0):.2f} / {c.get('f1', 0):.2f}")
        if dist_share:
            row.append(_pct(dist_share.get(name)))
        table.add_row(*row)
    console.print(table)


def group_rows(report: dict) -> list[tuple[str, str, dict]]:
    """(split, model, scores) of every group score in the report (image runs with groups)."""
    out = []
    for split, parts in (report.get("groups") or {}).items():
        for model in ("label_model", "distilled"):
            if isinstance(parts, dict) and isinstance(parts.get(model), dict):
                out.append((split, model.replace("_", " "), parts[model]))
    return out


def _print_groups(console, cell, report: dict) -> None:
    """Average and worst-group accuracy, and each group's: where a spurious feature shows."""
    from rich.table import Table

    rows = group_rows(report)
    if not rows:
        return
    names = sorted({g for _, _, part in rows for g in part.get("groups", {})})
    table = Table(title="Accuracy by group", title_justify="left")
    for col in ("split", "model", "average", "worst group", *names):
        table.add_column(cell(col, 40), justify="left" if col in ("split", "model", "worst group") else "right")
    for split, model, part in rows:
        groups = part.get("groups", {})
        table.add_row(split, model, _fmt(part.get("average_accuracy")),
                      cell(f"{part.get('worst_group')}: {_fmt(part.get('worst_group_accuracy'))}", 60),
                      *(_fmt((groups.get(g) or {}).get("accuracy")) for g in names))
    console.print(table)


def gold_row(dist: dict) -> tuple[str, str, str] | None:
    """The baseline's row of the scores table: the same features and classifier on the gold rows alone."""
    gold = dist.get("gold_only")
    if not isinstance(gold, dict):
        return None
    test = gold.get("test_mean")
    shown = "—" if test is None else f"{test:.3f}" + (f" ± {gold.get('test_std') or 0:.3f}"
                                                      if len(gold.get("scores") or []) > 1 else "")
    return f"gold labels only ({gold.get('rows', 0):,} valid rows)", _fmt(gold.get("valid_cv")) + " (cv)", shown


def gold_line(dist: dict) -> str:
    """The distilled model against the gold-only baseline on test, in one sentence."""
    gold = dist.get("gold_only")
    if not isinstance(gold, dict) or gold.get("test_mean") is None or dist.get("test_mean") is None:
        return ""
    diff = dist["test_mean"] - gold["test_mean"]
    return (f"Against the gold labels alone: the distilled model scores {diff:+.3f} on test "
            f"({dist['test_mean']:.3f} vs {gold['test_mean']:.3f} from a {gold.get('classifier', 'classifier')} "
            f"trained on the {gold.get('rows', 0):,} gold rows of valid)")


def distilled_label(dist: dict) -> str:
    """The distilled row's name: what was trained, on how many rows; or that nothing was."""
    if dist.get("skipped"):
        return "distilled model (none: --no-distill)"
    if dist.get("test_mean") is None and not dist.get("model_path"):
        return "distilled model (none trained)"
    chosen = (dist.get("features") or {}).get("classifier") or "TF-IDF + MLP"
    fits = dist.get("seeds", 0)
    runs = f"{fits} seed{'s' if fits != 1 else ''}" if "MLP" in chosen else "1 fit"
    return f"distilled: {chosen} ({runs}, {dist.get('trained_on', 0):,} rows)"


def distilled_valid(dist: dict) -> float | None:
    return dist.get("valid")


def features_line(dist: dict) -> str:
    feats = dist.get("features") or {}
    if not feats.get("reason"):
        return ""
    how = f" [{feats['selection']}]" if feats.get("selection") else ""
    model = f" [embeddings: {feats['embedding_model']}]" if feats.get("embedding_model") else ""
    return (f"Distilled from {learned_from(feats.get('labels') or '')} with {feats.get('chosen')} features: "
            f"{feats['reason']}{how}{model}")


def learned_from(recipe: str) -> str:
    """What the distilled model learned from, for people."""
    if recipe == "gold only":
        return "the gold rows of valid alone"
    if recipe == "stacked + gold":
        return "a model of the votes fitted on the gold rows, and the gold rows"
    if recipe == "agreed + gold":
        return "the label model's labels where a classifier of the gold rows agrees, and the gold rows"
    if recipe.endswith(" + gold"):
        return f"{recipe[:-len(' + gold')]} labels and the gold rows of valid"
    return f"{recipe} labels" if recipe else "the label model's labels"


def gold_rows_line(report: dict) -> str:
    """How many gold rows each use rests on."""
    g = report.get("gold_rows")
    if not isinstance(g, dict) or not (g.get("scores_vetting_choices") or g.get("training_only")):
        return ""
    if g.get("source") == "silver":
        return (f"Silver rows, not gold: {g.get('scores_vetting_choices', 0):,} train rows labeled by {g.get('model')} "
                f"(of {g.get('asked', 0):,} asked) stand in for gold in vetting and every choice; the valid column "
                f"is agreement with them (the label model agrees on {_fmt(report.get('label_model', {}).get('valid'))}).")
    n = g.get("scores_vetting_choices", 0)
    answered = g.get("answers", n)
    where = (f"random answers in {g['file']}" if answered >= n else
             f"gold rows ({n - answered:,} labeled valid rows and {answered:,} random answers in {g['file']})") \
        if g.get("file") else "labeled valid rows"
    chosen = g.get("training_only") or 0
    return (f"Gold rows: {g.get('scores_vetting_choices', 0):,} {where} score the run and make every choice"
            + (f"; {chosen:,} chosen answers train the distilled model only" if chosen else "")
            + (f"; {g['from_review']:,} of these answers came from review (import-labels)" if g.get("from_review") else "")
            + ".")


def calibration_line(section: dict | None) -> str:
    """What the confidences in labels.csv mean: calibrated (ECE before -> after, cross-fitted) or not."""
    if not isinstance(section, dict) or not section:
        return ""
    parts, why = [], ""
    for key, name in (("label_model", "label model"), ("distilled", "distilled model")):
        c = section.get(key)
        if not isinstance(c, dict):
            continue
        if c.get("calibrated"):
            parts.append(f"{name} ECE {_fmt(c.get('ece_before'))} -> {_fmt(c.get('ece_after'))} "
                         f"({c.get('method')}, {c.get('rows', 0):,} gold rows)")
        else:
            parts.append(f"{name} uncalibrated")
            why = why or str(c.get("reason", ""))
    if not parts:
        return ""
    return ("Confidence: " + "; ".join(parts) + (" [ECE after: cross-fitted]" if "ECE" in "".join(parts) else "")
            + (f" — {why}" if why else ""))


def refinement_line(section: dict | None) -> str:
    """What refinement asked and decided, in one paragraph."""
    if not section:
        return ""
    if section.get("skipped"):
        return f"Refinement skipped: {section['skipped']}"
    asked = [r for r in section.get("requests", []) if "program" in r]
    stopped = f" Stopped by the budget: {section['stopped']}." if section.get("stopped") else ""
    if not asked:
        if stopped:
            return f"Refinement: no request was made.{stopped}"
        return f"Refinement: no weak programs ({section.get('guard', '')})"
    parts = []
    for r in asked:
        if r.get("status") != "ok":
            parts.append(f"{r['program']} (round {r['round']}): the new version was unusable ({r.get('reason', '')})")
        else:
            parts.append(f"{r['program']} (round {r['round']}, {r['weakness']}): kept the {r.get('kept')} version "
                         f"(votes above chance per row on the deciding half of valid: {r.get('old_score', 0):.3f}"
                         f" -> {r.get('new_score', 0):.3f})")
    replaced = sum(r.get("kept") == "new" for r in asked)
    return (f"Refinement, {section.get('rounds', 0)} round(s): {len(asked)} request(s), {replaced} program(s) "
            f"replaced [{section.get('guard', '')}]. " + "; ".join(parts) + stopped)


def sandbox_line(report: dict) -> str:
    """'Sandbox layers active: ...; not active: name (why)', or why nothing ran in the sandbox."""
    layers = dict(report.get("sandbox") or {})
    note = clean(report.get("sandbox_note") or layers.pop("note", ""), 300)  # "note": older reports
    if not layers:
        return f"Sandbox: {note}" if note else ""
    active = [k for k, v in layers.items() if str(v).startswith("active")]
    missing = [f"{k} ({clean(v, 120)})" for k, v in layers.items() if not str(v).startswith("active")]
    line = "Sandbox layers active: " + (", ".join(active) or "none")
    line += f"; not active: {'; '.join(missing)}" if missing else ""
    return line + (f". {note}" if note else "")
