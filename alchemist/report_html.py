"""report.html: the run report as one self-contained page (inline SVG bars, no plotting library)."""

from __future__ import annotations

from pathlib import Path

from alchemist.files import atomic_write_text
from alchemist.report import distilled_label, distilled_valid, features_line, refinement_line, sandbox_line
from alchemist.safe_text import html_text

BAR_W, ROW_H, LABEL_W = 260, 18, 90


def escape(value: object) -> str:
    """Escaped for HTML, without control characters (text in reports may come from programs)."""
    return html_text(value, 1000)


def _num(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _bars(programs: list[dict]) -> str:
    """Two bars per program: coverage (train) and accuracy on valid."""
    height = ROW_H * len(programs) + 30
    parts = [f'<svg width="{LABEL_W + 2 * BAR_W + 100}" height="{height}" role="img" '
             'aria-label="coverage and valid accuracy per program">',
             f'<text x="{LABEL_W}" y="12" class="h">coverage (train)</text>',
             f'<text x="{LABEL_W + BAR_W + 50}" y="12" class="h">accuracy (valid)</text>']
    for i, p in enumerate(programs):
        y = 20 + i * ROW_H
        parts.append(f'<text x="0" y="{y + 12}">{escape(p["name"])}</text>')
        for k, (key, cls) in enumerate((("coverage", "cov"), ("valid_accuracy", "acc"))):
            value = p.get(key)
            x = LABEL_W + k * (BAR_W + 50)
            width = 0 if value is None else max(1, round(BAR_W * value))
            parts.append(f'<rect x="{x}" y="{y}" width="{BAR_W}" height="{ROW_H - 4}" class="bg"/>')
            parts.append(f'<rect x="{x}" y="{y}" width="{width}" height="{ROW_H - 4}" class="{cls}"/>')
            parts.append(f'<text x="{x + BAR_W + 4}" y="{y + 12}">{_num(value, 2)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _confusion(matrix: list[list[int]] | None, classes: list[str]) -> str:
    if not matrix:
        return "<p>No confusion matrix: no labeled test split or no distilled model.</p>"
    top = max(max(row) for row in matrix) or 1
    head = "".join(f"<th>{escape(c)}</th>" for c in classes)
    rows = []
    for gold, row in zip(classes, matrix, strict=True):
        cells = "".join(f'<td style="background: rgba(40, 100, 200, {0.08 + 0.8 * v / top:.2f})">{v}</td>'
                        for v in row)
        rows.append(f"<tr><th>{escape(gold)}</th>{cells}</tr>")
    return (f'<table class="cm"><tr><th>gold \\ predicted</th>{head}</tr>{"".join(rows)}</table>')


def _programs_table(programs: list[dict]) -> str:
    rows = []
    for p in programs:
        errors = ", ".join(f"{k} {v}" for k, v in sorted(p.get("errors", {}).items()) if v)
        rows.append(f"<tr><td>{escape(p['name'])}</td><td>{escape(p['status'])}</td><td>{_num(p.get('coverage'))}</td>"
                    f"<td>{_num(p.get('overlap'))}</td><td>{_num(p.get('conflict'))}</td>"
                    f"<td>{_num(p.get('valid_accuracy'))}</td><td>{escape(str(p.get('valid_support', '—')))}</td>"
                    f"<td>{escape(p.get('reason') or errors)}</td></tr>")
    return ("<table><tr><th>program</th><th>status</th><th>coverage</th><th>overlap</th><th>conflict</th>"
            f"<th>valid acc</th><th>valid n</th><th>errors / reason</th></tr>{''.join(rows)}</table>")


def _per_class(report: dict) -> str:
    """Per-class precision / recall / F1 on test for the label model and the distilled model."""
    lm = report.get("label_model", {}).get("test_per_class")
    dist = report.get("distilled", {}).get("per_class")
    parts = [(name, part) for name, part in (("label model", lm), ("distilled", dist)) if part]
    if not parts:
        return ""
    share = report.get("label_model", {}).get("train_distribution") or {}
    head = "".join(f"<th>{n} P / R / F1</th>" for n, _ in parts) + ("<th>share of train labels</th>" if share else "")
    rows = []
    for c in report.get("classes", []):
        cells = "".join("<td>" + " / ".join(_num(part["classes"].get(c, {}).get(k)) for k in ("precision", "recall", "f1"))
                        + "</td>" for _, part in parts)
        support = parts[0][1]["classes"].get(c, {}).get("support", "")
        tail = f"<td>{_num(share.get(c))}</td>" if share else ""
        rows.append(f"<tr><td>{escape(c)}</td><td>{support}</td>{cells}{tail}</tr>")
    return (f"<h2>Per class on test</h2><table><tr><th>class</th><th>support</th>{head}</tr>{''.join(rows)}</table>"
            "<h2>Label model on test: confusion matrix</h2>"
            + _confusion((lm or {}).get("confusion_matrix"), report.get("classes", [])))


def render_html(report: dict) -> str:
    lm, mv, dist = report.get("label_model", {}), report.get("majority_vote", {}), report.get("distilled", {})
    cost = ""
    if "llm_calls" in report:
        cost = (f"<p>LLM: {report['llm_calls']} calls ({report.get('cached_calls', 0)} from the cache), "
                f"${report.get('cost_usd', 0):.4f}. Programs: <code>{escape(str(report.get('run_dir')))}</code></p>")
    test = dist.get("test_mean")
    warnings = "".join(f"<li>{escape(w)}</li>" for w in report.get("warnings", []))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Alchemist report: {escape(report['dataset'])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
td:first-child, th:first-child, td:nth-child(2), td:last-child {{ text-align: left; }}
svg text {{ font-size: 12px; }} svg .h {{ font-weight: bold; }}
.bg {{ fill: #eee; }} .cov {{ fill: #4a7bd0; }} .acc {{ fill: #3a9a5b; }}
.cm td {{ text-align: center; min-width: 3em; }}
</style></head><body>
<h1>Alchemist report — {escape(report['dataset'])}</h1>
<p>Programs: <code>{escape(str(report.get('programs_source', '')))}</code>. Status: {escape(report.get('status', ''))}{
escape(' — ' + str(report['status_reason'])) if report.get('status_reason') else ''}.
Results: <code>{escape(str(report.get('output_dir', '')))}</code></p>
{('<p>Data: ' + escape(str(report['data_note'])) + '</p>') if report.get('data_note') else ''}
{cost}
<h2>Scores ({escape(report.get('metric', ''))})</h2>
<table><tr><th></th><th>valid</th><th>test</th></tr>
<tr><td>label model ({escape(str(lm.get('name', '')))})</td><td>{_num(lm.get('valid'))}</td><td>{_num(lm.get('test'))}</td></tr>
<tr><td>majority vote</td><td>{_num(mv.get('valid'))}</td><td>{_num(mv.get('test'))}</td></tr>
<tr><td>{escape(distilled_label(dist))}</td><td>{_num(distilled_valid(dist))}</td>
<td>{'—' if test is None else f"{test:.3f} ± {dist.get('test_std') or 0:.3f}"}</td></tr></table>
<p>{escape("Label model " + str(lm.get('name', '')) + ": " + str(lm.get('reason', ''))) if lm.get('reason') else ''}</p>
<p>{escape(features_line(dist))}</p>
<p>{escape(refinement_line(report.get('refinement')))}</p>
<p>Train coverage {_num(report.get('coverage'))}, overlap {_num(report.get('overlap'))},
conflict {_num(report.get('conflict'))}.</p>
<p>{escape(sandbox_line(report))}</p>
<h2>Programs</h2>
{_bars(report.get('programs', []))}
{_programs_table(report.get('programs', []))}
{_per_class(report)}
<h2>Distilled model on test: confusion matrix</h2>
{_confusion(dist.get('confusion_matrix'), report.get('classes', []))}
{f'<h2>Warnings</h2><ul>{warnings}</ul>' if warnings else ''}
</body></html>
"""


def write_html(report: dict, path: Path) -> None:
    if "programs" not in report:  # a run that failed before any program was applied
        return
    atomic_write_text(path, render_html(report))
