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
    assert result["label_agreement"] == 1.0  # same model: the same class for every text
    assert result["settings"]["texts"] == 40


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
    assert result["ratios"]["speedup"] == pytest.approx(seed["wall_seconds"] / package["wall_seconds"], abs=0.01)
