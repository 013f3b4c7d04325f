from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score
from transformers import EvalPrediction

import agnews_bert as ab
from agnews_bert import CLASS_NAMES, compute_metrics

from agnews_bert.metrics import classification_report
from agnews_bert import metrics


def _logits_for(predictions):
    logits = np.zeros((len(predictions), 4))
    logits[np.arange(len(predictions)), predictions] = 5.0
    return logits


LABELS = [0, 0, 1, 1, 2, 2, 3, 3]
PREDICTIONS = [0, 1, 1, 1, 2, 3, 3, 3]
# Hand-computed: World P=1 R=.5 F1=2/3; Sports P=2/3 R=1 F1=.8; Business P=1 R=.5 F1=2/3;
# Sci/Tech P=2/3 R=1 F1=.8. Macro-F1 = (2/3 + .8 + 2/3 + .8) / 4 = 11/15. Accuracy 6/8.


def test_compute_metrics_matches_hand_computed_values():
    metrics = compute_metrics(EvalPrediction(predictions=_logits_for(PREDICTIONS), label_ids=np.array(LABELS)))
    assert metrics["accuracy"] == pytest.approx(0.75)
    assert metrics["macro_f1"] == pytest.approx(11 / 15)


def test_compute_metrics_takes_a_plain_tuple_and_tuple_logits():
    metrics = compute_metrics(((_logits_for(PREDICTIONS), "hidden states"), np.array(LABELS)))
    assert metrics["accuracy"] == pytest.approx(0.75)


def test_macro_f1_counts_a_class_that_is_never_predicted():
    metrics = compute_metrics((_logits_for([0, 0, 0, 0]), np.array([0, 1, 2, 3])))
    # F1 is 0.4 for World (P=1/4, R=1) and 0 for the three others.
    assert metrics["macro_f1"] == pytest.approx(0.1)


def test_classification_report_per_class_and_confusion_matrix():
    report = classification_report(LABELS, PREDICTIONS)
    assert report["accuracy"] == pytest.approx(0.75)
    assert report["macro_f1"] == pytest.approx(11 / 15)
    assert report["per_class"]["World"] == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2})
    assert report["per_class"]["Sports"]["precision"] == pytest.approx(2 / 3)
    assert report["confusion_matrix"] == [[1, 1, 0, 0], [0, 2, 0, 0], [0, 0, 1, 1], [0, 0, 0, 2]]
    assert report["class_names"] == list(CLASS_NAMES)
    assert sum(map(sum, report["confusion_matrix"])) == len(LABELS)


def test_compute_metrics_equals_scikit_learn_macro_f1_exactly_on_random_predictions():
    for seed in range(20):
        rng = np.random.default_rng(seed)
        rows = int(rng.integers(1, 400))
        logits, labels = rng.normal(size=(rows, 4)), rng.integers(0, 4, rows)
        predictions = logits.argmax(axis=-1)
        ours = compute_metrics((logits, labels))
        assert ours == {"accuracy": accuracy_score(labels, predictions),
                        "macro_f1": f1_score(labels, predictions, average="macro", labels=[0, 1, 2, 3],
                                             zero_division=0)}


def test_f1_needs_average_macro_for_four_classes():
    """The original notebook's f1 call kept the binary default, which refuses four classes."""
    with pytest.raises(ValueError, match="average='binary'"):
        f1_score(LABELS, PREDICTIONS)
    assert list(f1_score(LABELS, PREDICTIONS, average=None)) == pytest.approx([2 / 3, 0.8, 2 / 3, 0.8])
    assert f1_score(LABELS, PREDICTIONS, average="macro") == pytest.approx(11 / 15)


def test_the_package_no_longer_needs_evaluate():
    root = Path(metrics.__file__).resolve().parents[1]
    assert "evaluate" not in (root / "setup.cfg").read_text() and "evaluate" not in (root / "requirements.txt").read_text()
    assert not (root / "agnews_bert" / "metric_modules").exists()
    assert not hasattr(metrics, "metric_path") and "metric_path" not in dir(ab.notebook)
