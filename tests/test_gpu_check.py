"""benchmarks/gpu_check.py: its --tiny run on a CPU, its JSON fields, and the logic the GPU run relies on."""

import contextlib
import io
import json
import math
import random
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
pytestmark = pytest.mark.filterwarnings("ignore:'pin_memory' argument:UserWarning")  # the seed's Trainer on a CPU
MACHINE_KEYS = {"date_utc", "cpu", "gpu", "torch", "transformers", "accelerate", "flash_attn_installed",
                "package_precision", "package_attention", "package_choice"}


@pytest.fixture(scope="module")
def gpu_check():
    sys.path.insert(0, str(BENCHMARKS))
    import gpu_check

    yield gpu_check
    sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def tiny(gpu_check, tmp_path_factory):
    """One --tiny run for the whole module: (returned JSON, printed text, JSON file)."""
    out = tmp_path_factory.mktemp("gpu_check") / "gpu_check.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = gpu_check.main(["--tiny", "--out", str(out)])
    return result, printed.getvalue(), json.loads(out.read_text())


def test_tiny_run_prints_and_writes_the_same_json_quickly(tiny):
    result, printed, written = tiny
    assert written == result
    assert json.loads(printed[printed.rindex('{\n  "check"'):]) == result  # the Trainer's log lines come first
    assert (result["check"], result["mode"]) == ("gpu_check", "tiny")
    assert result["command"].startswith("python benchmarks/gpu_check.py --tiny")
    assert result["seconds"] < 90  # about 20 s on an idle 2-core CPU; room for a machine shared with other jobs
    assert not [path for path, row in _rows(result) if "error" in row]


def test_machine_says_what_the_package_chooses_on_a_cpu(tiny):
    machine = tiny[0]["machine"]
    assert MACHINE_KEYS <= set(machine)
    assert machine["gpu"] is None and machine["peak_tflops_16bit"] is None
    assert (machine["package_precision"], machine["package_attention"]) == ("fp32", "sdpa")


def test_settings_describe_a_job_of_ag_news_length(tiny):
    settings = tiny[0]["settings"]
    assert (settings["model"], settings["layers"], settings["train_rows"], settings["epochs"]) == ("smoke", 2, 128, 1)
    lengths = settings["train_tokens_per_row"]
    assert 45 <= lengths["mean"] <= 60 and 45 <= lengths["p50"] <= 55
    assert lengths["max"] <= settings["max_length"] == 128


def test_default_job_compares_the_seed_recipe_with_the_package_defaults(tiny):
    job = tiny[0]["default_job"]
    seed, package = job["seed"], job["package"]
    assert (seed["batch_size"], seed["learning_rate"], seed["train_steps"]) == (16, 2e-5, 8)  # 128 rows / 16
    assert (package["batch_size"], package["eval_batch_size"], package["train_steps"]) == (32, 128, 4)
    for row in (seed, package):
        assert row["precision"] == "fp32" and row["mfu"] is None  # a CPU: no known peak
        assert row["samples_per_second"] > 0 and row["tokens_per_second"] > row["samples_per_second"]
    assert job["ratios"]["speedup"] == pytest.approx(seed["wall_seconds"] / package["wall_seconds"], abs=0.01)


def test_precision_paths_skip_fp16_without_cuda_and_train_bf16_on_the_cpu(tiny):
    paths = tiny[0]["precision_paths"]
    assert paths["fp16"]["skipped"].startswith("no CUDA")
    assert paths["t4_estimate"]["skipped"].startswith("no CUDA")
    bf16 = paths["bf16"]
    assert (bf16["precision"], bf16["steps"], bf16["samples"]) == ("bf16", 8, 256)
    assert len(bf16["losses"]) == 8 and bf16["loss_finite"] is True  # logged every step of 8
    assert isinstance(bf16["loss_falling"], bool)


def test_options_train_the_same_rows_or_say_why_not(tiny):
    options = tiny[0]["options"]
    defaults, larger = options["defaults"], options["larger_batch"]
    assert defaults["samples"] == larger["samples"] == 256
    assert (defaults["batch_size"], larger["batch_size"]) == (32, 128)
    assert larger["learning_rate"] == pytest.approx(2 * defaults["learning_rate"])  # sqrt(128 / 32)
    assert defaults["steady_speedup_vs_defaults"] == 1.0
    for name in ("flash_attention_2", "torch_compile"):
        assert options[name]["skipped"].startswith("no CUDA")
    padding_free = options["padding_free"]
    assert padding_free["works_for_classification"] is False and padding_free["prediction_rows"] == 1


def test_prediction_compares_predict_with_the_pipeline(tiny):
    prediction = tiny[0]["prediction"]
    assert prediction["texts"] == 100
    # One model, so the same probabilities up to float rounding; its random head's near-tied classes can
    # still flip a label in rounding, so the labels are reported (label_agreement), not asserted.
    assert prediction["max_probability_difference"] < 1e-4 and 0 <= prediction["label_agreement"] <= 1
    seconds = prediction["pipeline"]["seconds"] / prediction["package"]["seconds"]
    assert prediction["speedup"] == pytest.approx(seconds, abs=0.01)


def test_targets_are_not_judged_without_a_gpu(tiny):
    assert tiny[0]["targets"]["note"].startswith("no CUDA")


def test_targets_on_a_gpu(gpu_check):
    fp16 = {"loss_finite": True, "loss_falling": True}
    result = {"machine": {"gpu": "NVIDIA H100 80GB HBM3"},
              "default_job": {"ratios": {"speedup": 3.5}, "package": {"mfu": 0.41}},
              "precision_paths": {"fp16": fp16, "bf16": {"error": "RuntimeError: boom"}}}
    assert gpu_check.targets(result) == {"package_at_least_4x_seed": False, "package_mfu_at_least_40_percent": True,
                                         "fp16_loss_finite_and_falling": True, "bf16_loss_finite_and_falling": None}


def test_mfu_divides_model_flops_by_the_peak(gpu_check):
    import common

    assert common.mfu(111e6, 1_300_000, 2.0, peak=989e12) == 0.4377  # 6 x 111e6 x 1.3e6 / 2 s / 989e12
    assert common.mfu(111e6, 1_300_000, 2.0) is None  # a CPU: no known peak


def test_budget_spent_skips_every_part_but_keeps_the_machine(gpu_check, tmp_path):
    with contextlib.redirect_stdout(io.StringIO()):
        result = gpu_check.main(["--tiny", "--budget-seconds", "0", "--out", str(tmp_path / "check.json")])
    assert "torch" in result["machine"]
    parts = dict(_rows(result))
    assert {"default_job", "precision_paths.fp16", "prediction", "options.torch_compile"} <= set(parts)
    for path, row in parts.items():
        if path != "precision_paths.t4_estimate":
            assert row["skipped"].startswith("time budget"), path


def test_a_failing_part_is_recorded_and_the_next_part_still_runs(gpu_check, tmp_path):
    check = gpu_check.Check(tmp_path / "check.json", budget_seconds=60, header={"check": "gpu_check"})

    def broken():
        raise RuntimeError("CUDA error: device-side assert triggered")

    check.part(("options", "torch_compile"), broken)
    check.part(("prediction",), lambda: {"texts": 3})
    written = json.loads((tmp_path / "check.json").read_text())
    assert written["options"]["torch_compile"]["error"] == "RuntimeError: CUDA error: device-side assert triggered"
    assert written["prediction"]["texts"] == 3


@pytest.mark.parametrize("losses, verdict", [
    ([1.4, 1.3, 1.1, 0.9, 0.8, 0.7], (True, True)),
    ([1.4, 1.4, 1.5, 1.6, 1.7, 1.9], (True, False)),
    ([1.4, 1.3, math.nan, 0.9], (False, False)),
    ([1.4, math.inf], (False, False)),
    ([1.4], (True, None)),
])
def test_loss_verdict(gpu_check, losses, verdict):
    result = gpu_check.loss_verdict(losses)
    assert (result["loss_finite"], result["loss_falling"]) == verdict


def test_token_lengths_follow_ag_news(gpu_check):
    lengths = sorted(gpu_check.token_length_targets(20_000, random.Random(0)))
    assert 50 <= sum(lengths) / len(lengths) <= 56  # AG News under WordPiece: mean 52.7, median 50
    assert 48 <= lengths[len(lengths) // 2] <= 52
    assert 0.001 <= sum(n > 128 for n in lengths) / len(lengths) <= 0.015  # a long tail, cut at max_length


def test_synthetic_rows_have_their_target_length_and_balanced_classes(gpu_check, tmp_path):
    import csv

    import agnews_bert as ab

    tokenizer = ab.load_tokenizer("smoke")
    path = gpu_check.write_synthetic_csv(tmp_path / "rows.csv", 400, tokenizer, seed=7)
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    targets = gpu_check.token_length_targets(400, random.Random(7))
    lengths = [len(tokenizer(f"{title} {description}")["input_ids"]) for _, title, description in rows]
    assert all(0 <= length - target <= 5 for length, target in zip(lengths, targets))  # the last word may go over
    assert [label for label, _, _ in rows[:8]] == ["1", "2", "3", "4"] * 2
    assert len({title + description for _, title, description in rows}) == 400


def test_help_says_how_to_run_it_on_the_gpu_machine(gpu_check, capsys):
    with pytest.raises(SystemExit) as stopped:
        gpu_check.main(["--help"])
    assert stopped.value.code == 0
    text = capsys.readouterr().out
    assert "--tiny" in text and 'carry [".whl"]' in text
    assert "pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl" in text


def _rows(result: dict):
    """(dotted path, row) for each part's row in the JSON."""
    for name in ("default_job", "prediction"):
        yield name, result[name]
    for group in ("precision_paths", "options"):
        for name, row in result[group].items():
            yield f"{group}.{name}", row
