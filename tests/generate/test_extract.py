"""Finding the program in an LLM reply."""

import pytest

from alchemist.generate.extract import extract_code, strategy_of

PROGRAM = "def label_function(x):\n    return 1 if 'a' in x else -1\n"


@pytest.mark.parametrize("reply", [
    f"Sure!\n```python\n{PROGRAM}```\nThis checks for 'a'.",
    f"```py\n{PROGRAM}```",
    f"```\n{PROGRAM}```",
    f"~~~python\n{PROGRAM}~~~",
    f"```Python3\n{PROGRAM}```",
    f"Here you go:\n\n{PROGRAM}\nIt returns 1 when the text has an a.",
    f"  ```python\n{PROGRAM}  ```",
])
def test_code_is_found(reply):
    found = extract_code(reply)
    assert found.code.strip() == PROGRAM.strip() and not found.problem


def test_several_blocks_prefers_the_one_defining_the_entry_point():
    reply = ("First an example input:\n```text\nhello world\n```\nA helper:\n```python\nX = 1\n```\n"
             f"And the program:\n```python\nimport re\n{PROGRAM}```\nImproved version:\n```python\n"
             "def label_function(x):\n    return 0\n```")
    assert extract_code(reply).code == "def label_function(x):\n    return 0\n"


def test_unfenced_with_imports_and_constants():
    reply = "Program:\nimport re\nWORDS = ['a']\n\n" + PROGRAM + "\nThat's it."
    code = extract_code(reply).code
    assert code.startswith("import re") and "WORDS" in code and "That's it" not in code


def test_truncated_reply_is_reported():
    found = extract_code("```python\ndef label_function(x):\n    if 'a' in", truncated=True)
    assert found.code and "cut off" in found.problem


@pytest.mark.parametrize("reply,problem", [("", "empty"), ("   \n", "empty"), ("I'd rather not.", "no Python code")])
def test_no_code(reply, problem):
    found = extract_code(reply)
    assert not found.code and problem in found.problem


def test_strategy_comment():
    assert strategy_of("# Strategy: links mean spam\ndef label_function(x): ...") == "links mean spam"
    assert strategy_of("# keyword rule\ndef label_function(x): ...") == "keyword rule"
