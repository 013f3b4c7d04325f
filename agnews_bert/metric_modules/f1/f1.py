"""F1 as an `evaluate` metric module that ships inside agnews_bert, so it loads with no Hub access.

Like the Hub's "f1" module, its default is `average="binary"`: the F1 of one
positive class, which scikit-learn refuses for more than two classes
("Target is multiclass but average='binary'"). That default is the bug of the
course's original notebook; AG News has four classes, so pass
`average="macro"` (the plain mean of the four classes' F1), and `labels` to
count a class the model never predicts.

The arithmetic is scikit-learn's `f1_score`; this file only gives it
evaluate's interface and imports nothing from agnews_bert, because evaluate
copies the file and imports it on its own.

Example:
    >>> f1.compute(predictions=[0, 1, 2, 3], references=[0, 1, 2, 2], average="macro")
    {'f1': 0.6666666666666666}
"""

import datasets
import evaluate
from sklearn.metrics import f1_score


class F1(evaluate.Metric):
    """F1 = 2 * precision * recall / (precision + recall), of one class or averaged over classes."""

    def _info(self):
        return evaluate.MetricInfo(
            description="F1, the harmonic mean of precision and recall; average='macro' for several classes.",
            citation="",
            inputs_description=(
                "predictions and references: lists of integer class ids of the same length; "
                "average: 'binary' (default), 'macro', 'micro', 'weighted' or None (one F1 per class)"
            ),
            features=datasets.Features(
                {"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}
            ),
        )

    def _compute(self, predictions, references, labels=None, pos_label=1, average="binary",
                 sample_weight=None, zero_division="warn"):
        score = f1_score(references, predictions, labels=labels, pos_label=pos_label, average=average,
                         sample_weight=sample_weight, zero_division=zero_division)
        return {"f1": score.tolist() if average is None else float(score)}
