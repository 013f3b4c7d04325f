import numpy as np
import pytest
from transformers import EvalPrediction

from agnews_bert import CLASS_NAMES, classification_report, compute_metrics


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
