"""Calibration on hand-made logits with known answers, and in a finished smoke run (results.json, predict)."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import softmax

import agnews_bert as ab
from agnews_bert.scoring import load_run
from agnews_bert.calibration import calibration_scores, confidence_by_class, reliability_bins, scaled_probabilities


def calibrated_rows(confidence: float, rows: int, correct: int, classes: int = 4):
    """`rows` rows whose top probability is `confidence` (class 0), `correct` of them labelled 0."""
    rest = (1 - confidence) / (classes - 1)
    probabilities = np.full((rows, classes), rest)
    probabilities[:, 0] = confidence
    return probabilities, np.array([0] * correct + [1] * (rows - correct))


def drawn_from(logits, seed=0):
    """Labels drawn from softmax(logits): a model calibrated by construction."""
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(len(row), p=row) for row in softmax(logits, axis=1)])


def test_a_perfectly_calibrated_toy_has_ece_zero():
    high, high_labels = calibrated_rows(0.7, rows=10, correct=7)
    low, low_labels = calibrated_rows(0.4, rows=5, correct=2)
    probabilities, labels = np.vstack([high, low]), np.concatenate([high_labels, low_labels])
    assert ab.calibration.expected_calibration_error(probabilities, labels) == 0.0


def test_ece_by_hand():
    # Row 1: confidence 0.9, right (gap 0.1); row 2: confidence 0.6, wrong (gap 0.6); other bins.
    probabilities = [[0.9, 0.05, 0.03, 0.02], [0.6, 0.2, 0.1, 0.1]]
    assert ab.calibration.expected_calibration_error(probabilities, [0, 1]) == pytest.approx(0.5 * 0.1 + 0.5 * 0.6)
    # Both in one bin (0.8, 0.8667]: accuracy 0.5, mean confidence 0.84 -> 0.34.
    assert ab.calibration.expected_calibration_error([[0.82, 0.18], [0.86, 0.14]], [0, 1]) == pytest.approx(0.34)


def test_bins_are_equal_widths_closed_on_the_right():
    table = reliability_bins([[0.25] * 4, [0.5, 0.5, 0, 0], [0.75, 0.25, 0, 0], [1.0, 0, 0, 0]], [1, 0, 0, 2], bins=4)
    assert table["edges"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert table["rows"] == [1, 1, 1, 1]  # 0.5 sits at the top of (0.25, 0.5], not the bottom of (0.5, 0.75]
    assert table["confidence"] == [0.25, 0.5, 0.75, 1.0] and table["accuracy"] == [0.0, 1.0, 1.0, 0.0]
    fifteen = reliability_bins([[0.95, 0.05], [0.9, 0.1]], [0, 0])
    assert len(fifteen["rows"]) == 15 and fifteen["rows"][-1] == 1 and fifteen["rows"][-2] == 1
    assert fifteen["accuracy"][0] is None


def test_confidence_by_predicted_class_by_hand():
    table = confidence_by_class([[0.9, 0.1, 0, 0], [0.7, 0.3, 0, 0], [0.2, 0.8, 0, 0]], [0, 1, 1])
    assert table["World"] == {"rows": 2, "confidence": pytest.approx(0.8), "accuracy": 0.5}
    assert table["Sports"] == {"rows": 1, "confidence": 0.8, "accuracy": 1.0}
    assert table["Business"] == {"rows": 0, "confidence": None, "accuracy": None}


def test_brier_by_hand():
    assert ab.calibration.brier_score([[1, 0, 0, 0]], [0]) == 0.0
    assert ab.calibration.brier_score([[0.25] * 4], [2]) == pytest.approx(0.75)
    assert ab.calibration.brier_score([[0.5, 0.5, 0, 0], [0, 0, 0, 1]], [0, 0]) == pytest.approx((0.5 + 2) / 2)


def test_logits_scaled_by_three_give_a_temperature_near_three():
    logits = np.random.default_rng(1).normal(scale=2, size=(20_000, 4))
    labels = drawn_from(logits)
    assert ab.calibration.fit_temperature(3 * logits, labels) == pytest.approx(3, abs=0.15)
    assert ab.calibration.fit_temperature(logits, labels) == pytest.approx(1, abs=0.05)
    assert ab.calibration.fit_temperature(logits / 2, labels) == pytest.approx(0.5, abs=0.03)


def test_scaling_keeps_accuracy_and_mends_over_confidence():
    logits = np.random.default_rng(2).normal(scale=2, size=(8_000, 4))
    labels = drawn_from(logits, seed=3)
    report = ab.calibration.calibration_report(3 * logits[:4000], labels[:4000], 3 * logits[4000:], labels[4000:])
    before, after = report["before"], report["after"]
    assert after["accuracy"] == before["accuracy"]
    assert (scaled_probabilities(3 * logits, report["temperature"]).argmax(1) == logits.argmax(1)).all()
    assert before["ece"] > 0.1 and after["ece"] < 0.03
    assert after["brier"] < before["brier"] and after["nll"] < before["nll"]


def test_a_bad_temperature_or_shape_is_refused():
    with pytest.raises(ab.AgNewsError, match="temperature=0"):
        scaled_probabilities([[1.0, 2.0]], 0)
    with pytest.raises(ab.AgNewsError, match="one row of class probabilities per label"):
        calibration_scores([[1.0, 2.0]], [0, 1])


def test_every_finished_run_records_its_calibration(smoke_run):
    run_dir = Path(smoke_run["run_dir"])
    saved = json.loads((run_dir / "results.json").read_text())
    calibration = saved["test"]["calibration"]
    assert calibration["bins"] == 15 and calibration["fitted_on"] == "validation"
    assert calibration["validation_rows"] == saved["data"]["validation"]["rows"]
    assert calibration["temperature"] > 0
    assert calibration["before"]["accuracy"] == calibration["after"]["accuracy"] == saved["test"]["accuracy"]
    assert sum(calibration["before"]["reliability"]["rows"]) == saved["test"]["rows"]
    assert "reliability.png" in saved["plots"] and (run_dir / "reliability.png").stat().st_size > 1000


def test_predict_calibrated_divides_the_logits_by_the_run_temperature(smoke_run):
    run_dir = smoke_run["run_dir"]
    texts = ab.load_agnews(ab.RunConfig.from_preset("smoke"))["test"]["text"][:8]
    temperature = smoke_run["test"]["calibration"]["temperature"]
    plain = ab.predict(texts, run_dir)
    calibrated = ab.predict(texts, run_dir, calibrated=True)
    assert [row["label"] for row in calibrated] == [row["label"] for row in plain]
    plain_p = np.array([list(row["probabilities"].values()) for row in plain])
    calibrated_p = np.array([list(row["probabilities"].values()) for row in calibrated])
    # softmax(z / T) is softmax(log softmax(z) / T): the calibrated probabilities follow from the plain ones.
    assert calibrated_p == pytest.approx(softmax(np.log(plain_p) / temperature, axis=1), abs=1e-4)
    assert not np.allclose(calibrated_p, plain_p, atol=1e-3)


def test_calibrated_needs_a_run_with_a_temperature(smoke_run, tmp_path):
    loaded = load_run(smoke_run["run_dir"])
    model, tokenizer = loaded.model, loaded.tokenizer
    with pytest.raises(ab.AgNewsError, match="calibrated=True needs the run folder"):
        ab.predict(["Oil prices rose"], model=model, tokenizer=tokenizer, calibrated=True)
    old_run = tmp_path / "old-run"
    old_run.mkdir()
    results = {**smoke_run, "test": {key: value for key, value in smoke_run["test"].items() if key != "calibration"}}
    (old_run / "results.json").write_text(json.dumps(results))
    with pytest.raises(ab.AgNewsError, match="holds no calibration or fitted temperature.*train it again"):
        ab.predict(["Oil prices rose"], old_run, calibrated=True)
    with pytest.raises(ab.AgNewsError, match="holds no calibration"):
        ab.notebook.run_calibration(old_run)
    assert ab.notebook.run_calibration(smoke_run["run_dir"]) == smoke_run["test"]["calibration"]


def test_the_reliability_diagram_draws_each_bin_accuracy_before_and_after(smoke_run):
    calibration = smoke_run["test"]["calibration"]
    figure = ab.notebook.plot_reliability(calibration)
    assert len(figure.axes) == 2
    for axes, when in zip(figure.axes, ("before", "after")):
        heights = [bar.get_height() for bar in axes.patches]
        expected = [np.nan if value is None else value for value in calibration[when]["reliability"]["accuracy"]]
        assert heights == pytest.approx(expected, nan_ok=True) and len(heights) == 15
        assert f"ECE {calibration[when]['ece']:.3f}" in axes.get_title()
