"""Label Studio: tasks it imports as they are (each label a prediction with the run as model_version and
the calibrated confidence as score, the programs' votes in the task's data), the labeling config they
go with, and reading a reviewer's JSON export back."""

from __future__ import annotations

import math
from xml.sax.saxutils import quoteattr

FROM_NAME, TO_NAME = "label", "text"


def label_config(classes: list[str]) -> str:
    """The labeling interface the tasks fit: the text, one choice per class, the programs' votes below."""
    choices = "\n".join(f"    <Choice value={quoteattr(c)}/>" for c in classes)
    return (f'<View>\n  <Text name="{TO_NAME}" value="$text"/>\n'
            f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single" showInline="true">\n{choices}\n'
            f"  </Choices>\n"
            f'  <Header value="Programs\' votes" size="6"/>\n  <Text name="votes" value="$votes"/>\n</View>\n')


def task(row: dict, votes: dict[str, str], meta: dict) -> dict:
    """One task: data (text, votes, where the row is from) and the run's label as a prediction."""
    shown = "; ".join(f"{name}: {label}" for name, label in votes.items()) or "no program voted"
    out = {"data": {"text": row["text"], "votes": shown, "votes_by_program": votes, **meta}}
    if row["label_name"]:
        score = row["confidence"]
        out["predictions"] = [{
            "model_version": meta["alchemist_run"],
            **({"score": round(float(score), 4)} if not math.isnan(score) else {}),
            "result": [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices",
                        "value": {"choices": [row["label_name"]]}}]}]
    return out


def reviewed(tasks: list, where: str) -> list[tuple[dict, str, int, bool]]:
    """(task data, chosen class name, task number, whether its annotators disagreed) of every task a reviewer
    answered: the newest annotation
    that was not cancelled, in the full export (annotations[].result) or the minimal one (JSON_MIN: the
    choice under the config's name)."""
    out = []
    # JSON_MIN has a row per annotation, newest first: replay oldest first so the newest answer is kept
    order = sorted(range(len(tasks)), key=lambda i: _when(tasks[i]))
    for i in order:
        n, t = i + 1, tasks[i]
        if not isinstance(t, dict):
            continue
        if "data" in t and isinstance(t["data"], dict):
            choices = _answers(t.get("annotations") or [])
            if choices:
                out.append((t["data"], choices[-1], n, len(set(choices)) > 1))
        elif FROM_NAME in t:  # JSON_MIN: the task's data and each control's value side by side
            value = t[FROM_NAME]
            value = value.get("choices", [None])[0] if isinstance(value, dict) else value
            if isinstance(value, list):
                value = value[0] if value else None
            if value is not None:
                out.append((t, str(value), n, False))
    return out


def _when(row: object) -> tuple:
    """When a JSON_MIN row was answered (full tasks: their place; their annotations are ordered within)."""
    if not isinstance(row, dict) or "data" in row:
        return ("",)
    return (str(row.get("updated_at") or row.get("created_at") or ""), int(row.get("annotation_id") or 0)
            if str(row.get("annotation_id") or "").isdigit() else 0)


def _answers(annotations: list) -> list[str]:
    """Each completed annotation's choice, oldest first."""
    done = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]
    done.sort(key=lambda a: str(a.get("updated_at") or a.get("created_at") or ""))
    out = []
    for a in done:
        for r in a.get("result") or []:
            if isinstance(r, dict) and r.get("from_name") == FROM_NAME and r.get("type") == "choices":
                choices = (r.get("value") or {}).get("choices") or []
                if choices:
                    out.append(str(choices[0]))
                    break
    return out
