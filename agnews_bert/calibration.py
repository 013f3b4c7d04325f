"""Calibration: how far to trust a probability, and temperature scaling to make it trustworthy.

A model is calibrated when, of the texts it labels with 80% confidence, about
80% are right. Fine-tuned transformers are usually over-confident: their top
probability is higher than their accuracy. Two numbers measure the gap on the
test split, and the reliability diagram (`plots.plot_reliability`) draws it:

- the expected calibration error (ECE): the rows are put in 15 equal-width
  bins by their top probability; ECE is the average over bins, weighted by
  rows, of |accuracy - mean confidence| (0 is perfect, 0.05 is a typical
  fine-tuned model);
- the Brier score: the mean over rows of the squared distance between the
  probability vector and the one-hot true label (0 is perfect; always
  guessing 1/4 for each of 4 classes scores 0.75).

Temperature scaling (Guo et al., 2017) divides every logit by one number T,
fitted on the *validation* split by minimising the negative log-likelihood;
T > 1 softens over-confident probabilities. Dividing by a positive number never
changes which class is largest, so accuracy stays exactly the same.

`evaluate_on_test` (training.py) stores `calibration_report` under
results["test"]["calibration"]; `predict(..., calibrated=True)` divides by its
temperature. Taught in notebook 04.

Hand-written here: ECE and its bins (neither scikit-learn nor torch has a
multi-class ECE), and the Brier score (scikit-learn's `brier_score_loss` takes
several classes only from 1.7, above our lower bound). The fit is torch's LBFGS.

Example:
    >>> expected_calibration_error([[0.8, 0.2], [0.8, 0.2], [0.8, 0.2], [0.8, 0.2], [0.8, 0.2]], [0, 0, 0, 0, 1])
    0.0
"""

import numpy as np

from .errors import AgNewsError, setting
from .labels import CLASS_NAMES

CALIBRATION_BINS = 15


def reliability_bins(probabilities, labels, bins: int = CALIBRATION_BINS) -> dict:
    """Rows, mean confidence and accuracy in each equal-width confidence bin (None where a bin is empty).

    A row's confidence is its top probability; bin b holds confidences in (b/bins, (b+1)/bins],
    the first one also 0. Example: confidences [0.95, 0.92] with bins=15 -> both in the last bin.
    """
    probabilities, labels = _checked(probabilities, labels)
    edges = np.linspace(0, 1, bins + 1)
    which = np.digitize(probabilities.max(axis=1), edges[1:-1], right=True)  # on an edge: the bin below
    return {"edges": edges.tolist(), **_grouped(probabilities, labels, which, bins)}


def expected_calibration_error(probabilities, labels, bins: int = CALIBRATION_BINS) -> float:
    """ECE: sum over bins of (rows in bin / rows) x |accuracy - mean confidence|. See the example above."""
    table = reliability_bins(probabilities, labels, bins)
    gaps = sum(n * abs(a - c) for n, a, c in zip(table["rows"], table["accuracy"], table["confidence"]) if n)
    return round(float(gaps / sum(table["rows"])), 12)


def brier_score(probabilities, labels) -> float:
    """Mean over rows of sum over classes of (probability - one-hot label)^2. Example: [[1, 0]], [0] -> 0.0"""
    probabilities, labels = _checked(probabilities, labels)
    one_hot = np.eye(probabilities.shape[1])[labels]
    return float(((probabilities - one_hot) ** 2).sum(axis=1).mean())


def fit_temperature(logits, labels) -> float:
    """The T > 0 that minimises the negative log-likelihood of softmax(logits / T): torch's LBFGS on log T.

    Example: logits of a calibrated model multiplied by 3 -> about 3.0
    """
    import torch

    logits = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    log_temperature = torch.zeros(1, dtype=torch.float64, requires_grad=True)  # T = exp(.) stays positive
    optimizer = torch.optim.LBFGS([log_temperature], lr=0.5, max_iter=200, line_search_fn="strong_wolfe")

    def negative_log_likelihood():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_temperature.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(negative_log_likelihood)
    return float(log_temperature.exp().item())


def scaled_probabilities(logits, temperature: float = 1.0) -> np.ndarray:
    """softmax(logits / temperature), in float64. Example: [[0, 0]] -> [[0.5, 0.5]]"""
    from scipy.special import softmax

    if not temperature > 0:
        raise AgNewsError(f"{setting('temperature', temperature)} must be a positive number (1.0 leaves logits as "
                          "they are)", field="temperature")
    return softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=1)


def calibration_scores(logits, labels, temperature: float = 1.0, bins: int = CALIBRATION_BINS) -> dict:
    """Accuracy, ECE, Brier score and negative log-likelihood of logits / temperature, and the reliability bins."""
    probabilities = scaled_probabilities(logits, temperature)
    labels = np.asarray(labels)
    return {
        "accuracy": float((probabilities.argmax(axis=1) == labels).mean()),
        "ece": expected_calibration_error(probabilities, labels, bins),
        "brier": brier_score(probabilities, labels),
        "nll": float(-np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, None)).mean()),
        "reliability": reliability_bins(probabilities, labels, bins),
        "by_predicted_class": confidence_by_class(probabilities, labels),
    }


def confidence_by_class(probabilities, labels, class_names=CLASS_NAMES) -> dict:
    """For each predicted class: its rows, their mean confidence, and the share of them that are right.

    A class whose confidence is above its accuracy is over-confident.
    Example: [[0.9, 0.1], [0.8, 0.2]], labels [0, 1] -> {"World": {"rows": 2, "confidence": 0.85, "accuracy": 0.5}, ...}
    """
    probabilities, labels = _checked(probabilities, labels)
    names = class_names[:probabilities.shape[1]]
    table = _grouped(probabilities, labels, probabilities.argmax(axis=1), len(names))
    return {name: {key: column[index] for key, column in table.items()} for index, name in enumerate(names)}


def calibration_report(validation_logits, validation_labels, test_logits, test_labels,
                       bins: int = CALIBRATION_BINS) -> dict:
    """The temperature fitted on validation, and the test scores before and after dividing by it (results.json)."""
    temperature = round(fit_temperature(validation_logits, validation_labels), 4)  # as predict uses it
    return {
        "bins": bins,
        "temperature": temperature,
        "fitted_on": "validation",
        "validation_rows": len(validation_labels),
        "before": calibration_scores(test_logits, test_labels, 1.0, bins),
        "after": calibration_scores(test_logits, test_labels, temperature, bins),
    }


def run_calibration(run_dir) -> dict:
    """results["test"]["calibration"] of a finished run; a run trained before it was recorded is told what to do."""
    from pathlib import Path

    from .lab.folders import load_results

    calibration = load_results(Path(run_dir).expanduser())["test"].get("calibration")
    if not calibration:
        raise AgNewsError(f"{Path(run_dir).name} holds no calibration or fitted temperature (it was trained before "
                          "calibration was recorded, or without a validation split); train it again")
    return calibration


def _grouped(probabilities, labels, which, groups: int) -> dict:
    """Rows, mean top probability and accuracy of each group of rows (`which`); None for an empty group."""
    rows = np.bincount(which, minlength=groups)

    def mean(values):
        sums = np.bincount(which, weights=values, minlength=groups)
        return [float(total / n) if n else None for total, n in zip(sums, rows)]

    return {"rows": rows.tolist(), "confidence": mean(probabilities.max(axis=1)),
            "accuracy": mean(probabilities.argmax(axis=1) == labels)}


def _checked(probabilities, labels):
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels).astype(int)
    if probabilities.ndim != 2 or len(probabilities) != len(labels) or not len(labels):
        raise AgNewsError(f"need one row of class probabilities per label; got an array of shape "
                          f"{probabilities.shape} for {len(labels)} labels")
    return probabilities, labels
