"""Static gate: known escape routes are rejected with a reason; ordinary LLM-style programs pass."""

import pytest

from alchemist.sandbox.gate import check_source

ESCAPES = {
    "import os": ("import os\ndef label_function(x):\n    return 0\n", "import of 'os'"),
    "import subprocess inside": ("def label_function(x):\n    import subprocess\n    return 0\n", "subprocess"),
    "from os import system": ("from os import system\ndef label_function(x):\n    return 0\n", "'os'"),
    "relative import": ("from . import x\ndef label_function(x):\n    return 0\n", "relative"),
    "star import": ("from re import *\ndef label_function(x):\n    return 0\n", "import *"),
    "re.enum.sys chain": ("import re\ndef label_function(x):\n    re.enum.sys.modules['os']\n    return 0\n", "re.enum"),
    "json.codecs": ("import json\ndef label_function(x):\n    return json.codecs\n", "json.codecs"),
    "datetime.sys": ("import datetime\ndef label_function(x):\n    return datetime.sys\n", "datetime.sys"),
    "from re import enum": ("from re import enum\ndef label_function(x):\n    return 0\n", "enum"),
    "private module attr": ("import collections\ndef label_function(x):\n    return collections._sys\n", "collections._sys"),
    "module as value": ("import re\ndef label_function(x):\n    m = [re][0]\n    return 0\n", "module 're'"),
    "module passed": ("import re\ndef f(m):\n    return m\ndef label_function(x):\n    return f(re)\n", "module 're'"),
    "dunder class": ("def label_function(x):\n    return ().__class__\n", "__class__"),
    "subclasses": ("def label_function(x):\n    return [].__class__.__base__.__subclasses__()\n", "__subclasses__"),
    "dunder name": ("def label_function(x):\n    return __builtins__\n", "__builtins__"),
    "__import__": ("def label_function(x):\n    return __import__('os')\n", "__import__"),
    "eval": ("def label_function(x):\n    return eval('1')\n", "'eval'"),
    "exec": ("def label_function(x):\n    exec('1')\n    return 0\n", "'exec'"),
    "compile": ("def label_function(x):\n    compile('1', 'f', 'eval')\n    return 0\n", "'compile'"),
    "open": ("def label_function(x):\n    open('/tmp/f', 'w')\n    return 0\n", "'open'"),
    "getattr": ("def label_function(x):\n    return getattr(x, 'upper')()\n", "'getattr'"),
    "eval as value": ("def label_function(x):\n    f = eval\n    return 0\n", "'eval'"),
    "globals": ("def label_function(x):\n    return globals()\n", "'globals'"),
    "vars": ("def label_function(x):\n    return vars()\n", "'vars'"),
    "type": ("def label_function(x):\n    return type(x)\n", "'type'"),
    "format traversal": ("def label_function(x):\n    return '{0.__class__}'.format(x)\n", "'format'"),
    "format_map": ("def label_function(x):\n    return '{a}'.format_map({})\n", "format_map"),
    "string.Formatter": ("import string\ndef label_function(x):\n    return string.Formatter()\n", "string.Formatter"),
    "get_field": ("def label_function(x):\n    f = x.get_field\n    return 0\n", "get_field"),
    "generator frame": ("def g():\n    yield 1\ndef label_function(x):\n    return g().gi_frame\n", "gi_frame"),
    "frame back": ("def label_function(x):\n    return x.f_back\n", "f_back"),
    "traceback frame": ("def label_function(x):\n    try:\n        1/0\n    except Exception as e:\n"
                        "        return e.__traceback__.tb_frame\n", "tb_frame"),
    "tb_frame": ("def label_function(x):\n    return x.tb_frame\n", "tb_frame"),
    "reduce method": ("class A:\n    def __reduce__(self):\n        return (print, ())\n"
                      "def label_function(x):\n    return A()\n", "__reduce__"),
    "metaclass": ("class A(metaclass=x):\n    pass\ndef label_function(x):\n    return 0\n", "metaclass"),
    "patch imported": ("from collections import Counter\ndef label_function(x):\n"
                       "    Counter.most_common = None\n    return 0\n", "changing attributes"),
    "singledispatch eval": ("from functools import singledispatch\ndef label_function(x):\n    return 0\n",
                            "singledispatch"),
    "typing get_type_hints": ("import typing\ndef label_function(x):\n    return typing.get_type_hints(x)\n",
                              "typing.get_type_hints"),
    "update_wrapper globals": ("import functools\ndef f():\n    pass\ndef label_function(x):\n"
                               "    functools.update_wrapper(f, print, assigned=(), updated=('__globals__',))\n"
                               "    return 0\n", "update_wrapper"),
    "wraps": ("from functools import wraps\ndef label_function(x):\n    return 0\n", "wraps"),
    "dunder string": ("def label_function(x):\n    return ('__globals__',)\n", "'__globals__'"),
    "match keyword dunder": ("def label_function(x):\n    match print:\n        case object(__globals__=g):\n"
                             "            return 0\n    return 1\n", "__globals__"),
    "match keyword frame": ("def label_function(x):\n    match x:\n        case C(tb_frame=f):\n"
                            "            return 0\n    return 1\n", "tb_frame"),
    "match capture dunder": ("def label_function(x):\n    match x:\n        case __builtins__:\n"
                             "            return 0\n", "__builtins__"),
    "match star dunder": ("def label_function(x):\n    match x:\n        case [*__builtins__]:\n"
                          "            return 0\n    return 1\n", "__builtins__"),
    "match rest dunder": ("def label_function(x):\n    match x:\n        case {**__builtins__}:\n"
                          "            return 0\n    return 1\n", "__builtins__"),
    "except as dunder": ("def label_function(x):\n    try:\n        1/0\n    except Exception as __builtins__:\n"
                         "        return 0\n", "__builtins__"),
    "lambda dunder arg": ("def label_function(x):\n    f = lambda __builtins__: 0\n    return f(1)\n", "__builtins__"),
    "async": ("async def f():\n    pass\ndef label_function(x):\n    return 0\n", "async"),
    "no entry point": ("def label(x):\n    return 0\n", "label_function"),
    "no argument": ("def label_function():\n    return 0\n", "one argument"),
    "syntax error": ("def label_function(x)\n    return 0\n", "syntax error"),
    "huge": ("def label_function(x):\n    return 0\n" + "#" * 300_000, "larger than"),
    "deep nesting": ("def label_function(x):\n    return " + "(" * 5000 + "1" + ")" * 5000 + "\n", "nested"),
}


@pytest.mark.parametrize("name", list(ESCAPES))
def test_gate_rejects_escape(name):
    source, expected = ESCAPES[name]
    result = check_source(source)
    assert not result.ok, f"{name} passed the gate"
    assert expected in result.reason


GOOD = {
    "keywords": "def label_function(comment):\n    return 1 if 'subscribe' in comment.lower() else -1\n",
    "regex module level": ("import re\nPAT = re.compile(r'https?://', re.I)\n"
                           "def label_function(x):\n    return 1 if PAT.search(x) else -1\n"),
    "import inside": ("def label_function(x):\n    import re\n    from collections import Counter\n"
                      "    c = Counter(re.findall(r'\\w+', x.lower()))\n    return 0 if c['good'] > 1 else -1\n"),
    "typing and main block": ("from typing import List, Optional\nWORDS: List[str] = ['bad']\n"
                              "def label_function(text: str) -> int:\n    return 0 if any(w in text for w in WORDS) else -1\n"
                              "if __name__ == '__main__':\n    print(label_function('bad'))\n"),
    "urllib.parse": ("import urllib.parse\ndef label_function(x):\n"
                     "    return 1 if urllib.parse.urlparse(x).netloc else -1\n"),
    "urllib.parse alias": ("import urllib.parse as up\ndef label_function(x):\n    return 1 if up.quote(x) else -1\n"),
    "class with init": ("class Scorer:\n    def __init__(self):\n        self.words = {'great'}\n"
                        "    def score(self, x):\n        return len(self.words & set(x.split()))\n"
                        "S = Scorer()\ndef label_function(x):\n    return 1 if S.score(x) else -1\n"),
    "helpers and math": ("import math\nfrom functools import lru_cache\n@lru_cache(maxsize=None)\n"
                         "def norm(n):\n    return math.log1p(n)\ndef label_function(x):\n"
                         "    return 1 if norm(len(x)) > 3 else 0\n"),
    "match statement": ("def label_function(x):\n    match x.split():\n        case [first, *rest] if first == 'buy':\n"
                        "            return 1\n        case _:\n            return -1\n"),
    "try except": ("def label_function(x):\n    try:\n        return int(x) % 2\n    except ValueError:\n        return -1\n"),
}


@pytest.mark.parametrize("name", list(GOOD))
def test_gate_accepts_ordinary_programs(name):
    result = check_source(GOOD[name])
    assert result.ok, result.reason


@pytest.mark.parametrize("source, why", [
    ("def label_function(x):\n    return 1\ndef \U0001d5c5abel_function(x):\n    return 0\n", "not ASCII"),
    ("def label_function(x):\n    return 1\ndef label\ufe4ffunction(x):\n    return 0\n", "not ASCII"),
    ("x = 'win'\ndef label_function(\u0445):\n    return 1 if 'win' in x else 0\n", "not ASCII"),
    ("def label_function(x):\n    return 1\nlabel_function = lambda x: 0\n", "bound more than once"),
    ("def label_function(x):\n    return 1\ndef label_function(x):\n    return 0\n", "bound more than once"),
    ("def label_function(x):\n    return 1\nfrom re import match as label_function\n", "bound more than once"),
])
def test_the_function_that_runs_is_the_one_a_reader_finds(source, why):
    """Python reads names by their NFKC form and the last binding wins: a second definition hidden as another
    name, a look-alike parameter, or a rebinding would run something else than what reads first."""
    result = check_source(source)
    assert not result.ok and why in result.reason


def test_text_in_any_language_stays_allowed_in_strings_and_comments():
    assert check_source("def label_function(x):\n    return 1 if 'très' in x or f'{x}é' else 0  # café\n").ok
