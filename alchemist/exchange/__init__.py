"""Labels out to where people review and train, and reviewers' answers back in.

run_labels.py  a finished run's labels, votes and report; which rows a reviewer sees first (--only)
export.py      `alchemist export`: the targets below, written into a folder that appears whole
hf.py          a Hugging Face DatasetDict (save_to_disk, push_to_hub)
label_studio.py  Label Studio tasks with predictions, their labeling config, reading its export
argilla.py     an Argilla 2.x dataset folder (to_disk layout), reading its records' responses
import_labels.py  `alchemist import-labels`: reviewed rows into the answers file (annotation/)
"""
