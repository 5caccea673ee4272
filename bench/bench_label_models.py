"""Label-model benchmark: ours vs Snorkel's defaults on synthetic label matrices with known truth.

Majority vote: our numpy vote vs Snorkel's MajorityLabelVoter (a Python loop per row).
Label model: our SnorkelModel (500 epochs, fit on at most 200k sampled rows, chunked predict) vs
Snorkel's LabelModel with its defaults (100 epochs) on all rows. Sizes: 100k rows x 10/100 programs,
k = 2/4, then ours alone at 1M x 100 (the memory claim). Run by hand:
    .venv/bin/python bench/bench_label_models.py
"""

from __future__ import annotations

import resource
import time

import numpy as np

from alchemist.labeling.label_models import MajorityVote, SnorkelModel


def matrix(n: int, m: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Programs that vote on 5-15% of rows with 65-90% accuracy."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    L = np.full((n, m), -1, np.int8)
    for j in range(m):
        vote = rng.random(n) < rng.uniform(0.05, 0.15)
        right = rng.random(n) < rng.uniform(0.65, 0.9)
        wrong = (y[vote] + rng.integers(1, k, vote.sum())) % k
        L[vote, j] = np.where(right[vote], y[vote], wrong)
    return L, y


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def ours_vote(L, k):
    return MajorityVote(k).predict(L)


def snorkel_vote(L, k):
    from snorkel.labeling.model import MajorityLabelVoter

    return MajorityLabelVoter(cardinality=k).predict(L.astype(int), tie_break_policy="random")


def ours_model(L, k):
    return SnorkelModel(k).fit(L).predict(L)


def snorkel_model(L, k):
    from snorkel.labeling.model import LabelModel

    model = LabelModel(cardinality=k, verbose=False)
    model.fit(L.astype(int), progress_bar=False, seed=0)  # Snorkel's defaults: 100 epochs
    return model.predict_proba(L.astype(int)).argmax(1)


def main() -> None:
    print(f"{'rows x programs, k':22s} {'MV ours':>9s} {'MV Snorkel':>11s} {'ratio':>6s}   "
          f"{'LM ours fit+pred':>17s} {'LM Snorkel':>11s} {'ratio':>6s}   acc ours / Snorkel")
    for n, m, k in [(100_000, 10, 2), (100_000, 10, 4), (100_000, 100, 2), (100_000, 100, 4)]:
        L, y = matrix(n, m, k)
        mv, t_mv = timed(ours_vote, L, k)
        smv, t_smv = timed(snorkel_vote, L, k)
        assert np.array_equal(mv, smv), "majority votes differ"
        ours, t_lm = timed(ours_model, L, k)
        theirs, t_slm = timed(snorkel_model, L, k)
        print(f"{n:,} x {m}, k={k}".ljust(22) + f" {t_mv:8.2f}s {t_smv:10.2f}s {t_smv / t_mv:5.0f}x   "
              f"{t_lm:16.2f}s {t_slm:10.2f}s {t_slm / t_lm:5.2f}x   "
              f"{(ours == y).mean():.3f} / {(theirs == y).mean():.3f}")
    L, y = matrix(1_000_000, 100, 2)
    mv, t_mv = timed(ours_vote, L, 2)
    ours, t_lm = timed(ours_model, L, 2)
    print(f"1,000,000 x 100, k=2: majority vote {t_mv:.1f}s, label model fit+predict {t_lm:.1f}s, "
          f"accuracy {(ours == y).mean():.3f}; peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB "
          f"(the matrix itself: {L.nbytes / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
