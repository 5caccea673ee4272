"""The votes container: what applying programs (or reading human votes, or zero-shot answers) gives."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from alchemist.core.errors import AlchemistError
from alchemist.sandbox import ProgramRun


@dataclass
class Votes:
    """The votes of a run's programs: per-split label matrices (n_rows x n_programs, int8, -1 = abstain;
    every program has a column) and what happened to each program."""

    names: list[str]
    statuses: list[str]
    reasons: list[str]
    matrices: dict[str, np.ndarray]
    runs: list[ProgramRun | None] = field(default_factory=list)
    layers: dict[str, str] = field(default_factory=dict)  # sandbox layers that were active
    sandbox_note: str = ""  # why the sandbox did not run (human votes, every column cached)
    cached: list[str] = field(default_factory=list)  # programs whose column came from the column cache

    @property
    def usable(self) -> list[int]:
        return [i for i, s in enumerate(self.statuses) if s == "ok"]

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name} {len(m):,}" for name, m in self.matrices.items())
        return f"Votes({len(self.names)} programs, {len(self.usable)} usable; rows: {sizes})"

    def frame(self, split: str = "train"):
        """One split's votes as a pandas DataFrame, a column per program (-1 = abstain)."""
        import pandas as pd

        return pd.DataFrame(self.matrices[split], columns=self.names)


def human_votes(splits: dict, source: str) -> tuple[Votes, list[str]]:
    """The votes of a dataset's own human-written programs (WRENCH `weak_labels`) as Votes; a split
    without them counts as uncovered (said in the warnings). `splits`: name -> Split; `source` names the
    data in the error when train has none."""

    train = splits["train"]
    if train.weak_labels is None:
        raise AlchemistError(f"{source}: this dataset has no weak_labels (votes of human-written "
                             "programs), so --human has nothing to apply")
    m = train.weak_labels.shape[1]
    matrices, warnings = {}, []
    for name, split in splits.items():
        if split.weak_labels is None:
            warnings.append(f"{split.path.name} has no weak_labels: its rows count as uncovered")
            matrices[name] = np.full((len(split), m), -1, dtype=np.int8)
        else:
            matrices[name] = split.weak_labels
    names = [f"human_{j + 1:02d}" for j in range(m)]
    return Votes(names, ["ok"] * m, [""] * m, matrices, [None] * m, {},
                 "not used: the human programs' votes are read from the dataset; nothing was executed"), warnings
