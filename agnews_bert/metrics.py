"""Metrics: accuracy and macro-F1 while training (with `evaluate`), a full report at test time.

`compute_metrics` is the Trainer's hook, written the way the Hugging Face
course writes it: argmax the logits, then `metric.compute(predictions=...,
references=...)` with `evaluate` metric modules. The modules ship inside this
package (`metric_modules/accuracy`, `metric_modules/f1`) and are loaded by
path, so nothing is fetched from the Hub and they work offline; their
arithmetic is scikit-learn's, and equals it exactly (tests/test_metrics.py).

The course's original notebook called `f1.compute(predictions, references)`,
whose default `average="binary"` raises on four classes. Here F1 is always
asked for with `average="macro"`: the plain mean of the four classes' F1, so
a model that is poor on one class cannot hide behind the others. AG News
classes are balanced, so accuracy and macro-F1 are close; on skewed data
they part ways (notebook 01, section 7).

The test-time `classification_report` (per-class scores and the confusion
matrix, which evaluate has no offline module for) uses scikit-learn directly.

Example:
    >>> compute_metrics(([[2.0, 0.1, 0, 0], [0, 3.0, 0, 0]], [0, 0]))
    {'accuracy': 0.5, 'macro_f1': 0.16666666666666666}
"""

from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from .errors import AgNewsError
from .labels import CLASS_NAMES, NUM_CLASSES

ALL_LABELS = list(range(NUM_CLASSES))
METRIC_MODULES_DIR = Path(__file__).resolve().parent / "metric_modules"
METRIC_NAMES = ("accuracy", "f1")
_loaded_metrics: dict = {}


def metric_path(name: str) -> str:
    """The folder of a metric module shipped in this package, for `evaluate.load(path)`.

    Example: metric_path("f1") -> ".../site-packages/agnews_bert/metric_modules/f1"
    """
    if name not in METRIC_NAMES:
        raise AgNewsError(f"no metric module named {name!r} in agnews_bert; use one of {', '.join(METRIC_NAMES)}")
    return str(METRIC_MODULES_DIR / name)


def load_metric(name: str):
    """`evaluate.load` of a shipped metric module ("accuracy" or "f1"), offline; loaded once per process.

    Example: load_metric("f1").compute(predictions=[0, 1], references=[0, 1], average="macro") -> {"f1": 1.0}
    """
    if name not in _loaded_metrics:
        # keep_in_memory: no cache files, so processes of a distributed run never share one.
        _loaded_metrics[name] = _evaluate().load(metric_path(name), keep_in_memory=True)
    return _loaded_metrics[name]


def compute_metrics(eval_pred) -> dict:
    """Trainer hook: logits and labels in, accuracy and macro-F1 out (evaluate modules, offline)."""
    logits, labels = logits_and_labels(eval_pred)
    predictions = np.asarray(logits).argmax(axis=-1)
    accuracy = load_metric("accuracy").compute(predictions=predictions, references=labels)["accuracy"]
    # labels= counts a class that is never predicted (F1 0) instead of leaving it out of the mean.
    macro_f1 = load_metric("f1").compute(predictions=predictions, references=labels, average="macro",
                                         labels=ALL_LABELS, zero_division=0)["f1"]
    return {"accuracy": accuracy, "macro_f1": macro_f1}


def _evaluate():
    """The `evaluate` package, or an AgNewsError saying how to install it."""
    try:
        import evaluate
    except ImportError as error:
        raise AgNewsError(
            "the metrics need the `evaluate` package, which is not installed; run `pip install evaluate` "
            "(in a notebook: `%pip install evaluate`, then run the cells again), or reinstall agnews_bert, "
            "which lists it"
        ) from error
    return evaluate


def classification_report(labels, predictions) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix.

    The confusion matrix is a list of rows: row = true class, column = predicted.
    Example: labels [0, 1, 1], predictions [0, 1, 0] -> confusion_matrix [[1, 0, 0, 0], [1, 1, 0, 0], ...]
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predictions, labels=ALL_LABELS, zero_division=0
    )
    per_class = {
        name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for name, p, r, f, s in zip(CLASS_NAMES, precision, recall, f1, support)
    }
    return {
        "accuracy": float(accuracy_score(labels, predictions)),
        "macro_f1": float(f1.mean()),
        "per_class": per_class,
        "confusion_matrix": confusion_matrix(labels, predictions, labels=ALL_LABELS).tolist(),
        "class_names": list(CLASS_NAMES),
    }


def logits_and_labels(eval_pred):
    """(logits, labels) from an EvalPrediction, a PredictionOutput or a plain pair; extra outputs dropped."""
    if hasattr(eval_pred, "predictions"):
        logits, labels = eval_pred.predictions, eval_pred.label_ids
    else:
        logits, labels = eval_pred
    if isinstance(logits, tuple):
        logits = logits[0]
    return logits, labels
