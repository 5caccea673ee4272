"""What generated programs may use. Shared by the static gate (parent) and the sandbox worker.

The gate is a filter and the worker's restricted builtins and module proxies are a second filter;
neither is the sandbox (that is the locked-down worker process).
"""

# Modules a program may import. A value of None means "every public, non-module attribute";
# a set means "only these names" (used where a module holds an eval path, e.g. typing.get_type_hints).
ALLOWED_MODULES: dict[str, frozenset[str] | None] = {
    "re": None,
    "string": None,
    "math": None,
    "cmath": None,
    "collections": None,
    "itertools": None,
    "functools": None,
    "unicodedata": None,
    "json": None,
    "datetime": None,
    "statistics": None,
    "difflib": None,
    "textwrap": None,
    "heapq": None,
    "bisect": None,
    "fractions": None,
    "decimal": None,
    "html": None,
    "urllib.parse": None,
    "typing": frozenset({
        "Any", "Callable", "Dict", "FrozenSet", "Iterable", "Iterator", "List", "Mapping",
        "Optional", "Pattern", "Sequence", "Set", "Tuple", "Union",
    }),
}

# Modules the C code of allowed modules imports at call time through the caller's builtins
# (datetime.strptime -> _strptime, strftime -> time). The import succeeds but hands the program
# nothing: the C caller reads the module from sys.modules itself.
INTERNAL_IMPORTS = ("_strptime", "time", "locale", "calendar")

# Loaded by the fork server before any program process exists (nothing can be imported after
# lockdown): the allowed modules, and what they import inside their functions on first use.
PRELOAD = (*ALLOWED_MODULES, "_strptime", "warnings")


# Attributes of allowed modules that reach code evaluation or attribute traversal by string.
DENIED_MODULE_ATTRS: dict[str, frozenset[str]] = {
    # singledispatch evaluates string annotations; update_wrapper/wraps copy any named attribute
    # (updated=("__globals__",)) onto a function the program owns.
    "functools": frozenset({"singledispatch", "singledispatchmethod", "update_wrapper", "wraps",
                            "WRAPPER_ASSIGNMENTS", "WRAPPER_UPDATES"}),
    "string": frozenset({"Formatter"}),  # format-string attribute traversal
}

# Builtins a program may not name at all (calling them, or taking them as values).
FORBIDDEN_NAMES = frozenset({
    "eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "delattr", "hasattr",
    "globals", "locals", "vars", "type", "dir", "input", "breakpoint", "help", "memoryview",
    "exit", "quit", "object", "super", "classmethod", "staticmethod", "property", "id",
    "__builtins__", "__loader__", "__spec__",
})

# Attribute names that walk frames, code objects or format strings.
FORBIDDEN_ATTRS = frozenset({
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
    "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "tb_frame", "tb_next",
    "co_code", "co_consts", "func_globals", "format", "format_map", "vformat", "get_field",
    "get_value", "mro",
})

# Builtins the worker gives a program (everything else is absent at run time).
SAFE_BUILTINS = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "complex", "dict",
    "divmod", "enumerate", "filter", "float", "format", "frozenset", "hash", "hex", "int",
    "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min", "next", "oct", "ord",
    "pow", "range", "repr", "reversed", "round", "set", "slice", "sorted", "str", "sum", "tuple",
    "zip", "True", "False", "None", "NotImplemented", "Ellipsis",
    "ArithmeticError", "AssertionError", "BaseException", "AttributeError", "Exception", "IndexError", "KeyError",
    "LookupError", "NameError", "NotImplementedError", "OverflowError", "RuntimeError",
    "StopIteration", "TypeError", "UnicodeError", "UnicodeDecodeError", "UnicodeEncodeError",
    "ValueError", "ZeroDivisionError", "MemoryError", "RecursionError",
)

# The one dunder name a program may read: `if __name__ == "__main__":` blocks are common in LLM code.
ALLOWED_DUNDER_NAMES = frozenset({"__name__"})
ALLOWED_DUNDER_STRINGS = frozenset({"__main__", "__name__"})

MAX_SOURCE_BYTES = 200_000
ENTRY_POINT = "label_function"
ABSTAIN = -1
