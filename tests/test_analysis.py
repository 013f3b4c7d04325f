import json
from pathlib import Path

import numpy as np
import pytest

import agnews_bert as ab


def test_most_confident_errors_keeps_only_errors_most_confident_first():
    texts = ["right and sure", "wrong, a bit sure", "wrong, very sure", "right, unsure", "wrong, unsure"]
    labels = [0, 1, 2, 3, 3]
    probabilities = [
        [0.97, 0.01, 0.01, 0.01],  # World, right
        [0.70, 0.20, 0.05, 0.05],  # Sports predicted World, 0.70
        [0.02, 0.02, 0.01, 0.95],  # Business predicted Sci/Tech, 0.95
        [0.30, 0.20, 0.10, 0.40],  # Sci/Tech, right
        [0.10, 0.45, 0.40, 0.05],  # Sci/Tech predicted Sports, 0.45
    ]
    errors = ab.analysis.most_confident_errors(texts, labels, probabilities, k=2)
    assert list(errors.columns) == ["text", "true_label", "predicted_label", "probability"]
    assert errors.to_dict("records") == [
        {"text": "wrong, very sure", "true_label": "Business", "predicted_label": "Sci/Tech", "probability": 0.95},
        {"text": "wrong, a bit sure", "true_label": "Sports", "predicted_label": "World", "probability": 0.70},
    ]
    assert len(ab.analysis.most_confident_errors(texts, labels, probabilities, k=10)) == 3


def test_most_confident_errors_of_a_perfect_model_is_an_empty_table():
    errors = ab.analysis.most_confident_errors(["a", "b"], [0, 1], np.eye(4)[:2])
    assert errors.empty and list(errors.columns) == ["text", "true_label", "predicted_label", "probability"]


def test_confused_pairs_counts_off_diagonal_cells_most_first():
    matrix = [[9, 1, 0, 0],
              [0, 10, 0, 0],
              [0, 0, 7, 3],
              [0, 0, 2, 8]]
    assert ab.notebook.confused_pairs(matrix, top=2) == [
        {"true": "Business", "predicted": "Sci/Tech", "count": 3, "share_of_true": 0.3},
        {"true": "Sci/Tech", "predicted": "Business", "count": 2, "share_of_true": 0.2},
    ]
    assert len(ab.notebook.confused_pairs(matrix, top=10)) == 3  # cells with no errors are not pairs
    assert ab.notebook.confused_pairs(np.diag([5, 5, 5, 5]).tolist()) == []


def test_smoke_run_stores_its_errors_and_confused_pairs(smoke_run):
    test = json.loads((Path(smoke_run["run_dir"]) / "results.json").read_text())["test"]
    matrix = np.array(test["confusion_matrix"])
    wrong = int(matrix.sum() - np.trace(matrix))
    errors = test["most_confident_errors"]
    assert len(errors) == min(10, wrong)
    assert all(row["true_label"] != row["predicted_label"] for row in errors)
    assert [row["probability"] for row in errors] == sorted((row["probability"] for row in errors), reverse=True)
    test_split = ab.load_agnews(ab.RunConfig.from_preset("smoke"))["test"]
    true_label_of = dict(zip(test_split["text"], test_split["label"]))
    assert [row["true_label"] for row in errors] == [ab.ID2LABEL[true_label_of[row["text"]]] for row in errors]
    if errors:  # each row's prediction is the saved model's for that very text: texts and predictions line up
        predicted = ab.predict([row["text"] for row in errors], smoke_run["run_dir"])
        assert [row["predicted_label"] for row in errors] == [prediction["label"] for prediction in predicted]
        for row, prediction in zip(errors, predicted):
            assert row["probability"] == pytest.approx(prediction["probabilities"][prediction["label"]], abs=2e-3)
    names = test["class_names"]
    for pair in test["confused_pairs"]:
        assert pair["count"] == matrix[names.index(pair["true"]), names.index(pair["predicted"])]
    assert sum(pair["count"] for pair in test["confused_pairs"]) <= wrong
