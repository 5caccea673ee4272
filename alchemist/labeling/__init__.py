"""From votes to labels.

    labels.py         the label step: vetting, then the label model chosen on valid (make_labels, Labels)
    vetting.py        which programs go into the label model, and why the others do not
    choice.py         choosing the label model on valid (snorkel, majority, weighted)
    calibration.py    confidences calibrated on valid's gold rows (cross-fitted), ECE and reliability
    label_models.py   the label models: Snorkel's LabelModel, majority and weighted votes (numpy)
    analysis.py       coverage, overlap and conflict of the votes
    metrics.py        scores (accuracy, F1 of the positive class), per class, by group, class balance
"""
