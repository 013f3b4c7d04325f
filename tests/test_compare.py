"""compare_models: one row per model on the same budget, plus the baseline; finished runs are reused."""

import json
from pathlib import Path

import pandas as pd
import pytest

import agnews_bert as ab
from agnews_bert.notebook import compare


def test_comparison_reuses_a_finished_run_and_adds_the_baseline(smoke_run, monkeypatch, capsys):
    output_dir = Path(smoke_run["run_dir"]).parent
    monkeypatch.setattr(compare, "train", lambda *_: pytest.fail("a finished run must not be trained again"))
    table = ab.notebook.compare_models(["smoke"], ab.RunConfig.from_preset("smoke", output_dir=str(output_dir)))
    assert list(table.columns) == list(compare.COLUMNS)
    assert list(table["model"]) == ["smoke", "TF-IDF + logistic regression"]
    saved = json.loads((Path(smoke_run["run_dir"]) / "results.json").read_text())
    smoke_row = table.iloc[0]
    assert smoke_row["test_accuracy"] == saved["test"]["accuracy"]
    assert smoke_row["test_macro_f1"] == saved["test"]["macro_f1"]
    assert smoke_row["train_seconds"] == saved["timing"]["train_seconds"]
    assert smoke_row["run_dir"] == smoke_run["run_dir"]
    assert table.iloc[1]["test_accuracy"] >= 0.9 and pd.isna(table.iloc[1]["run_dir"])
    said = capsys.readouterr().out.splitlines()
    assert "already trained" in said[0] and "Fitting the TF-IDF" in said[1]


def test_comparison_trains_each_model_on_the_same_budget(tmp_path):
    base = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), epochs=2, run_name="ignored")
    table = ab.notebook.compare_models(["smoke"], base, baseline=False)
    assert len(table) == 1
    run_dir = Path(table.iloc[0]["run_dir"])
    assert run_dir.parent == tmp_path and run_dir.name.startswith("smoke_nall_lr3e-03_ep2_seed42_")  # its own name, not base.run_name
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["epochs"], config["batch_size"], config["max_length"], config["seed"]) == (2, 32, 64, 42)
    assert 0 < table.iloc[0]["test_accuracy"] <= 1 and table.iloc[0]["train_samples_per_second"] > 0


def test_config_for_keeps_the_budget_and_the_base_lr_if_set():
    base = ab.RunConfig.from_preset("colab", train_size=4_000, epochs=1, run_name="mine")
    bert = compare.config_for("bert-base-uncased", base)
    assert (bert.model, bert.train_size, bert.epochs, bert.run_name) == ("bert-base-uncased", 4_000, 1, None)
    assert bert.learning_rate == 2e-5 and compare.config_for("answerdotai/ModernBERT-base", base).learning_rate == 5e-5
    assert compare.config_for("bert-base-uncased", base.with_changes(lr=3e-5)).learning_rate == 3e-5


def test_comparison_row_reads_run_results_and_baseline_results():
    results = {"model": "m", "test": {"accuracy": 0.5, "macro_f1": 0.4}, "run_dir": "runs/m",
               "timing": {"train_seconds": 12.0, "train_samples_per_second": 100.0, "peak_gpu_memory_gb": 3.5}}
    assert compare.comparison_row(results) == {
        "model": "m", "test_accuracy": 0.5, "test_macro_f1": 0.4, "train_seconds": 12.0,
        "train_samples_per_second": 100.0, "peak_gpu_memory_gb": 3.5, "run_dir": "runs/m"}


def test_the_price_of_a_point_is_a_sentence_when_an_encoder_does_not_beat_the_baseline():
    table = pd.DataFrame({"model": ["good", "level", "worse", "TF-IDF + logistic regression"],
                          "test_macro_f1": [0.92, 0.90, 0.8855, 0.90], "train_seconds": [60.0, 50.0, 40.0, 2.0]})
    priced = ab.notebook.price_of_a_point(table).set_index("model")
    assert priced.loc["good", "points_above_baseline"] == 2.0 and priced.loc["good", "seconds_per_point"] == 30.0
    assert priced.loc["worse", "points_above_baseline"] == -1.45
    for model in ("level", "worse"):  # no negative (or infinite) seconds per point, a sentence instead
        assert priced.loc[model, "seconds_per_point"] != priced.loc[model, "seconds_per_point"]  # NaN
        assert "no gain over the baseline" in priced.loc[model, "verdict"]
    assert priced.loc["good", "verdict"] == "" and "TF-IDF + logistic regression" not in priced.index


# --- the three methods on one model ----------------------------------------------------------------------


def fake_method_results(config, trainable: int, total: int = 4_000_000) -> dict:
    """results.json as a run of `config` writes it (the contract's parameter counts), with made-up scores."""
    return {"model": config.model, "run_dir": f"runs/{config.resolved_run_name}",
            "test": {"accuracy": 0.8 + trainable / 1e8, "macro_f1": 0.79 + trainable / 1e8},
            "parameters": {"trainable": trainable, "total": total, "trainable_share": trainable / total,
                           "total_millions": total / 1e6, "non_embedding_millions": 1.5},
            "timing": {"train_seconds": trainable / 1e5, "train_samples_per_second": 50.0, "peak_gpu_memory_gb": None}}


def test_methods_train_on_one_budget_each_at_its_usual_rate(monkeypatch, tmp_path):
    trained = []
    counts = {"full": 4_000_000, "lora": 150_000, "linear-probe": 1_028}

    def fake_train(config):
        trained.append(config)
        return fake_method_results(config, counts[config.method])

    monkeypatch.setattr(compare, "train", fake_train)
    base = ab.RunConfig.from_preset("cpu", output_dir=str(tmp_path), epochs=1, run_name="mine")  # the cpu preset's lr 1e-4
    table = ab.notebook.compare_methods("bert-base-uncased", base)
    assert list(table.columns) == list(compare.METHOD_COLUMNS)
    assert list(table["method"]) == ["full", "lora", "linear-probe"] == [config.method for config in trained]
    assert list(table["lr"]) == [2e-5, 5e-4, 1e-3]  # each method's usual rate, not the base's 1e-4
    budgets = {(config.model, config.train_size, config.epochs, config.batch_size, config.max_length, config.seed)
               for config in trained}
    assert budgets == {("bert-base-uncased", 2_000, 1, 32, 64, 42)}
    assert len({ab.lab.folders.run_dir_for(config) for config in trained}) == 3  # three run folders, none named "mine"
    assert list(table["trainable_parameters"]) == [4_000_000, 150_000, 1_028]
    assert list(table["total_parameters"]) == [4_000_000] * 3
    probe = table.set_index("method").loc["linear-probe"]
    assert probe["trainable_share"] == 1_028 / 4_000_000 and probe["train_seconds"] == 1_028 / 1e5
    assert probe["weights_and_optimizer_gb"] == round((4 * 4_000_000 + 12 * 1_028) / 1e9, 6)
    assert pd.isna(probe["peak_gpu_memory_gb"])  # a CPU: nothing measured, nothing made up


def test_a_finished_run_is_reused_for_its_method(smoke_run, monkeypatch, capsys):
    monkeypatch.setattr(compare, "train", lambda *_: pytest.fail("a finished run must not be trained again"))
    output_dir = str(Path(smoke_run["run_dir"]).parent)
    table = ab.notebook.compare_methods("smoke", ab.RunConfig.from_preset("smoke", output_dir=output_dir), methods=("full",))
    saved = json.loads((Path(smoke_run["run_dir"]) / "results.json").read_text())
    row = table.iloc[0]
    assert (row["method"], row["lr"], row["run_dir"]) == ("full", 3e-3, smoke_run["run_dir"])
    assert (row["test_macro_f1"], row["train_seconds"]) == (saved["test"]["macro_f1"], saved["timing"]["train_seconds"])
    counted = saved["parameters"].get("trainable")  # recorded once training counts trainable weights
    assert row["trainable_parameters"] == counted if counted is not None else pd.isna(row["trainable_parameters"])
    assert "already trained" in capsys.readouterr().out


def test_memory_of_weights_and_optimizer_is_counted_in_bytes_per_parameter():
    assert compare.weights_and_optimizer_gb(149_600_000, 149_600_000) == 2.3936  # 16 bytes a trained weight
    assert compare.weights_and_optimizer_gb(0, 149_600_000) == 0.5984  # 4 bytes a frozen one
    assert compare.weights_and_optimizer_gb(None, 149_600_000) is None  # a run saved before counts were recorded


def test_method_row_of_an_old_run_without_parameter_counts():
    config = ab.RunConfig.from_preset("smoke")
    results = {"model": "smoke", "test": {"accuracy": 0.5, "macro_f1": 0.4}, "parameters": {"total_millions": 0.2},
               "timing": {"train_seconds": 3.0}}
    row = compare.method_row(config, results)
    assert (row["method"], row["trainable_parameters"], row["weights_and_optimizer_gb"]) == ("full", None, None)
    assert (row["test_macro_f1"], row["train_seconds"], row["run_dir"]) == (0.4, 3.0, None)


# --- what notebook 02 compares on this runtime ------------------------------------------------------------

T4 = ab.hardware.Hardware("cuda", "Tesla T4", (7, 5))
CPU = ab.hardware.Hardware("cpu", "CPU")
ENCODERS = ["answerdotai/ModernBERT-base", "bert-base-uncased"]


def test_comparison_plan_keeps_the_encoders_on_a_gpu_and_swaps_in_small_berts_on_a_cpu(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("AGNEWS_BERT_SMOKE", raising=False)
    models, config = ab.notebook.comparison_plan(ENCODERS, str(tmp_path), T4)
    assert models == ENCODERS and config.epochs == 1 and config.preset == "colab" and capsys.readouterr().out == ""
    models, config = ab.notebook.comparison_plan(ENCODERS, str(tmp_path), CPU, epochs=2)
    assert models == list(compare.CPU_COMPARISON_MODELS) and config.preset == "cpu" and config.epochs == 2
    said = capsys.readouterr().out.splitlines()
    assert len(said) == 1 and "No GPU" in said[0] and "Change runtime type" in said[0]


def test_comparison_plan_in_smoke_mode_compares_the_tiny_model(monkeypatch, tmp_path):
    monkeypatch.setenv("AGNEWS_BERT_SMOKE", "1")
    models, config = ab.notebook.comparison_plan(ENCODERS, str(tmp_path), T4)
    assert models == ["smoke"] and config.model == "smoke" and config.epochs == 1
