"""The package's shape: installable with its data, no import circles, the engine apart from the CLI and
the top level, a map in every subpackage, and an `import alchemist` that loads nothing heavy."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "alchemist"
TOP_LEVEL = {"config", "executor", "main", "modes", "pricing", "wizard", "review", "wizard_prompts", "workbench_llm",
             "refinement", "llm_stages", "image_stages", "programs_matrix"}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "bundled" in path.parts or "worker" in path.relative_to(PACKAGE).parts:
            continue  # the sandbox worker runs as a program of its own, standard library only
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: {m for m in imports(path) if m in mods and m != name} for name, path in mods.items()}


def test_no_module_imports_one_that_imports_it_back():
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                component.append(w)
            if component:
                cycles.append(sorted([v, *component]))

    for v in edges:
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_package_never_imports_the_top_level_and_the_engine_never_the_cli():
    for name, path in modules().items():
        found = {m.split(".")[0] for m in imports(path)} & TOP_LEVEL
        assert not found, f"{name} imports the repository's top level: {found}"
        if not name.startswith(("alchemist.cli", "alchemist.testing")):
            assert not any(m.startswith("alchemist.cli") for m in imports(path)), f"{name} imports the CLI"


def test_nothing_edits_sys_path():
    for path in [*ROOT.glob("*.py"), *PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py"),
                 *(ROOT / "bench").rglob("*.py"), *(ROOT / "modes").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", "") == "sys":
                raise AssertionError(f"{path.relative_to(ROOT)} touches sys.path (line {node.lineno})")


def test_every_subpackage_has_a_map_of_its_modules():
    for init in PACKAGE.rglob("__init__.py"):
        if "worker" in init.parts:
            continue
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert doc, f"{init.relative_to(ROOT)} has no docstring"
        inside = [p.name for p in init.parent.iterdir()
                  if (p.suffix == ".py" and p.name != "__init__.py") or (p.is_dir() and (p / "__init__.py").exists())]
        if init.parent == PACKAGE:
            inside = [p for p in inside if Path(PACKAGE / p).is_dir()]  # the top map names subpackages
        missing = [p for p in inside if p.removesuffix(".py") not in doc]
        assert not missing, f"{init.relative_to(ROOT)} does not map {missing}"


def test_importing_alchemist_loads_nothing_heavy_and_the_api_is_there():
    code = ("import sys, alchemist\n"
            "heavy = [m for m in ('numpy', 'pandas', 'sklearn', 'torch', 'snorkel', 'openai', 'questionary') "
            "if m in sys.modules]\n"
            "print(heavy, sorted(n for n in alchemist.__all__ if not hasattr(alchemist, n)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[] []"


def test_top_level_entry_points_say_where_their_parts_live():
    for name in ("main.py", "config.py", "executor.py", "pricing.py", "modes/__init__.py"):
        doc = ast.get_docstring(ast.parse((ROOT / name).read_text())) or ""
        assert "alchemist/" in doc, f"{name} does not say where its code lives"
    for name in ("prompts", "config.json", "datasets/demo"):  # links into the package's bundled data
        assert (ROOT / name).resolve().is_relative_to(PACKAGE / "bundled"), name


@pytest.mark.slow
def test_the_wheel_holds_the_package_its_data_and_the_command(tmp_path):
    try:
        import setuptools
    except ImportError:
        pytest.skip("setuptools is not installed")
    if int(setuptools.__version__.split(".")[0]) < 68 or shutil.which("git") is None:
        pytest.skip("needs setuptools >= 68 (to build without the network) and git")
    source = tmp_path / "src"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(source)], check=True, timeout=120)
    for path in ["pyproject.toml", "alchemist"]:  # the working tree as it is now (tests may run before a commit)
        if (ROOT / path).is_dir():
            shutil.rmtree(source / path)
            shutil.copytree(ROOT / path, source / path, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / path, source / path)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ["alchemist/__init__.py", "alchemist/sandbox/worker/__main__.py", "alchemist/bundled/config.json",
                   "alchemist/bundled/prompts/templates/code_system.txt", "alchemist/bundled/prompts/tasks/sms.json",
                   "alchemist/bundled/prompts/angles.txt", "alchemist/bundled/demo/train.json",
                   "alchemist/bundled/dataset_sources.json", "alchemist/generate/modes/base.py"]:
        assert needed in names, needed
    assert any(n.startswith("alchemist/bundled/demo/recorded_replies/") for n in names)
    assert not any(n.split("/")[0] in {"config.py", "main.py", "modes", "tests"} for n in names)  # no generic names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "alchemist = alchemist.cli.main:main" in zipfile.ZipFile(wheel).read(entry).decode()
