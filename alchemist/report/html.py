"""report.html: the run report as one self-contained page (inline CSS, no script, no network).

Rendered from the report dict alone. Every string in it may come from a program, a program's output,
the data or a manifest, so every one is escaped; a Content-Security-Policy forbids scripts and every
fetch, should anything ever slip through. Status and warnings come first, before any score.
"""

from __future__ import annotations

from pathlib import Path

from alchemist.core.files import atomic_write_text
from alchemist.core.safe_text import html_text
from alchemist.report.console import (
    distilled_label,
    distilled_valid,
    features_line,
    gold_line,
    gold_rows_line,
    gold_row,
    refinement_line,
    sandbox_line,
)

NAME_CHARS = 200  # a program or class name: the full one is in the title, CSS cuts what is shown
SOURCE_CHARS = 20_000
SAMPLES = 5  # error samples shown per program

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 90em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.c { text-align: center; }
.name { display: inline-block; max-width: 18em; overflow: hidden; text-overflow: ellipsis;
        white-space: nowrap; vertical-align: bottom; }
.bar { display: inline-block; width: 7em; height: 0.8em; background: #eee; vertical-align: middle;
       margin-right: 0.4em; }
.bar span { display: block; height: 100%; }
.cov { background: #4a7bd0; } .acc { background: #3a9a5b; } .gold { background: #999; }
.status { padding: 0.6em 1em; border-left: 6px solid; margin-bottom: 1.5em; }
.status.ok { border-color: #3a9a5b; background: #eef8f0; }
.status.warn { border-color: #d0a020; background: #fdf7e6; }
.status.bad { border-color: #c03030; background: #fbecec; }
.kv th { width: 12em; }
.side { display: flex; flex-wrap: wrap; gap: 2em; }
.cm td { text-align: center; min-width: 3em; }
.miss { color: #c03030; font-weight: bold; }
.muted { color: #777; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; max-height: 30em; }
details { margin: 0.3em 0; } summary { cursor: pointer; }
.text { max-width: 40em; }
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'"  # no script, no fetch of any kind


def escape(value: object, limit: int = 1000) -> str:
    """Escaped for HTML (quotes too: also safe in attributes), without control characters."""
    return html_text(value, limit)


def _float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _num(value: object, digits: int = 3) -> str:
    number = _float(value)
    return "—" if number is None else f"{number:.{digits}f}"


def _name(value: object) -> str:
    """A name that may be very long: cut by CSS with an ellipsis, whole in the tooltip."""
    text = escape(value, NAME_CHARS)
    return f'<span class="name" title="{text}">{text}</span>'


def _bar(value: object, cls: str) -> str:
    """A share in [0, 1] as a small horizontal bar and its number; laid out by the table, so it can
    never run into a name."""
    number = _float(value)
    width = 0.0 if number is None else min(100.0, max(0.0, 100 * number))
    return (f'<span class="bar"><span class="{cls}" style="width: {width:.1f}%"></span></span>'
            f"{_num(value, 3)}")


def _section(key: str, title: str, body: str) -> str:
    return f'<section id="{key}"><h2>{title}</h2>\n{body}\n</section>'


# --- status and run ------------------------------------------------------------------------------
def _status(report: dict) -> str:
    status = str(report.get("status") or "unknown")
    why = report.get("status_reason") or report.get("error") or ""
    warnings = list(report.get("warnings") or [])
    cls = "bad" if status != "ok" else "warn" if warnings else "ok"
    items = "".join(f"<li>{escape(w)}</li>" for w in warnings)
    listed = f"<p>{len(warnings)} warning(s):</p><ul>{items}</ul>" if warnings else "<p>No warnings.</p>"
    return (f'<section id="status" class="status {cls}"><p><b>Status: {escape(status)}</b>'
            f"{' — ' + escape(why) if why else ''}</p>{listed}</section>")


def _count(value: object) -> str:
    number = _float(value)
    return escape(value) if number is None else f"{number:,.0f}"


def _cost(report: dict) -> str:
    made = report.get("generated_by") or {}
    if "llm_calls" in report:
        zs = report.get("zero_shot_estimate") or {}
        replayed = (f" (${_num(zs['run_cost_usd'], 4)} counting the calls replayed from the cache)"
                    if isinstance(zs, dict) and zs.get("replayed_usd") else "")
        return (f"${_num(report.get('cost_usd'), 4)}{replayed}: {_count(report['llm_calls'])} LLM calls "
                f"({_count(report.get('cached_calls', 0))} from the cache, at $0), "
                f"{_count(report.get('input_tokens', 0))} input / {_count(report.get('output_tokens', 0))} "
                "output tokens")
    if made.get("cost_usd") is not None:
        return (f"$0 in this run (no LLM call); writing the programs cost ${_num(made['cost_usd'], 4)} "
                f"in {escape(made.get('llm_calls', '?'))} call(s)")
    return "$0: no LLM call"


def _zero_shot(report: dict) -> str:
    zs = report.get("zero_shot_estimate")
    if not isinstance(zs, dict) or _float(zs.get("usd")) is None:
        return ""
    times = (f" — {escape(zs['times_more'])}x this run's cost" if zs.get("times_more")
             and report.get("status") != "no signal" else "")  # no ratio to a run that labeled nothing
    return (f"labeling the {_count(zs.get('rows', '?'))} train rows directly with {escape(zs.get('model', '?'))} "
            f"would cost ≈${_num(zs['usd'], 4)}{times} [{escape(zs.get('token_method', ''))}; "
            f"{escape(zs.get('output_assumption', ''))}]")


def _data(report: dict) -> str:
    data = report.get("data") or {}
    where = escape(data.get("dataset", "")) if data.get("dataset") != report.get("dataset") else ""
    label = f"label column <code>{escape(data['label_column'])}</code>" if data.get("label_column") else "no labels"
    columns = f"text column <code>{escape(data['text_column'])}</code>, {label}" if data.get("text_column") else ""
    if report.get("modality") == "image":
        columns = f"images, {label}" + (f", groups <code>{escape(data['group_column'])}</code>"
                                        if report.get("groups") and data.get("group_column") else "")
    splits = " · ".join(f"{escape(k)} {escape(v)}" for k, v in (report.get("splits") or {}).items())
    return "; ".join(part for part in (where, columns, splits) if part)


def _made_by(report: dict) -> list[tuple[str, str]]:
    made = report.get("generated_by") or {}
    if not made:
        why = ("the dataset's own labeling functions (weak_labels)" if str(report.get("programs_source", ""))
               .startswith("human") else "not recorded (no manifest.json beside the programs)")
        return [("written by", why)]
    written = escape(made.get("created", "")) + (f" (run {escape(made['run_id'])})" if made.get("run_id") else "")
    rows = [("mode", escape(made.get("mode", ""))), ("code model", escape(made.get("code_model", ""))),
            ("knowledge model", escape(made.get("knowledge_model", ""))),
            ("knowledge type", escape(made.get("knowledge_type", ""))), ("programs written", written)]
    return [(k, v) for k, v in rows if v]


def _timings(report: dict) -> str:
    timings = report.get("timings_s") or {}
    return " · ".join(f"{escape(k.replace('_', ' '))} {_num(v, 1)}s" for k, v in timings.items())


def _run(report: dict) -> str:
    lm = report.get("label_model") or {}
    chosen = escape(lm.get("name", "")) + (f" (asked: {escape(lm['requested'])})"
                                           if lm.get("requested") not in (None, lm.get("name")) else "")
    rows = [("dataset", escape(report.get("dataset", ""))), ("data", _data(report)),
            ("data note", escape(report.get("data_note", ""))), ("command", escape(report.get("command_line") or report.get("command", ""))),
            ("programs", f"<code>{escape(report.get('programs_source', ''))}</code>"), *_made_by(report),
            ("date", escape(report.get("date", ""))), ("cost", _cost(report)),
            ("zero-shot comparison", _zero_shot(report)),
            ("time", _timings(report)), ("label model", chosen), ("sandbox", escape(sandbox_line(report))),
            ("manifest", f"<code>{escape(report['run_dir'])}</code>" if report.get("run_dir") else ""),
            ("results", f"<code>{escape(report.get('output_dir', ''))}</code>")]
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows if v and v != "<code></code>")
    return _section("run", "Run", f'<table class="kv">{body}</table>')


# --- scores ---------------------------------------------------------------------------------------
def _scores(report: dict) -> str:
    lm, mv, dist = (report.get(k) or {} for k in ("label_model", "majority_vote", "distilled"))
    test = _float(dist.get("test_mean"))
    dist_test = "—" if test is None else f"{test:.3f}" + (f" ± {_float(dist.get('test_std')) or 0:.3f}"
                                                          if len(dist.get("scores") or []) > 1 else "")
    rows = [(f"label model ({escape(lm.get('name', ''))})", _num(lm.get("valid")), _num(lm.get("test"))),
            ("majority vote", _num(mv.get("valid")), _num(mv.get("test"))),
            (escape(distilled_label(dist)), _num(distilled_valid(dist)), dist_test)]
    if gold := gold_row(dist):
        rows.append(tuple(escape(v) for v in gold))
    body = "".join(f'<tr><td>{a}</td><td class="n">{b}</td><td class="n">{c}</td></tr>' for a, b, c in rows)
    notes = [gold_rows_line(report), gold_line(dist), f"Label model {lm.get('name', '')}: {lm['reason']}" if lm.get("reason") else "",
             features_line(dist), refinement_line(report.get("refinement"))]
    notes_html = "".join(f"<p>{escape(n, 3000)}</p>" for n in notes if n)
    overall = (f"<p>Train coverage {_num(report.get('coverage'))}, overlap {_num(report.get('overlap'))}, "
               f"conflict {_num(report.get('conflict'))}.</p>")
    metric = escape(report.get("metric", "")) + (" of the positive class" if report.get("metric") == "f1" else "")
    silver = (report.get("gold_rows") or {}).get("source") == "silver"
    return _section("scores", f"Scores ({metric})",
                    '<table><tr><th></th><th class="n">' + ("valid (silver)" if silver else "valid")
                    + '</th><th class="n">test</th></tr>'
                    f"{body}</table>{notes_html}{overall}")


def _per_class(report: dict) -> str:
    """Precision, recall and F1 per class on test, the label model's beside the distilled model's."""
    lm = (report.get("label_model") or {}).get("test_per_class")
    dist = (report.get("distilled") or {}).get("per_class")
    parts = [(name, part) for name, part in (("label model", lm), ("distilled model", dist)) if part]
    if not parts:
        return _section("per-class", "Per class on test", f"<p>No per-class scores: {_no_scores(report)}.</p>")
    top = "".join(f'<th colspan="3" class="c">{n}</th>' for n, _ in parts)
    sub = '<th class="n">precision</th><th class="n">recall</th><th class="n">F1</th>' * len(parts)
    rows = []
    for c in report.get("classes", []):
        cells = "".join(f'<td class="n">{_num(part["classes"].get(c, {}).get(k))}</td>'
                        for _, part in parts for k in ("precision", "recall", "f1"))
        support = parts[0][1]["classes"].get(c, {}).get("support", "")
        rows.append(f'<tr><td>{_name(c)}</td><td class="n">{escape(support)}</td>{cells}</tr>')
    return _section("per-class", "Per class on test",
                    f'<table><tr><th rowspan="2">class</th><th rowspan="2" class="n">support</th>{top}</tr>'
                    f"<tr>{sub}</tr>{''.join(rows)}</table>")


def _groups(report: dict) -> str:
    """Image runs with groups: average and worst-group accuracy, and each group's."""
    from alchemist.report.console import group_rows

    rows = group_rows(report)
    if not rows:
        return ""
    names = sorted({g for _, _, part in rows for g in part.get("groups", {})})
    head = "".join(f'<th class="n">{_name(g)}</th>' for g in names)
    body = []
    for split, model, part in rows:
        groups = part.get("groups", {})
        cells = "".join(f'<td class="n">{_num((groups.get(g) or {}).get("accuracy"))}</td>' for g in names)
        body.append(f"<tr><td>{escape(split)}</td><td>{escape(model)}</td>"
                    f'<td class="n">{_num(part.get("average_accuracy"))}</td>'
                    f"<td>{_name(part.get('worst_group', ''))}: {_num(part.get('worst_group_accuracy'))}</td>"
                    f"{cells}</tr>")
    counted = "test" if any(s == "test" for s, _, _ in rows) else rows[0][0]
    sizes = next(p.get("groups", {}) for s, _, p in rows if s == counted)
    counts = " · ".join(f"{_name(g)} {escape((v or {}).get('rows', ''))}" for g, v in sizes.items())
    return _section("groups", "Accuracy by group",
                    "<p>Accuracy on each group of rows (the dataset's group column); a model that leans on a "
                    "feature that only goes along with a class (such as a background) does worst on the groups "
                    f"where it does not.</p><table><tr><th>split</th><th>model</th><th class=\"n\">average</th>"
                    f"<th>worst group</th>{head}</tr>{''.join(body)}</table><p>Rows per group ({escape(counted)}): "
                    f"{counts}</p>")


def _concepts(report: dict) -> str:
    concepts = report.get("concepts")
    if not concepts:
        return ""
    items = "".join(f"<li>{escape(c, 200)}</li>" for c in concepts)
    return _section("concepts", f"Concepts ({len(concepts)})",
                    f"<p>Each image's CLIP similarity to each concept ({escape(report.get('clip_model', ''))}) is "
                    f"what the programs read.</p><ul class=\"concepts\">{items}</ul>")


def _no_scores(report: dict) -> str:
    """Why there are no scores on test, as it is (never a missing split that is there)."""
    if report.get("status") == "no signal":
        return f"the run has no signal ({escape(report.get('status_reason', ''))})"
    test = (report.get("splits") or {}).get("test")
    if not test:
        return "no test split"
    if (report.get("label_model") or {}).get("test") is None:
        return "the test split has no gold labels, or no label model was fitted"
    return "no distilled model"


def _confusion(title: str, matrix: object, classes: list[str], report: dict) -> str:
    if not isinstance(matrix, list) or not matrix:
        return f"<div><h3>{title}</h3><p>None: {_no_scores(report)}.</p></div>"
    top = max((_float(v) or 0 for row in matrix for v in row), default=0) or 1
    head = "".join(f'<th class="c">{_name(c)}</th>' for c in classes)
    rows = []
    for gold, row in zip(classes, matrix):
        cells = "".join(f'<td style="background: rgba(40, 100, 200, {0.08 + 0.8 * (_float(v) or 0) / top:.2f})" '
                        f'title="gold {escape(gold, NAME_CHARS)}, predicted {escape(pred, NAME_CHARS)}">'
                        f"{_num(v, 0)}</td>" for pred, v in zip(classes, row))
        rows.append(f"<tr><th>{_name(gold)}</th>{cells}</tr>")
    return (f'<div><h3>{title}</h3><table class="cm"><tr><th>gold \\ predicted</th>{head}</tr>'
            f"{''.join(rows)}</table></div>")


def _confusions(report: dict) -> str:
    lm = report.get("label_model") or {}
    classes = report.get("classes", [])
    body = (_confusion(f"label model ({escape(lm.get('name', ''))})",
                       (lm.get("test_per_class") or {}).get("confusion_matrix"), classes, report)
            + _confusion("distilled model", (report.get("distilled") or {}).get("confusion_matrix"), classes,
                         report))
    return _section("confusion", "Confusion matrices on test", f'<div class="side">{body}</div>')


def _balance(report: dict) -> str:
    """The label model's labels (what the distilled model learns from) against valid's gold shares."""
    predicted = (report.get("label_model") or {}).get("train_distribution") or {}
    gold = report.get("valid_balance") or {}
    if not predicted and not gold:
        return _section("balance", "Predicted labels and class balance",
                        "<p>Nothing to compare: no labels from the label model and no labeled valid split.</p>")
    rows = []
    for c in report.get("classes", []):
        p, g = _float(predicted.get(c)), _float(gold.get(c))
        diff = "—" if p is None or g is None else f"{100 * (p - g):+.1f} pts"
        rows.append(f'<tr><td>{_name(c)}</td><td class="n">{_bar(g, "gold")}</td>'
                    f'<td class="n">{_bar(p, "cov")}</td><td class="n">{diff}</td></tr>')
    return _section("balance", "Predicted labels and class balance",
                    '<table><tr><th>class</th><th class="n">valid gold share</th>'
                    '<th class="n">label model, covered train rows</th><th class="n">difference</th></tr>'
                    f"{''.join(rows)}</table>")


def _calibration(report: dict) -> str:
    """Reliability plots (predicted confidence against observed accuracy per bin) before and after
    calibration, for the label model and the distilled model, with the ECE of each."""
    section = report.get("calibration")
    if not isinstance(section, dict) or not section:
        return ""
    parts = []
    for key, name in (("label_model", "Label model"), ("distilled", "Distilled model")):
        c = section.get(key)
        if not isinstance(c, dict):
            continue
        if not c.get("calibrated"):
            parts.append(f"<div><h3>{name}</h3><p>Uncalibrated: {escape(c.get('reason', ''))}</p></div>")
            continue
        parts.append(f"<div><h3>{name}</h3><p>{_count(c.get('rows'))} gold rows, {escape(c.get('method'))}; "
                     f"ECE {_num(c.get('ece_before'))} before, {_num(c.get('ece_after'))} after (cross-fitted)</p>"
                     f"{_reliability_svg(c.get('bins_before'), c.get('bins_after'))}</div>")
    return _section("calibration", "Confidence calibration (reliability on valid)",
                    f'<div class="side">{"".join(parts)}</div>'
                    "<p>Each point: a bin of rows by confidence; across is the mean confidence, up the share of "
                    "those rows whose label was right. On the diagonal, a confidence means what it says. "
                    "Grey: the model's own probability; blue: after calibration.</p>")


def _reliability_svg(before: object, after: object, size: int = 200) -> str:
    def points(bins: object, color: str) -> str:
        out = []
        for b in bins if isinstance(bins, list) else []:
            x, y = _float(b.get("confidence")) if isinstance(b, dict) else None, \
                _float(b.get("accuracy")) if isinstance(b, dict) else None
            if x is None or y is None:
                continue
            out.append(f'<circle cx="{20 + x * size:.1f}" cy="{10 + (1 - y) * size:.1f}" r="4" fill="{color}">'
                       f'<title>confidence {x:.2f}, accuracy {y:.2f}, {escape(b.get("rows"))} rows</title></circle>')
        return "".join(out)
    return (f'<svg width="{size + 30}" height="{size + 30}" role="img" aria-label="reliability plot">'
            f'<rect x="20" y="10" width="{size}" height="{size}" fill="none" stroke="#999"/>'
            f'<line x1="20" y1="{10 + size}" x2="{20 + size}" y2="10" stroke="#bbb" stroke-dasharray="4"/>'
            f'{points(before, "#999")}{points(after, "#2563eb")}'
            f'<text x="20" y="{size + 25}" font-size="10">confidence 0 to 1</text>'
            f'<text x="12" y="{10 + size}" font-size="10" transform="rotate(-90 12 {10 + size})">'
            f'share right 0 to 1</text></svg>')


# --- programs -------------------------------------------------------------------------------------
def _errors(p: dict) -> str:
    errors = p.get("errors") or {}
    return ", ".join(f"{k} {v}" for k, v in sorted(errors.items()) if v) if isinstance(errors, dict) else ""


def _programs_table(programs: list[dict]) -> str:
    rows = []
    for p in programs:
        numbers = [_bar(p.get("coverage"), "cov"), _num(p.get("overlap")), _num(p.get("conflict")),
                   _bar(p.get("valid_accuracy"), "acc"), _num(p.get("valid_chance")),
                   escape(p.get("valid_support", "—"))]
        cells = "".join(f'<td class="n">{n}</td>' for n in numbers)
        rows.append(f"<tr><td>{_name(p.get('name', ''))}</td><td>{escape(p.get('status', ''))}</td>{cells}"
                    f"<td>{escape(p.get('reason') or _errors(p))}</td></tr>")
    return ('<table class="programs"><tr><th>program</th><th>status</th><th class="n">coverage (train)</th>'
            '<th class="n">overlap</th><th class="n">conflict</th><th class="n">accuracy (valid)</th>'
            '<th class="n">chance</th><th class="n">valid n</th><th>errors / reason</th></tr>'
            f"{''.join(rows)}</table>")


def _program_detail(p: dict) -> str:
    source = p.get("source")
    code = (f"<pre><code>{html_text(source, SOURCE_CHARS, one_line=False)}</code></pre>" if source
            else '<p class="muted">No source: its votes come from the dataset or from an LLM\'s answers.</p>')
    samples = "".join(f"<li><code>{escape(s, 500)}</code></li>" for s in (p.get("error_samples") or [])[:SAMPLES])
    errors = _errors(p)
    lines = [escape(p.get("reason") or ""), f"errors: {escape(errors)}" if errors else "",
             f"valid: accuracy {_num(p.get('valid_accuracy'))} on {escape(p.get('valid_support', 0))} rows "
             f"(chance {_num(p.get('valid_chance'))})"]
    body = "".join(f"<p>{line}</p>" for line in lines if line)
    return (f"<details><summary>{_name(p.get('name', ''))} — {escape(p.get('status', ''))}, "
            f"valid n {escape(p.get('valid_support', 0))}{', ' + escape(errors) if errors else ''}</summary>"
            f"{body}{'<p>error samples:</p><ul>' + samples + '</ul>' if samples else ''}{code}</details>")


def _programs(report: dict) -> str:
    programs = report.get("programs") or []
    if not programs:
        return _section("programs", "Programs", "<p>No programs.</p>")
    details = "".join(_program_detail(p) for p in programs)
    return _section("programs", "Programs",
                    f"{_programs_table(programs)}<h3>Sources, errors and valid support</h3>{details}")


def _votes(votes: dict) -> str:
    """A row's votes grouped by class: who said what."""
    by_class: dict[str, list[str]] = {}
    for name, vote in votes.items():
        by_class.setdefault(str(vote), []).append(str(name))
    return "<br>".join(f"<b>{escape(c, NAME_CHARS)}</b>: " + ", ".join(_name(n) for n in names)
                       for c, names in by_class.items())


def _disagreements(report: dict) -> str:
    rows = report.get("disagreements")
    if not rows:
        return _section("disagreements", "Where the programs disagree (train)",
                        "<p>No train row where the label model's programs vote different classes.</p>")
    out = []
    for r in rows:
        label, gold = r.get("label"), r.get("gold")
        miss = ' class="miss"' if gold is not None and label != gold else ""
        out.append(f"<tr><td>{escape(r.get('id', ''), 100)}</td>"
                   f'<td class="text">{escape(r.get("text", ""), 500)}</td>'
                   f"<td>{_votes(r.get('votes') or {})}</td><td{miss}>{escape(label or '—', NAME_CHARS)}</td>"
                   f"<td>{escape(gold or '—', NAME_CHARS)}</td></tr>")
    return _section("disagreements", "Where the programs disagree (train)",
                    f"<p>{len(rows)} train rows with conflicting votes, the closest splits first.</p>"
                    "<table><tr><th>id</th><th>text</th><th>votes</th><th>label model</th><th>gold</th></tr>"
                    f"{''.join(out)}</table>")


def _agreement_cell(share: object, rows: object, a: str, b: str, same: bool) -> str:
    if same:
        return f'<td class="c muted" title="{escape(a, NAME_CHARS)}: votes on {escape(rows)} rows">·</td>'
    value = _float(share)
    tip = f"{escape(a, NAME_CHARS)} / {escape(b, NAME_CHARS)}: both vote on {escape(rows)} rows"
    if value is None:
        return f'<td class="c muted" title="{tip}">—</td>'
    return (f'<td class="n" style="background: hsl({round(120 * value)}, 70%, 82%)" '
            f'title="{tip}, agree on {100 * value:.1f}%">{value:.2f}</td>')


def _agreement(report: dict) -> str:
    a = report.get("agreement") or {}
    names, shares, counts = a.get("programs") or [], a.get("share") or [], a.get("rows") or []
    title = "Agreement between programs (train, rows both vote)"
    if len(names) < 2:
        return _section("agreement", title, "<p>Fewer than two programs voted: nothing to compare.</p>")
    head = "".join(f'<th class="c" title="{escape(n, NAME_CHARS)}">{i + 1}</th>' for i, n in enumerate(names))
    rows = []
    for i, (name, share_row, count_row) in enumerate(zip(names, shares, counts)):
        cells = "".join(_agreement_cell(s, n, name, names[j], i == j)
                        for j, (s, n) in enumerate(zip(share_row, count_row)))
        rows.append(f"<tr><th>{i + 1}. {_name(name)}</th>{cells}</tr>")
    left = (f"<p>{escape(a['left_out'])} more programs are left out of the map.</p>" if a.get("left_out") else "")
    return _section("agreement", title,
                    "<p>Share of the rows both programs vote on where they vote the same class "
                    "(red: they disagree, green: they agree; hover for the number of rows).</p>"
                    f'<table class="agree"><tr><th>program</th>{head}</tr>{"".join(rows)}</table>{left}')


def render_html(report: dict) -> str:
    dataset = escape(report.get("dataset", ""))
    sections = [_status(report), _run(report), _scores(report), _per_class(report), _groups(report),
                _concepts(report), _confusions(report),
                _balance(report), _calibration(report), _programs(report), _disagreements(report), _agreement(report)]
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            f"<title>Alchemist report: {dataset}</title>\n<style>{CSS}</style></head><body>\n"
            f"<h1>Alchemist report — {dataset}</h1>\n" + "\n".join(sections) + "\n</body></html>\n")


def write_html(report: dict, path: Path) -> None:
    if "programs" not in report:  # a run that failed before any program was applied
        return
    atomic_write_text(path, render_html(report))
