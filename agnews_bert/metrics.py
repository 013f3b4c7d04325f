"""Metrics: accuracy and macro-F1 while training, a full report at test time, all scikit-learn's.

`compute_metrics` is the Trainer's hook, written the way the Hugging Face
course writes it: argmax the logits, then compute the scores against the
labels. The course's original notebook asked for F1 with the default
`average="binary"`, which raises on four classes. Here F1 is always asked for
with `average="macro"`: the plain mean of the four classes' F1, so a model that
is poor on one class cannot hide behind the others. AG News classes are
balanced, so accuracy and macro-F1 are close; on skewed data they part ways
(notebook 01, section 7). `classification_report` adds the per-class scores and
the confusion matrix for the test split.

Example:
    >>> compute_metrics(([[2.0, 0.1, 0, 0], [0, 3.0, 0, 0]], [0, 0]))
    {'accuracy': 0.5, 'macro_f1': 0.16666666666666666}
"""

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from .labels import CLASS_NAMES, NUM_CLASSES

ALL_LABELS = list(range(NUM_CLASSES))


def compute_metrics(eval_pred) -> dict:
    """Trainer hook: logits and labels in, accuracy and macro-F1 out."""
    logits, labels = logits_and_labels(eval_pred)
    report = classification_report(labels, np.asarray(logits).argmax(axis=-1))
    return {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"]}


def classification_report(labels, predictions) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix.

    Macro-F1 counts a class that is never predicted (F1 0) instead of leaving it out
    of the mean. The confusion matrix is a list of rows: row = true class, column = predicted.

    Example:
        >>> classification_report([0, 1, 1], [0, 1, 0])["confusion_matrix"][:2]
        [[1, 0, 0, 0], [1, 1, 0, 0]]
    """
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predictions, labels=ALL_LABELS, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(labels, predictions)),
        "macro_f1": float(f1.mean()),
        "per_class": {name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                      for name, p, r, f, s in zip(CLASS_NAMES, precision, recall, f1, support)},
        "confusion_matrix": confusion_matrix(labels, predictions, labels=ALL_LABELS).tolist(),
        "class_names": list(CLASS_NAMES),
    }


def logits_and_labels(eval_pred):
    """(logits, labels) from an EvalPrediction, a PredictionOutput or a plain pair; extra outputs dropped."""
    logits, labels, *_ = eval_pred  # a PredictionOutput also holds metrics
    return (logits[0] if isinstance(logits, tuple) else logits), labels
