import json
import os
import subprocess
import sys

import numpy as np
import pytest
from transformers import EvalPrediction

from agnews_bert import AgNewsError, CLASS_NAMES, compute_metrics

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


def test_compute_metrics_uses_the_shipped_evaluate_modules():
    compute_metrics((_logits_for(PREDICTIONS), np.array(LABELS)))
    assert {name: type(metrics._loaded_metrics[name]).__module__.split(".")[-1] for name in ("accuracy", "f1")} \
        == {"accuracy": "accuracy", "f1": "f1"}
    import evaluate

    assert all(isinstance(module, evaluate.Metric) for module in metrics._loaded_metrics.values())


# Run in a fresh process: HF_HUB_OFFLINE is read when huggingface_hub and evaluate are imported, and an
# empty modules cache proves the modules come from the package, not from an earlier download.
OFFLINE_CHECK = """
import json, sys
import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from agnews_bert.metrics import compute_metrics
worst = 0.0
for seed in range(20):
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 400))
    logits, labels = rng.normal(size=(rows, 4)), rng.integers(0, 4, rows)
    predictions = logits.argmax(axis=-1)
    ours = compute_metrics((logits, labels))
    theirs = {"accuracy": accuracy_score(labels, predictions),
              "macro_f1": f1_score(labels, predictions, average="macro", labels=[0, 1, 2, 3], zero_division=0)}
    worst = max(worst, *(abs(ours[key] - theirs[key]) for key in theirs))
print(json.dumps({"worst": worst, "evaluate": "evaluate" in sys.modules}))
"""


def test_compute_metrics_equals_scikit_learn_offline_on_random_predictions(tmp_path):
    environment = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HOME=str(tmp_path / "hf"),
                       HF_MODULES_CACHE=str(tmp_path / "modules"), OMP_NUM_THREADS="1")
    environment.pop("HF_EVALUATE_OFFLINE", None)
    finished = subprocess.run([sys.executable, "-c", OFFLINE_CHECK], env=environment, capture_output=True,
                              text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    outcome = json.loads(finished.stdout.strip().splitlines()[-1])
    assert outcome["evaluate"] is True
    assert outcome["worst"] <= 1e-12


def test_f1_module_keeps_the_binary_default_that_broke_the_original_notebook():
    f1 = metrics.load_metric("f1")
    with pytest.raises(ValueError, match="average='binary'"):
        f1.compute(predictions=PREDICTIONS, references=LABELS)
    per_class = f1.compute(predictions=PREDICTIONS, references=LABELS, average=None)["f1"]
    assert per_class == pytest.approx([2 / 3, 0.8, 2 / 3, 0.8])
    assert f1.compute(predictions=PREDICTIONS, references=LABELS, average="macro")["f1"] == pytest.approx(11 / 15)


def test_unknown_metric_names_and_a_missing_evaluate_say_what_to_do(monkeypatch):
    with pytest.raises(AgNewsError, match="accuracy, f1"):
        metrics.metric_path("precision")
    monkeypatch.setattr(metrics, "_loaded_metrics", {})
    monkeypatch.setitem(sys.modules, "evaluate", None)  # `import evaluate` now raises ImportError
    with pytest.raises(AgNewsError, match="pip install evaluate"):
        compute_metrics((_logits_for(PREDICTIONS), np.array(LABELS)))


def test_the_metric_modules_are_package_data():
    setup = (metrics.METRIC_MODULES_DIR.parents[1] / "setup.cfg").read_text()
    assert "metric_modules/*/*.py" in setup and "evaluate>=" in setup
    assert sorted(path.parent.name for path in metrics.METRIC_MODULES_DIR.glob("*/*.py")) == ["accuracy", "f1"]
