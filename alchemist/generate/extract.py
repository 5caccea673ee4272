"""From an LLM reply to program source: fenced blocks of any kind, no fence at all, truncation."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from alchemist.sandbox.policy import ENTRY_POINT

FENCE = re.compile(r"^[ \t]*(```|~~~)[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:^[ \t]*\1[ \t]*$|\Z)", re.M | re.S)
CODE_START = re.compile(r"^(import |from \w|def |class |@|#|[A-Z_][A-Z0-9_]*\s*[:=])")
STRATEGY = re.compile(r"^\s*#\s*strategy\s*:\s*(.+)$", re.I | re.M)


@dataclass
class Extracted:
    code: str  # "" when no code was found
    problem: str = ""  # why the reply gives no usable code (empty when code looks fine so far)


def _blocks(reply: str) -> list[tuple[str, str]]:
    """(language tag, body) of every fenced block; an unclosed final fence runs to the end."""
    return [(m.group(2).lower(), m.group(3)) for m in FENCE.finditer(reply)]


def _pick(blocks: list[tuple[str, str]]) -> str:
    """The block that defines the entry point (the last one: replies often refine), else the longest Python one."""
    with_entry = [b for _, b in blocks if f"def {ENTRY_POINT}" in b]
    if with_entry:
        return with_entry[-1]
    python = [b for tag, b in blocks if tag in ("python", "py", "python3", "")]
    return max(python or [b for _, b in blocks], key=len)


def _unfenced(reply: str) -> str:
    """Code in a reply without fences: from the first code-looking line before the entry point to
    the end of the indented body, trimmed until it parses."""
    lines = reply.splitlines()
    entry = next((i for i, line in enumerate(lines) if line.startswith(f"def {ENTRY_POINT}")), None)
    if entry is None:
        return ""
    start = entry
    while start > 0 and (not lines[start - 1].strip() or CODE_START.match(lines[start - 1])
                         or lines[start - 1][:1] in " \t"):
        start -= 1
    end = entry + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][:1] in " \t#"
                                or CODE_START.match(lines[end])):
        end += 1
    chunk = lines[start:end]
    while chunk and not _parses("\n".join(chunk)):
        chunk.pop()
    return "\n".join(chunk).strip("\n") + "\n" if chunk else ""


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def extract_code(reply: str, truncated: bool = False) -> Extracted:
    """Find the program in a reply; say what is wrong when there is none."""
    if not reply.strip():
        return Extracted("", "the reply was empty")
    blocks = _blocks(reply)
    code = _pick(blocks) if blocks else _unfenced(reply)
    if not code.strip():
        return Extracted("", f"the reply contains no Python code defining {ENTRY_POINT}")
    code = code.strip("\n") + "\n"
    if truncated and not _parses(code):
        return Extracted(code, "the reply was cut off before the program ended (output token limit)")
    return Extracted(code)


def strategy_of(code: str) -> str:
    """The one-line strategy the program states in a `# Strategy:` comment (or its first comment)."""
    m = STRATEGY.search(code)
    if m:
        return m.group(1).strip()[:200]
    first = next((line.strip("# ").strip() for line in code.splitlines() if line.strip().startswith("#")), "")
    return first[:200]
