"""Accuracy as an `evaluate` metric module that ships inside agnews_bert, so it loads with no Hub access.

Load it the way the Hub's "accuracy" is loaded, with a folder instead of a name:
`evaluate.load(path_to_this_folder)` (agnews_bert.metrics.load_metric("accuracy") does so).
The arithmetic is scikit-learn's `accuracy_score`; this file only gives it
evaluate's interface (`compute`, `add_batch`), and imports nothing from
agnews_bert, because evaluate copies the file and imports it on its own.

Example:
    >>> accuracy.compute(predictions=[0, 1, 2, 3], references=[0, 1, 2, 2])
    {'accuracy': 0.75}
"""

import datasets
import evaluate
from sklearn.metrics import accuracy_score


class Accuracy(evaluate.Metric):
    """The share of predictions equal to their reference label."""

    def _info(self):
        return evaluate.MetricInfo(
            description="Accuracy: the share of predicted labels that equal the true labels.",
            citation="",
            inputs_description="predictions and references: lists of integer class ids of the same length",
            features=datasets.Features(
                {"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}
            ),
        )

    def _compute(self, predictions, references, normalize=True, sample_weight=None):
        score = accuracy_score(references, predictions, normalize=normalize, sample_weight=sample_weight)
        return {"accuracy": float(score)}
