import json
from pathlib import Path

import pytest

import agnews_bert as ab
from agnews_bert.runs import read_index


def test_smoke_run_learns_the_sample(smoke_run):
    assert smoke_run["test"]["accuracy"] >= 0.9
    assert smoke_run["test"]["macro_f1"] >= 0.9
    assert smoke_run["test"]["rows"] == 160
    assert sum(map(sum, smoke_run["test"]["confusion_matrix"])) == 160


def test_smoke_run_folder_holds_model_config_and_results(smoke_run):
    run_dir = Path(smoke_run["run_dir"])
    results = json.loads((run_dir / "results.json").read_text())
    assert results["test"]["accuracy"] == smoke_run["test"]["accuracy"]
    assert {"accuracy", "macro_f1"} <= set(results["validation"])
    assert results["versions"]["transformers"]
    assert ab.RunConfig.from_json((run_dir / "config.json").read_text()) == ab.RunConfig.preset(
        "smoke", output_dir=str(run_dir.parent)
    )
    assert (run_dir / "model" / "model.safetensors").exists()
    assert not (run_dir / "checkpoints").exists()


def test_best_epoch_is_chosen_on_validation(smoke_run):
    epoch_scores = [row["eval_macro_f1"] for row in smoke_run["log_history"] if "eval_macro_f1" in row]
    assert len(epoch_scores) == 6
    assert smoke_run["validation"]["macro_f1"] == pytest.approx(max(epoch_scores))
    assert not any(key.startswith("test_") for row in smoke_run["log_history"] for key in row)


def test_finished_run_is_indexed_and_not_overwritten(smoke_run):
    run_dir = Path(smoke_run["run_dir"])
    assert [row["run_name"] for row in read_index(run_dir.parent)] == [run_dir.name]
    before = (run_dir / "results.json").read_bytes()
    with pytest.raises(ab.AgNewsError, match="already holds a finished run; pass --overwrite"):
        ab.train(ab.RunConfig.preset("smoke", output_dir=str(run_dir.parent)), say=lambda *_: None)
    assert (run_dir / "results.json").read_bytes() == before


def test_training_arguments_follow_the_config(tmp_path):
    config = ab.RunConfig.preset("smoke", batch_size=8, epochs=2, lr=1e-3, warmup_ratio=0.2)
    arguments = ab.build_training_args(config, tmp_path, train_rows=400, hardware=ab.Hardware("cpu", "CPU"))
    assert arguments.per_device_train_batch_size == 8
    assert arguments.per_device_eval_batch_size == 32
    assert arguments.learning_rate == 1e-3
    assert arguments.metric_for_best_model == "macro_f1" and arguments.load_best_model_at_end
    assert arguments.save_total_limit == 2
    assert not arguments.fp16 and not arguments.bf16
    assert arguments.get_warmup_steps(100) == 20
    assert arguments.logging_steps == 5  # 100 steps over the run, 20 log points
