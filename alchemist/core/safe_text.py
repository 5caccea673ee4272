"""Text that comes from programs, workers or providers, made safe to print, store and render.

Such text is hostile: it may carry terminal escape sequences (erase line, cursor moves, OSC 52
clipboard writes), bidi overrides that make code read differently than it runs, rich markup
(`[/]` crashes a console) or HTML, and a secret it managed to read. `clean` removes controls and
redacts secrets; `markup` and `html_text` escape for rich and for HTML. A program's source is shown with
`code_text`, which keeps its lines and shows such characters as escapes instead of dropping them.
"""

from __future__ import annotations

import html
import os
import re
import unicodedata

# C0 controls except tab/newline, DEL, C1 controls, line/paragraph separators, lone surrogates (no
# file or terminal can encode them), and characters that show nothing but can hide text from a reader
# or from an LLM shown the text: variation selectors, fillers, and (below) every format character (Cf:
# bidi marks, zero-width characters, tags, soft hyphen...).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\u034f\u115f\u1160\u17b4\u17b5"
                      "\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]")
MAX_INPUT = 1_000_000  # characters looked at, at most (every source of such text is far smaller)
KEY_PATTERN = re.compile(r"\b(sk|key|api)[-_][A-Za-z0-9_*.\-]{6,}", re.I)
_SECRET_VARS = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.I)


def redact(text: str) -> str:
    """Never let a key-like string or the value of a secret environment variable reach a file."""
    return KEY_PATTERN.sub("[redacted]", _secret_values(text))


def _secret_values(text: str) -> str:
    for var, value in os.environ.items():
        if value and len(value) >= 8 and _SECRET_VARS.search(var) and value in text:
            text = text.replace(value, "[redacted]")
    return text


def safe_url(url: str | None) -> str:
    """An address fit to print or store: a password in it and every query value replaced by [redacted]
    (`http://user:pw@host/v1?api_key=...`); what the request uses is the address as given."""
    if not url:
        return ""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.split(':')[0]}:[redacted]@{host}" if ":" in user else f"[redacted]@{host}"
        query = urlencode([(k, "[redacted]") for k, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="[]")
        return redact(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))
    except ValueError:
        return "[an address that cannot be shown]"


def clean(text: object, limit: int = 500, one_line: bool = True) -> str:
    """Printable text: no control characters (a newline becomes ' | ' on one line), secrets
    redacted, at most `limit` characters."""
    s = text if isinstance(text, str) else str(text)
    s = s[:MAX_INPUT]
    if one_line:
        s = s.replace("\r\n", "\n").replace("\n", " | ").replace("\t", " ")
    s = _CONTROL.sub("", s)
    if not s.isascii():
        s = "".join(c for c in s if unicodedata.category(c) != "Cf")
    s = redact(s)  # before cutting: a cut must never keep part of a secret
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def code_text(text: object, limit: int = 200_000) -> str:
    """A program's source for a person to read: its lines and tabs as they are, and every other control or
    invisible character shown as its escape (`\\x0c`, `\\u200b`) rather than dropped: dropped, code would
    read differently than it runs (a form feed resets Python's indentation count, a lone CR ends a line, a
    zero-width space in a string changes what it matches). A word that mixes Latin letters with look-alikes
    from another script (a Cyrillic `а` in `pаss`) shows those letters as escapes too. Secrets redacted. A
    source over `limit` characters is cut where it says so and by how much. The default is the gate's
    size limit (sandbox/policy.py MAX_SOURCE_BYTES): a program that can run is always shown whole, so
    nothing that decides what runs — a later definition, a decorator — can hide in a cut part."""
    s = _secret_values(text if isinstance(text, str) else str(text))
    s = _CONTROL.sub(lambda m: _escaped(m.group()), s[:MAX_INPUT].replace("\r\n", "\n"))
    if not s.isascii():  # format characters, and characters Python or a reader takes for others (NBSP, ＿)
        s = "".join(_escaped(c) if unicodedata.category(c) == "Cf" or _compat(c) else c for c in s)
        s = _WORD.sub(_marked_word, s)
    s = _secret_values(s)  # before cutting, as in clean(); only the values of secret variables: a key-like
    # pattern in code is code (hidden, `api_1-vote` would read as something else) and the file holds it anyway
    return s if len(s) <= limit else s[:limit] + _gap(s[limit:])


def name_text(text: str) -> str:
    """A name taken from a file name (a program's): its controls, line breaks, invisible and look-alike
    characters as escapes (a backslash doubled first, so an escape never reads as a name that has it
    literally), so two names never read alike and nothing in one acts on a terminal or a report."""
    return code_text(text.replace("\\", "\\\\"), 200).replace("\n", "\\n").replace("\t", "\\t")


_WORD = re.compile(r"\w+")


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if char.isalpha() and name else ""


def _marked_word(match: re.Match) -> str:
    """A word mixing Latin letters with letters of another script: the others as escapes. Letters Python
    reads as other letters (identifiers are NFKC-normalised: mathematical or fullwidth `𝗅𝖺𝖻𝖾𝗅` *is*
    `label`) are escapes wherever they are."""
    word = match.group()
    if word.isascii():
        return word
    scripts = {_script(c) for c in word} - {""}
    mixed = "LATIN" in scripts and len(scripts) >= 2
    if not mixed and all(c in _LATIN_LOOKALIKES for c in word if c.isalpha()):  # "сор" reads as "cop"
        return "".join(_escaped(c) if c in _LATIN_LOOKALIKES else c for c in word)
    return "".join(_escaped(c) if (mixed and _script(c) not in ("LATIN", "")) or _compat(c) else c for c in word)


# Cyrillic and Greek letters that look like Latin ones: a word made only of them reads as a Latin word
_LATIN_LOOKALIKES = set("авекмнорстухіјѕԁһԛԝӏАВЕКМНОРСТУХІЈЅԁΑΒΕΖΗΙΚΜΝΟΡΤΥΧοναικρτυχ")


def _compat(char: str) -> bool:
    """A character that NFKC normalisation (what Python does to identifiers) turns into another."""
    return not char.isascii() and unicodedata.normalize("NFKC", char) != char


def _gap(hidden: str) -> str:
    if not hidden:
        return ""
    return (f"\n# … [cut here: {len(hidden):,} more characters ({hidden.count(chr(10)):,} line breaks) not "
            f"shown; the whole file decides what runs] …\n")


def markup(text: object, limit: int = 500) -> str:
    """Clean text escaped for rich markup (so `[/]` or `[red]` print as themselves)."""
    from rich.markup import escape

    return escape(clean(text, limit))


def html_text(text: object, limit: int = 500, one_line: bool = True) -> str:
    return html.escape(clean(text, limit, one_line))
