"""The sandbox contains hostile programs; the good programs' columns stay exact.

These programs go straight to the sandbox (no static gate), so the worker's own layers are what
stops them: restricted builtins, rlimits, seccomp, namespaces, the CPU timer, the parent's deadline.
"""

from __future__ import annotations

import os
import socket
import sys
import threading

import numpy as np
import pytest

from alchemist.sandbox import ProgramSource, SandboxApplier, SandboxLimits

GOOD = "def label_function(x):\n    return 1 if 'spam' in x else 0\n"
# Reaches the real `os` module's globals without any builtin: the classic escape chain.
OS = ("def _os():\n    for c in ().__class__.__base__.__subclasses__():\n"
      "        if c.__name__ == '_wrap_close':\n            return c.__init__.__globals__\n")
TEXTS = [f"spam {i}" if i % 3 == 0 else f"hello {i}" for i in range(300)]
EXPECTED_GOOD = np.array([1 if "spam" in t else 0 for t in TEXTS], dtype=np.int8)


def hostile(tmp: str, port: int) -> dict[str, str]:
    marker = os.path.join(tmp, "marker")
    return {
        "infinite_loop": "def label_function(x):\n    while True:\n        pass\n",
        "c_level_loop": "def label_function(x):\n    return sum(range(10**13))\n",
        "memory_bomb": "def label_function(x):\n    return len('a' * (10**11))\n",
        "memory_growth": ("def label_function(x):\n    keep = []\n    while True:\n"
                          "        keep.append(bytearray(50 * 1024 * 1024))\n"),
        "process_spawn": OS + f"def label_function(x):\n    _os()['system']('touch {marker}.spawn')\n"
                              "    _os()['fork']()\n    return 1\n",
        "file_write": OS + f"def label_function(x):\n    f = _os()['__builtins__']['open']('{marker}.write', 'w')\n"
                           "    f.write('x')\n    return 1\n",
        "network_connect": OS + "def label_function(x):\n    s = _os()['__builtins__']['__import__']('socket')\n"
                                f"    s.create_connection(('127.0.0.1', {port}), timeout=1)\n    return 1\n",
        "reduce_result": OS + "class Evil:\n    def __reduce__(self):\n"
                              f"        return (_os()['system'], ('touch {marker}.reduce',))\n"
                              "def label_function(x):\n    return Evil()\n",
        "swallows_base_exception": ("def spin():\n    while True:\n        pass\n"
                                    "def label_function(x):\n    while True:\n        try:\n            spin()\n"
                                    "        except BaseException:\n            pass\n"),
        "kills_parent": OS + "def label_function(x):\n    _os()['kill'](_os()['getppid'](), 9)\n    return 1\n",
        "exits_worker": OS + "def label_function(x):\n    _os()['_exit'](3)\n",
        "reads_env": OS + "def label_function(x):\n    env = _os()['environ']\n"
                          "    return 1 if any('sk-test' in v for v in env.values()) else 0\n",
        "raises": "def label_function(x):\n    raise ValueError('nope')\n",
        "returns_str": "def label_function(x):\n    return 'spam'\n",
        "returns_out_of_range": "def label_function(x):\n    return 9\n",
        "returns_bool": "def label_function(x):\n    return True\n",
    }


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("sandbox"))
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    accepted: list = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    os.environ["ALCHEMIST_TEST_SECRET"] = "sk-test-should-not-leak"
    programs = {"good": GOOD, **hostile(tmp, server.getsockname()[1]), "good_again": GOOD}
    limits = SandboxLimits(row_timeout_s=0.2, memory_mb=512, chunk_rows=100, workers=2, stall_grace_s=1.5)
    applier = SandboxApplier([ProgramSource(n, s) for n, s in programs.items()], 2, limits)
    result = applier.apply(TEXTS)
    stop.set()
    thread.join()
    server.close()
    names = list(programs)
    return {"tmp": tmp, "result": result, "col": {n: result.matrix[:, i] for i, n in enumerate(names)},
            "run": {n: result.runs[i] for i, n in enumerate(names)}, "accepted": accepted}


def test_good_programs_exact(outcome):
    assert np.array_equal(outcome["col"]["good"], EXPECTED_GOOD)
    assert np.array_equal(outcome["col"]["good_again"], EXPECTED_GOOD)
    assert outcome["run"]["good"].crashes == 0 and not outcome["run"]["good"].errors


def test_matrix_shape_and_dtype(outcome):
    m = outcome["result"].matrix
    assert m.dtype == np.int8 and m.shape == (len(TEXTS), 18)


@pytest.mark.parametrize("name", ["infinite_loop", "c_level_loop", "swallows_base_exception", "exits_worker"])
def test_runaway_programs_abstain_and_are_disabled(outcome, name):
    assert (outcome["col"][name] == -1).all()
    run = outcome["run"][name]
    assert run.crashes >= 3
    assert run.disabled_reason and "disabled after" in run.disabled_reason


def test_fault_reasons_say_what_happened(outcome):
    run = outcome["run"]
    assert run["infinite_loop"].errors["timeout"] >= 3
    assert "C code" in run["c_level_loop"].last_fault
    assert "swallows" in run["swallows_base_exception"].last_fault
    assert "exit code 3" in run["exits_worker"].last_fault


@pytest.mark.parametrize("name", ["memory_bomb", "memory_growth", "process_spawn", "file_write",
                                  "network_connect", "kills_parent", "raises"])
def test_contained_programs_abstain_with_errors(outcome, name):
    assert (outcome["col"][name] == -1).all()
    run = outcome["run"][name]
    assert run.errors["exception"] == len(TEXTS) or run.disabled_reason, (dict(run.errors), run.last_fault)


def test_memory_bomb_is_a_memory_error(outcome):
    assert "MemoryError" in outcome["run"]["memory_bomb"].samples[0]


def test_nothing_escaped(outcome):
    tmp = outcome["tmp"]
    for suffix in ("spawn", "write", "reduce"):
        assert not os.path.exists(os.path.join(tmp, f"marker.{suffix}")), suffix
    assert outcome["accepted"] == []  # no connection reached the listening socket


def test_reduce_result_is_never_unpickled(outcome):
    run = outcome["run"]["reduce_result"]
    assert (outcome["col"]["reduce_result"] == -1).all()
    assert run.errors["non_int"] == len(TEXTS)


def test_environment_is_empty_in_worker(outcome):
    assert (outcome["col"]["reads_env"] == 0).all()  # no API key or other variable reaches programs


@pytest.mark.parametrize("name,kind", [("returns_str", "non_int"), ("returns_out_of_range", "out_of_range"),
                                       ("returns_bool", "non_int")])
def test_bad_return_values_abstain(outcome, name, kind):
    assert (outcome["col"][name] == -1).all()
    assert outcome["run"][name].errors[kind] == len(TEXTS)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="seccomp and namespaces are Linux-only")
def test_layers_reported(outcome):
    layers = outcome["result"].layers
    assert layers["rlimits"].startswith("active")
    assert layers["cpu_timer"].startswith("active")
    for name in ("seccomp", "namespaces"):
        assert layers[name].startswith(("active", "unavailable")), layers[name]


def test_load_failures_are_reported_not_fatal():
    programs = [ProgramSource("good", GOOD),
                ProgramSource("bad_import", "import os\ndef label_function(x):\n    return 0\n"),
                ProgramSource("raises_at_load", "raise RuntimeError('boom')\ndef label_function(x):\n    return 0\n"),
                ProgramSource("no_entry", "def other(x):\n    return 0\n"),
                ProgramSource("loops_at_load", "while True:\n    pass\n")]
    result = SandboxApplier(programs, 2, SandboxLimits(row_timeout_s=0.2, workers=1)).apply(TEXTS[:10])
    assert np.array_equal(result.matrix[:, 0], EXPECTED_GOOD[:10])
    assert "not allowed" in result.runs[1].load_error
    assert "boom" in result.runs[2].load_error
    assert "label_function" in result.runs[3].load_error
    assert "timed out" in result.runs[4].load_error
    assert (result.matrix[:, 1:] == -1).all()


def test_results_do_not_depend_on_chunking_or_workers():
    programs = [ProgramSource("a", GOOD), ProgramSource("b", "def label_function(x):\n    return len(x) % 2\n")]
    one = SandboxApplier(programs, 2, SandboxLimits(workers=1, chunk_rows=1000)).apply(TEXTS).matrix
    many = SandboxApplier(programs, 2, SandboxLimits(workers=2, chunk_rows=7)).apply(TEXTS).matrix
    assert np.array_equal(one, many)


def test_empty_input_and_progress():
    seen = []
    SandboxApplier([ProgramSource("a", GOOD)], 2, SandboxLimits(chunk_rows=50)).apply(TEXTS, seen.append)
    assert sum(seen) == len(TEXTS)
    assert SandboxApplier([ProgramSource("a", GOOD)], 2).apply([]).matrix.shape == (0, 1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="seccomp is Linux-only")
def test_filesystem_changes_are_denied(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("user data")
    (tmp_path / "dir").mkdir()
    ops = {
        "unlink": f"_os()['unlink']('{victim}')",
        "rename": f"_os()['rename']('{victim}', '{victim}.moved')",
        "truncate": f"_os()['truncate']('{victim}', 0)",
        "chmod": f"_os()['chmod']('{victim}', 0)",
        "rmdir": f"_os()['rmdir']('{tmp_path / 'dir'}')",
        "mkdir": f"_os()['mkdir']('{tmp_path / 'new'}')",
        "symlink": f"_os()['symlink']('{victim}', '{tmp_path / 'link'}')",
    }
    programs = [ProgramSource(n, OS + f"def label_function(x):\n    {op}\n    return 1\n") for n, op in ops.items()]
    result = SandboxApplier(programs, 2, SandboxLimits(workers=1)).apply(["a", "b"])
    layers = result.layers["seccomp"]
    if not layers.startswith("active"):
        pytest.skip(f"seccomp not active here: {layers}")
    assert (result.matrix == -1).all()
    assert victim.read_text() == "user data" and (victim.stat().st_mode & 0o777) != 0
    assert (tmp_path / "dir").is_dir() and not (tmp_path / "new").exists() and not (tmp_path / "link").exists()


def test_stdlib_paths_that_import_lazily_still_work():
    """Nothing can be imported after lockdown: what allowed modules load on first use is loaded before."""
    program = ("import collections, datetime, fractions, statistics, difflib, urllib.parse\n"
               "def label_function(x):\n"
               "    top = collections.Counter(x.split()).most_common(1)[0][0]\n"
               "    d = datetime.datetime.strptime('2024-03-05', '%Y-%m-%d').strftime('%d/%m')\n"
               "    f = fractions.Fraction(1, 3) + fractions.Fraction(1, 6)\n"
               "    m = statistics.median([3, 1, 2])\n"
               "    r = difflib.SequenceMatcher(None, x, 'spam').ratio()\n"
               "    q = urllib.parse.urlparse('http://a.b/c').netloc\n"
               "    e = x.encode('utf-16').decode('utf-16') + x.encode('cp1252', 'replace').decode('cp1252')\n"
               "    ok = (d == '05/03' and f == fractions.Fraction(1, 2) and m == 2 and q == 'a.b' and 0 <= r <= 1\n"
               "          and e == x + x)\n"
               "    return (1 if top == 'spam' else 0) if ok else -1\n")
    result = SandboxApplier([ProgramSource("lazy", program)], 2, SandboxLimits(workers=1)).apply(TEXTS[:30])
    assert result.runs[0].errors == {}, result.runs[0].samples
    assert np.array_equal(result.matrix[:, 0], EXPECTED_GOOD[:30])


def test_error_samples_name_the_right_rows():
    program = "def label_function(x):\n    if x.endswith(' 7') or x.endswith(' 12'):\n        raise ValueError(x)\n    return 0\n"
    result = SandboxApplier([ProgramSource("p", program)], 2, SandboxLimits(workers=1, chunk_rows=5)).apply(TEXTS[:20])
    assert result.runs[0].samples == ["row 7: ValueError: hello 7", "row 12: ValueError: spam 12"]
    assert result.runs[0].errors == {"exception": 2}


def test_texts_with_any_characters_arrive_intact():
    odd = ["", "\x00", "a\x1eb", "\ufdd0\U0010fffe", "\ud800 lone surrogate", "é中文🙂", "\r\n\t", "x" * 10_000,
           "\x00\x1e\ufdd0\U0010fffe all separators"]
    program = "def label_function(x):\n    return len(x) % 2\n"
    result = SandboxApplier([ProgramSource("len", program)], 2, SandboxLimits(workers=1, chunk_rows=4)).apply(odd)
    assert result.runs[0].errors == {}, result.runs[0].samples
    assert list(result.matrix[:, 0]) == [len(t) % 2 for t in odd]
