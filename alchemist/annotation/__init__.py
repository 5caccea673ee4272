"""Gold labels in minutes, for data without them (`alchemist annotate`).

- answers.py: the append-only answers file beside the data's fingerprint — every answer, skip and undo
  the moment it is given; replayed to the current answers; checked against the data (rows, texts,
  classes); a CSV of id,label imported into it.
- pools.py: which row comes next: the random sample (the only rows scores, the class balance, vetting
  and calibration rest on) and the chosen rows (programs disagree, the label model is unsure, no
  program voted), which go only to training.
- use.py: a run's dataset with the answers in it: random answers become the valid split, chosen ones
  train the distilled model; what each figure rests on is said.

The terminal session that asks a person is the command line's (alchemist/cli/annotate.py).
"""
