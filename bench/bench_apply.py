"""Apply benchmark: our sandboxed applier vs Snorkel's PandasLFApplier vs a bare in-process loop.

Same programs (bench/programs: ten LLM-style keyword and regex programs; with --programs 50, forty
more generated from the same templates with other keywords), same rows, one run; prints rows/s,
ratios and peak memory. Snorkel and the bare loop are timed on a prefix of the rows (--snorkel-rows,
--bare-rows) because they are slow; rows/s is what is compared.

    .venv/bin/python bench/bench_apply.py [--rows 100000] [--programs 10]
Rows are YouTube comments from ../shared/datasets when present (else the bundled demo), repeated.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from alchemist.data.datasets import load_dataset
from alchemist.programs.program_files import load_program_dir
from alchemist.sandbox import SandboxApplier, SandboxLimits

ROOT = Path(__file__).resolve().parent.parent

PROGRAMS = ROOT / "bench" / "programs"


def sample_texts(n: int) -> tuple[list[str], str]:
    shared = Path(os.environ.get("ALCHEMIST_SHARED_DATA", ROOT.parent / "shared" / "datasets"))
    name, where = ("youtube", shared) if (shared / "youtube").is_dir() else ("demo", None)
    base = load_dataset(name, where).train.texts
    return [base[i % len(base)] for i in range(n)], name


EXTRA_WORDS = ["music", "video", "love", "channel", "free", "click", "watch", "best", "money", "song", "subscribe",
               "link", "http", "check", "please", "great", "awesome", "win", "cool", "views"]


def program_folder(n: int, tmp: Path) -> Path:
    """The ten bench programs, plus generated keyword programs up to n (written as files)."""
    if n <= 10:
        return PROGRAMS
    for path in sorted(PROGRAMS.glob("lf_*.py")):
        (tmp / path.name).write_text(path.read_text())
    for k in range(11, n + 1):
        words = [EXTRA_WORDS[(k * 7 + j) % len(EXTRA_WORDS)] for j in range(3)]
        label = k % 2
        (tmp / f"lf_{k:02d}.py").write_text(
            f"WORDS = {words!r}\n\n\ndef label_function(comment):\n    text = comment.lower()\n"
            f"    return {label} if any(w in text for w in WORDS) else -1\n")
    return tmp


def load_functions(folder: Path = PROGRAMS) -> list:
    """Import the benchmark's own program files in-process (the bare-loop floor, not LLM output)."""
    fns = []
    for path in sorted(folder.glob("lf_*.py")):
        spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        fns.append(module.label_function)
    return fns


def bare_loop(fns: list, texts: list[str]) -> np.ndarray:
    out = np.empty((len(texts), len(fns)), dtype=np.int8)
    for j, f in enumerate(fns):
        out[:, j] = [f(t) for t in texts]
    return out


def snorkel_apply(fns: list, texts: list[str]) -> np.ndarray:
    import pandas as pd
    from snorkel.labeling import PandasLFApplier, labeling_function

    lfs = [labeling_function(name=f"lf{j}")(lambda x, f=f: f(x.text)) for j, f in enumerate(fns)]
    return PandasLFApplier(lfs).apply(pd.DataFrame({"text": texts}), progress_bar=False)


def timed(fn, *args) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--programs", type=int, default=10)
    parser.add_argument("--snorkel-rows", type=int, default=20_000, help="Snorkel is slow: time it on fewer rows")
    parser.add_argument("--bare-rows", type=int, default=100_000, help="the bare loop runs on one core")
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    texts, source = sample_texts(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        folder = program_folder(args.programs, Path(tmp))
        fns = load_functions(folder)
        programs = [p.as_source() for p in load_program_dir(folder)]
        print(f"{len(fns)} programs, {args.rows:,} rows of {source} comments, {os.cpu_count()} cores")
        applier = SandboxApplier(programs, 2, SandboxLimits(workers=args.workers))
        ours, t_ours = timed(lambda: applier.apply(texts).matrix)
        bare_rows = texts[: min(args.bare_rows, len(texts))]
        bare, t_bare = timed(bare_loop, fns, bare_rows)
        sub = texts[: min(args.snorkel_rows, len(texts))]
        snorkel, t_snorkel = timed(snorkel_apply, fns, sub)
    assert np.array_equal(ours[: len(bare_rows)], bare), "sandboxed and bare results differ"
    assert np.array_equal(ours[: len(sub)], snorkel), "sandboxed and Snorkel results differ"
    rate = {"ours (sandboxed)": len(texts) / t_ours, "bare in-process loop": len(bare_rows) / t_bare,
            "Snorkel PandasLFApplier": len(sub) / t_snorkel}
    for name, r in rate.items():
        print(f"  {name:26s} {r:12,.0f} rows/s")
    print(f"ours: {args.rows:,} rows x {len(fns)} programs in {t_ours:.1f}s; peak memory: parent "
          f"{peak_mb(resource.RUSAGE_SELF):,.0f} MB (includes the rows and Snorkel's DataFrame), "
          f"largest sandbox worker {peak_mb(resource.RUSAGE_CHILDREN):,.0f} MB")
    print(f"ours / Snorkel = {rate['ours (sandboxed)'] / rate['Snorkel PandasLFApplier']:.1f}x   "
          f"ours / bare loop = {rate['ours (sandboxed)'] / rate['bare in-process loop']:.2f}x   (identical matrices)")


if __name__ == "__main__":
    main()
