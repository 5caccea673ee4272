"""The distilled model: a small classifier trained on the labels, which labels any new text.

    features.py       TF-IDF + MLP, MiniLM embeddings + logistic regression, both, CLIP image embeddings
    embeddings.py     the bundled all-MiniLM-L6-v2, fast on a few cores, cached per text
    fit.py            fitting and the choice of features and labels on valid (never scored on seen rows)
    training.py       a dataset's features built, then fit.py's choice trained (what runs and the API call)
    gold.py           the baseline: the same features and classifier on the gold labels alone
    model.py          DistilledModel, saved with skops (no pickle: loading runs no code), load_model
    predict.py        what predict labels: a results folder's model, texts from files, images
"""
