"""Each benchmark runs end to end in a tiny mode and prints the side-by-side JSON."""

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
MACHINE_KEYS = {"date_utc", "cpu", "cpu_cores", "gpu", "load_average_1m_5m_15m", "torch", "transformers"}


@pytest.fixture(scope="module", autouse=True)
def benchmarks_on_path():
    sys.path.insert(0, str(BENCHMARKS))
    yield
    sys.path.remove(str(BENCHMARKS))


def _check_layout(result: dict, benchmark: str) -> None:
    assert result["benchmark"] == benchmark
    assert MACHINE_KEYS <= set(result["machine"])
    assert result["command"].startswith("python ")
    for name in ("seconds", "texts_per_second") if benchmark != "train_speed" else ("wall_seconds",):
        assert result["ratios"][name] == pytest.approx(result["package"][name] / result["seed"][name], rel=0.01)


def test_ratios_divide_package_by_seed_for_shared_numbers():
    import common

    assert common.ratios({"seconds": 10, "rows": 4, "name": "x"}, {"seconds": 2, "rows": 4, "extra": 1}) == {
        "seconds": 0.2, "rows": 1.0}


def test_lengthened_smoke_texts_have_ag_news_length():
    import common

    texts = common.agnews_length_texts(2000)
    assert len(texts) == 2000
    assert 200 <= sum(map(len, texts)) / len(texts) <= 270  # AG News: about 236 characters


def test_preprocess_speed_tiny(capsys):
    import preprocess_speed

    result = preprocess_speed.main(["--texts", "300", "--tokenizer", "smoke"])
    assert json.loads(capsys.readouterr().out) == result
    _check_layout(result, "preprocess_speed")
    assert result["package"]["tokens"] == result["seed"]["tokens"] > 300
    assert result["package"]["rerun_seconds"] < result["package"]["seconds"]
    seed_over_package = result["seed"]["seconds"] / result["package"]["seconds"]
    assert result["ratios"]["speedup"] == pytest.approx(seed_over_package, abs=0.006)


def test_predict_speed_tiny(capsys):
    import predict_speed

    result = predict_speed.main(["--model", "smoke", "--texts", "40"])
    assert json.loads(capsys.readouterr().out) == result
    _check_layout(result, "predict_speed")
    # Same model, same texts: the same probabilities up to float rounding. Not the labels: the smoke
    # model's fresh head leaves classes within 1e-5 of each other, and rounding can flip such a tie.
    assert 0 <= result["max_probability_difference"] < 1e-4
    assert 0 <= result["label_agreement"] <= 1
    assert result["settings"]["texts"] == 40


def test_agreement_compares_probabilities_class_by_class():
    import predict_speed

    plain, package = [[0.7, 0.3], [0.5, 0.5]], [[0.6, 0.4], [0.5, 0.5]]
    assert predict_speed.agreement(plain, package) == {"label_agreement": 1.0, "max_probability_difference": 0.1}
    assert predict_speed.agreement([[0.1, 0.9]], [[0.9, 0.1]]) == {"label_agreement": 0.0,
                                                                   "max_probability_difference": 0.8}


@pytest.mark.filterwarnings("ignore:'pin_memory' argument:UserWarning")  # the seed recipe's Trainer pins on a CPU
def test_train_speed_tiny(capsys):
    import train_speed

    result = train_speed.main(["--model", "smoke", "--rows", "48", "--validation-rows", "16", "--same-process"])
    printed = capsys.readouterr().out  # the Trainer's own log lines come first
    assert json.loads(printed[printed.rindex('{\n  "benchmark"'):]) == result
    _check_layout(result, "train_speed")
    seed, package = result["seed"], result["package"]
    assert (seed["batch_size"], seed["eval_batch_size"], seed["learning_rate"]) == (16, 8, 2e-5)
    assert (package["batch_size"], package["eval_batch_size"]) == (32, 128)
    assert (seed["train_steps"], package["train_steps"]) == (3, 2)  # 48 rows in batches of 16 and 32
    for row in (seed, package):
        assert row["precision"] == "fp32" and row["mfu"] is None  # a CPU: no known peak
        assert 0 <= row["validation_accuracy"] <= 1 and row["tokens_per_second"] > 0
        assert row["samples_per_second"] > 0 and row["train_seconds_without_validation"] > 0
    assert result["ratios"]["speedup"] == pytest.approx(seed["wall_seconds"] / package["wall_seconds"], abs=0.01)


def test_training_seconds_leave_out_only_the_evaluations_inside_train():
    import train_speed

    # What log_history holds right after trainer.train(): two per-epoch evaluations.
    during_train = [{"loss": 1.3, "step": 1}, {"eval_runtime": 0.5, "epoch": 1.0}, {"eval_runtime": 0.25, "epoch": 2.0},
                    {"train_runtime": 10.0}]
    assert train_speed.per_epoch_validation_seconds(during_train) == 0.75
    assert train_speed.training_seconds_without_validation(10.0, 0.75) == 9.25


def test_a_training_time_that_is_not_positive_is_an_error_not_a_negative_rate():
    import train_speed

    # A loaded machine: the final evaluate() (not part of train_runtime) took longer than training.
    with pytest.raises(ValueError, match="no training time is left"):
        train_speed.training_seconds_without_validation(1.0, 0.4 + 0.9)
