"""Static gate: reject unsafe or malformed labeling programs before anything runs.

Parses with `ast` (never executes). It is a filter in front of the sandbox, not the sandbox:
it rejects the known escape routes (forbidden builtins, dunders, frame and format traversal,
modules used as values, a module's own submodules) so that the worker rarely has to contain them.
"""

from __future__ import annotations

import ast
import importlib
import re
import types
from dataclasses import dataclass

from alchemist.sandbox.policy import (
    ALLOWED_DUNDER_NAMES,
    ALLOWED_DUNDER_STRINGS,
    ALLOWED_MODULES,
    DENIED_MODULE_ATTRS,
    ENTRY_POINT,
    FORBIDDEN_ATTRS,
    FORBIDDEN_NAMES,
    MAX_SOURCE_BYTES,
)


@dataclass(frozen=True)
class GateResult:
    ok: bool
    reason: str = ""


class _Reject(Exception):
    pass


# Control characters other than tab and line breaks. Python reads some as layout no display shows (a form
# feed resets the indentation count, a lone CR ends a line), so the code would read differently than it
# runs; a string that needs one writes it as an escape.
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _module_attr_ok(module: str, attr: str) -> bool:
    """True when `module.attr` is a public, non-module attribute a program may use."""
    if attr.startswith("_"):
        return False
    allowed = ALLOWED_MODULES[module]
    if allowed is not None:
        return attr in allowed
    if attr in DENIED_MODULE_ATTRS.get(module, ()):
        return False
    value = getattr(importlib.import_module(module), attr, None)
    return value is not None and not isinstance(value, types.ModuleType)


class _Checker(ast.NodeVisitor):
    def __init__(self) -> None:
        self.modules: dict[str, str] = {}  # local name -> dotted module (or package prefix)
        self.imported: set[str] = set()  # names bound by imports (module aliases and imported objects)

    # --- imports -------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            name = alias.name
            if name not in ALLOWED_MODULES:
                raise _Reject(f"line {node.lineno}: import of '{name}' is not allowed "
                              f"(allowed: {', '.join(sorted(ALLOWED_MODULES))})")
            if alias.asname:
                self._bind_module(alias.asname, name)
            else:  # `import urllib.parse` binds `urllib`, reachable only through the allowed path
                top = name.split(".")[0]
                self._bind_module(top, top if top in ALLOWED_MODULES else f"{top}.*")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            raise _Reject(f"line {node.lineno}: relative imports are not allowed")
        if module not in ALLOWED_MODULES:
            raise _Reject(f"line {node.lineno}: import from '{module}' is not allowed "
                          f"(allowed: {', '.join(sorted(ALLOWED_MODULES))})")
        for alias in node.names:
            if alias.name == "*":
                raise _Reject(f"line {node.lineno}: 'from {module} import *' is not allowed")
            if not _module_attr_ok(module, alias.name):
                raise _Reject(f"line {node.lineno}: '{alias.name}' from '{module}' is not allowed")
            self._bind_name(alias.asname or alias.name)
            self.imported.add(alias.asname or alias.name)

    def _bind_module(self, local: str, module: str) -> None:
        self._check_name(local, 0)
        self.modules[local] = module
        self.imported.add(local)

    def _bind_name(self, local: str) -> None:
        self._check_name(local, 0)
        self.modules.pop(local, None)

    # --- names and attributes ---------------------------------------------------------------
    def _check_name(self, name: str, lineno: int) -> None:
        if name in FORBIDDEN_NAMES:
            raise _Reject(f"line {lineno}: use of '{name}' is not allowed")
        if _is_dunder(name) and name not in ALLOWED_DUNDER_NAMES:
            raise _Reject(f"line {lineno}: dunder name '{name}' is not allowed")

    def visit_Name(self, node: ast.Name) -> None:
        self._check_name(node.id, node.lineno)
        if node.id in self.modules and isinstance(node.ctx, ast.Load):
            raise _Reject(f"line {node.lineno}: module '{node.id}' may only be used as "
                          f"'{node.id}.<function>', not as a value")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if _is_dunder(attr) or attr in FORBIDDEN_ATTRS:
            raise _Reject(f"line {node.lineno}: attribute '{attr}' is not allowed")
        chain = self._module_chain(node)
        if chain is not None:
            self._check_module_chain(node, chain)
            return
        if not isinstance(node.ctx, ast.Load) and self._root_name(node) in self.imported:
            raise _Reject(f"line {node.lineno}: changing attributes of imported objects is not allowed")
        self.generic_visit(node)

    @staticmethod
    def _root_name(node: ast.AST) -> str | None:
        while isinstance(node, ast.Attribute):
            node = node.value
        return node.id if isinstance(node, ast.Name) else None

    def _module_chain(self, node: ast.Attribute) -> list[str] | None:
        """['re', 'compile'] for `re.compile` when `re` is a module alias; None otherwise."""
        parts: list[str] = []
        cur: ast.AST = node
        while isinstance(cur, ast.Attribute):
            parts.append(cur.attr)
            cur = cur.value
        if isinstance(cur, ast.Name) and cur.id in self.modules:
            return [cur.id] + parts[::-1]
        return None

    def _check_module_chain(self, node: ast.Attribute, chain: list[str]) -> None:
        if not isinstance(node.ctx, ast.Load):
            raise _Reject(f"line {node.lineno}: assigning to module attributes is not allowed")
        module = self.modules[chain[0]]
        rest = chain[1:]
        # Walk through allowed dotted module paths (`urllib.parse`), then one public attribute.
        while module not in ALLOWED_MODULES or (rest and f"{module}.{rest[0]}" in ALLOWED_MODULES):
            if not rest:
                raise _Reject(f"line {node.lineno}: module '{'.'.join(chain)}' used as a value")
            nxt = f"{module.removesuffix('.*')}.{rest[0]}"
            if nxt not in ALLOWED_MODULES:
                raise _Reject(f"line {node.lineno}: '{'.'.join(chain)}' is not allowed")
            module, rest = nxt, rest[1:]
        if not rest:
            raise _Reject(f"line {node.lineno}: module '{'.'.join(chain)}' used as a value")
        if not _module_attr_ok(module, rest[0]):
            raise _Reject(f"line {node.lineno}: '{module}.{rest[0]}' is not allowed "
                          "(submodules, private and code-evaluating attributes are blocked)")

    # --- definitions and statements -----------------------------------------------------------
    def _check_def(self, node: ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef) -> None:
        if node.name == "__init__":
            return
        if _is_dunder(node.name):
            raise _Reject(f"line {node.lineno}: defining '{node.name}' is not allowed")
        self._check_name(node.name, node.lineno)
        self.modules.pop(node.name, None)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check_def(node)
        for arg in ast.walk(node.args):
            if isinstance(arg, ast.arg):
                self._check_name(arg.arg, node.lineno)
                self.modules.pop(arg.arg, None)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._check_def(node)
        if node.keywords:
            raise _Reject(f"line {node.lineno}: class keywords (metaclass=...) are not allowed")
        self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        raise _Reject(f"line {node.lineno}: async code is not allowed")

    # --- names and attributes that are plain strings in the tree (not Name/Attribute nodes) -------
    def _check_attr_string(self, attr: str, lineno: int) -> None:
        if _is_dunder(attr) or attr in FORBIDDEN_ATTRS:
            raise _Reject(f"line {lineno}: attribute '{attr}' is not allowed")

    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        for attr in node.kwd_attrs:  # `case C(__globals__=g)` reads C.__globals__
            self._check_attr_string(attr, node.lineno)
        self.generic_visit(node)

    def _visit_binding(self, node: ast.AST) -> None:
        """Names a pattern or handler binds (`case x`, `case [*x]`, `case {**x}`, `except E as x`)."""
        name = getattr(node, "name", None) or getattr(node, "rest", None)
        if name:
            self._check_name(name, node.lineno)
        self.generic_visit(node)

    visit_MatchAs = visit_MatchStar = visit_MatchMapping = visit_ExceptHandler = _visit_binding

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for arg in ast.walk(node.args):
            if isinstance(arg, ast.arg):
                self._check_name(arg.arg, node.lineno)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        # A dunder name as a string only serves reflection (update_wrapper(updated=("__globals__",))).
        if isinstance(node.value, str) and _is_dunder(node.value) and node.value not in ALLOWED_DUNDER_STRINGS:
            raise _Reject(f"line {node.lineno}: the string '{node.value[:40]}' names a dunder attribute")

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            self._check_name(name, node.lineno)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        for name in node.names:
            self._check_name(name, node.lineno)


def _find_entry_point(tree: ast.Module) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == ENTRY_POINT:
            return node
    return None


def _non_ascii_name(source: str) -> str:
    """Names must be ASCII: Python reads a name by its NFKC form, so `𝗅𝖺𝖻𝖾𝗅_function` or `label﹏function` *is*
    label_function while it reads as another name, and a Cyrillic `х` is another name than the `x` it looks
    like. (Text in strings and comments may be any language.)"""
    import io
    import tokenize

    text = {tokenize.STRING, tokenize.COMMENT, *(getattr(tokenize, k) for k in ("FSTRING_MIDDLE", "TSTRING_MIDDLE")
                                                    if hasattr(tokenize, k))}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type not in text and not tok.string.isascii():  # a name, or a piece the tokenizer split off one
                shown = tok.string.encode("ascii", "backslashreplace").decode()
                return (f"line {tok.start[0]}: the name '{shown}' is not ASCII (Python reads such a name as "
                        "another, so the code would not run as it reads): use ASCII names")
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return "the source cannot be tokenized"
    return ""


def _binds_entry(node: ast.AST) -> bool:
    """Whether this node binds the entry point's name: a def or class, a store, an import, global/nonlocal,
    a parameter."""
    return bool(
        (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == ENTRY_POINT)
        or (isinstance(node, ast.Name) and node.id == ENTRY_POINT and not isinstance(node.ctx, ast.Load))
        or (isinstance(node, ast.alias) and (node.asname or node.name) == ENTRY_POINT)
        or (isinstance(node, (ast.Global, ast.Nonlocal)) and ENTRY_POINT in node.names)
        or (isinstance(node, ast.arg) and node.arg == ENTRY_POINT))


def _rebound_entry(tree: ast.Module) -> str:
    """The entry point is bound once, by its top-level def: a second def, an assignment or an import of the
    name would make the function that runs another than the one a reader finds first."""
    bindings = sum(1 for node in ast.walk(tree) if _binds_entry(node))
    if bindings > 1:
        return (f"'{ENTRY_POINT}' is bound more than once (a second def, an assignment or an import of the name): "
                "the function that runs must be the one def a reader sees")
    return ""


def check_source(source: str) -> GateResult:
    """Accept or reject a program's source, with a one-line reason."""
    if len(source.encode("utf-8", "replace")) > MAX_SOURCE_BYTES:
        return GateResult(False, f"program is larger than {MAX_SOURCE_BYTES} bytes")
    if "\x00" in source:
        return GateResult(False, "program contains a NUL byte")
    if (bad := _CONTROL.search(source)) is not None:
        line = source.count("\n", 0, bad.start()) + 1
        return GateResult(False, f"line {line}: control character U+{ord(bad.group()[0]):04X} in the source "
                                 "(write it as an escape in a string)")
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        return GateResult(False, f"syntax error at line {e.lineno}: {e.msg}")
    except (RecursionError, MemoryError, ValueError):
        return GateResult(False, "program is too deeply nested to parse safely")
    if (why := _non_ascii_name(source)) or (why := _rebound_entry(tree)):
        return GateResult(False, why)
    entry = _find_entry_point(tree)
    if entry is None:
        return GateResult(False, f"no top-level 'def {ENTRY_POINT}(x)' found")
    if not entry.args.args and not entry.args.posonlyargs:
        return GateResult(False, f"'{ENTRY_POINT}' must take one argument (the text)")
    try:
        _Checker().visit(tree)
    except _Reject as e:
        return GateResult(False, str(e))
    except RecursionError:
        return GateResult(False, "program is too deeply nested to check safely")
    return GateResult(True)
