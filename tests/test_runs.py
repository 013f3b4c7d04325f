"""The runs index: one row per finished run, none for a run that failed or was interrupted."""

import dataclasses
import importlib.metadata
import json
import math
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import transformers

import agnews_bert as ab
from agnews_bert.config import BOOKKEEPING_FIELDS
import agnews_bert.training
from agnews_bert.cli import main
from agnews_bert.errors import TrainingInterrupted
from agnews_bert.lab.folders import read_index
from agnews_bert.lab.saving import index_row
from conftest import write_original_csv

ISSUE_COLUMNS = {  # what the runs table promises: name, model, sizes, hyperparameters, precision, GPU, time, scores
    "run_name", "model", "train_rows", "validation_rows", "test_rows", "epochs", "lr", "batch_size", "max_length",
    "seed", "precision", "device", "train_seconds", "validation_accuracy", "validation_macro_f1", "test_accuracy",
    "test_macro_f1",
}


class StopAtStep(transformers.TrainerCallback):
    """Ends training at a step the way a student or a crash would: Ctrl-C (SIGINT) or an exception."""

    def __init__(self, step: int, how: str):
        self.step, self.how = step, how

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            if self.how == "interrupt":
                os.kill(os.getpid(), signal.SIGINT)
            else:
                raise RuntimeError("simulated crash in the middle of training")


def stop_training_at(monkeypatch, step: int, how: str) -> None:
    """Make the next run's real Trainer stop at `step`."""
    build_trainer = agnews_bert.training.build_trainer

    def build_and_add_stop(*arguments, **keywords):
        trainer = build_trainer(*arguments, **keywords)
        trainer.add_callback(StopAtStep(step, how))
        return trainer

    monkeypatch.setattr(agnews_bert.training, "build_trainer", build_and_add_stop)


def smoke(output_dir, **changes):
    return ab.RunConfig.from_preset("smoke", output_dir=str(output_dir), **changes)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """An output folder with two finished smoke runs of 1 and 2 epochs."""
    output_dir = tmp_path_factory.mktemp("runs")
    results = [ab.train(smoke(output_dir, epochs=epochs)) for epochs in (1, 2)]
    return output_dir, results


def test_each_finished_run_adds_one_row_with_the_issue_columns(two_runs):
    output_dir, results = two_runs
    table = ab.lab.runs_table(output_dir)
    assert sorted(table["run_name"]) == sorted(result["run_name"] for result in results)
    assert ISSUE_COLUMNS <= set(table.columns)
    assert list(table["test_macro_f1"]) == sorted(table["test_macro_f1"], reverse=True)
    by_name = table.set_index("run_name")
    for epochs, result in zip((1, 2), results):
        row = by_name.loc[result["run_name"]]
        assert row["test_macro_f1"] == result["test"]["macro_f1"]
        assert row["epochs"] == epochs
        assert (row["train_rows"], row["validation_rows"], row["test_rows"]) == (416, 64, 160)


@pytest.mark.parametrize("how", ["interrupt", "crash"])
def test_a_run_stopped_mid_training_adds_no_row(two_runs, monkeypatch, how):
    output_dir, _ = two_runs
    before = read_index(output_dir)
    stop_training_at(monkeypatch, step=3, how=how)
    expected = TrainingInterrupted if how == "interrupt" else RuntimeError
    with pytest.raises(expected):
        ab.train(smoke(output_dir, epochs=3, run_name=f"stopped-{how}"))
    assert read_index(output_dir) == before
    assert not (output_dir / f"stopped-{how}" / "results.json").exists()


def test_cli_runs_prints_the_table_best_test_macro_f1_first(two_runs, capsys):
    output_dir, results = two_runs
    assert main(["runs", "--output-dir", str(output_dir)]) == 0
    printed = capsys.readouterr().out
    best_first = sorted(results, key=lambda result: result["test"]["macro_f1"], reverse=True)
    positions = [printed.index(result["run_name"]) for result in best_first]
    assert positions == sorted(positions)
    assert f"{best_first[0]['test']['macro_f1']:.4f}" in printed
    assert "2 finished run(s)" in printed


def test_cli_runs_on_an_empty_folder_says_how_to_start(tmp_path, capsys):
    assert main(["runs", "--output-dir", str(tmp_path)]) == 0
    assert "No finished runs" in capsys.readouterr().out


def test_index_row_reads_the_run_config_and_results(smoke_run):
    config = ab.RunConfig.from_preset("smoke")
    row = index_row(config, smoke_run)
    assert ISSUE_COLUMNS <= set(row)
    assert row["lr"] == config.learning_rate and row["precision"] == smoke_run["hardware"]["precision"]
    assert row["test_rows"] == sum(map(sum, smoke_run["test"]["confusion_matrix"]))


# A value other than the smoke preset's for every setting that can change a run's result.
OTHER_VALUES = {
    "model": "bert-base-uncased", "data": "other.csv", "test_data": "test.csv", "train_size": 200,
    "validation_size": 32, "test_size": 100, "epochs": 3, "lr": 1e-3, "batch_size": 16, "eval_batch_size": 64,
    "gradient_accumulation_steps": 2, "max_length": 32, "warmup_ratio": 0.2, "weight_decay": 0.1, "seed": 7,
    "precision": "auto", "attention": "eager", "group_by_length": False, "method": "linear-probe",
    "early_stopping_patience": 2,
}
# LoRA's own settings, which can change only a LoRA run's result.
LORA_VALUES = {"lora_r": 4, "lora_alpha": 8, "lora_dropout": 0.0}
BOOKKEEPING_VALUES = {
    "output_dir": "elsewhere", "checkpoint_dir": "/tmp/checkpoints", "mirror_checkpoints": False, "resume": False,
    "overwrite": True, "trust_remote_code": True, "preset": "cpu",
}


def test_every_result_affecting_setting_gets_its_own_run_folder():
    base = ab.RunConfig.from_preset("smoke", output_dir="runs")
    settings = {field.name for field in dataclasses.fields(ab.RunConfig)} - set(BOOKKEEPING_FIELDS)
    assert set(OTHER_VALUES) | set(LORA_VALUES) == settings, "a new RunConfig field needs a value here"
    lora = dataclasses.replace(base, method="lora")
    folders = {name: ab.lab.folders.run_dir_for(dataclasses.replace(base, **{name: value})).name
               for name, value in OTHER_VALUES.items()}
    folders.update({name: ab.lab.folders.run_dir_for(dataclasses.replace(lora, **{name: value})).name
                    for name, value in LORA_VALUES.items()})
    assert base.resolved_run_name not in folders.values() and lora.resolved_run_name not in folders.values()
    assert len(set(folders.values())) == len(OTHER_VALUES) + len(LORA_VALUES), "two settings share a run folder"
    assert ab.lab.folders.run_dir_for(ab.RunConfig.from_preset("smoke", output_dir="runs")) == ab.lab.folders.run_dir_for(base)  # same settings


def test_settings_added_later_keep_the_names_of_older_runs_and_lora_settings_matter_only_for_lora():
    smoke = ab.RunConfig.from_preset("smoke")
    assert smoke.resolved_run_name == "smoke_nall_lr3e-03_ep6_seed42_42beec"  # the name 0.1.0 gave this run
    explicit = dataclasses.replace(smoke, method="full", lora_r=8, lora_alpha=16, lora_dropout=0.1,
                                   early_stopping_patience=None)
    assert explicit.resolved_run_name == smoke.resolved_run_name
    assert dataclasses.replace(smoke, lora_r=64, lora_dropout=0.0).resolved_run_name == smoke.resolved_run_name
    lora = dataclasses.replace(smoke, method="lora")
    assert lora.resolved_run_name.startswith("smoke_lora_") and lora.resolved_run_name != smoke.resolved_run_name


def test_bookkeeping_settings_and_equal_numbers_keep_the_run_folder():
    base = ab.RunConfig.from_preset("smoke")
    for name, value in BOOKKEEPING_VALUES.items():
        assert dataclasses.replace(base, **{name: value}).resolved_run_name == base.resolved_run_name, name
    assert dataclasses.replace(base, epochs=6.0, lr=None).resolved_run_name == base.with_changes(lr=3e-3).resolved_run_name


def test_a_finished_run_is_kept_by_prepare_run_dir_and_refused_by_the_cli(smoke_run, capsys):
    run_dir = Path(smoke_run["run_dir"])
    config = ab.RunConfig.from_preset("smoke", output_dir=str(run_dir.parent))
    before = (run_dir / "results.json").read_bytes()
    capsys.readouterr()
    assert ab.lab.prepare_run_dir(config) == run_dir
    said = capsys.readouterr().out.splitlines()
    assert "Already trained with these settings" in said[0] and "tick 'train again'" in said[0]
    assert "--" not in said[0]  # a notebook user has no flags
    assert (run_dir / "results.json").read_bytes() == before
    with pytest.raises(ab.AgNewsError, match=r"pass overwrite=True to train it again, or run_name=\.\.\.") as refused:
        ab.train(config)
    assert refused.value.field == "overwrite"
    assert main(["train", "--preset", "smoke", "--output-dir", str(run_dir.parent)]) == 2
    error = capsys.readouterr().err
    assert "pass --overwrite to train it again, or --run-name ... to keep both" in error
    assert "overwrite=True" not in error


CONSOLE_SCRIPT = shutil.which("agnews-bert") or str(Path(sys.executable).parent / "agnews-bert")


def run_console_script(*arguments) -> subprocess.CompletedProcess:
    environment = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", OMP_NUM_THREADS="1")
    return subprocess.run([CONSOLE_SCRIPT, *map(str, arguments)], capture_output=True, text=True, env=environment,
                          stdin=subprocess.DEVNULL, timeout=900)


def unbalanced_original_rows(counts: dict, prefix: str) -> list:
    """Made-up rows in the original format (class 1-4, title, description), counts[class] of each."""
    topics = {1: "minister election border", 2: "striker match season", 3: "shares profit market",
              4: "software chip internet"}
    return [(str(label), f"{prefix} {topics[label]} title {index}", f"{prefix} {topics[label]} story {index}")
            for label, count in counts.items() for index in range(count)]


def test_the_readme_own_data_command_trains_on_a_3800_row_csv(tmp_path):
    train_csv = write_original_csv(tmp_path / "train.csv",
                                   unbalanced_original_rows({1: 1100, 2: 1000, 3: 900, 4: 800}, "train"))
    test_csv = write_original_csv(tmp_path / "test.csv", unbalanced_original_rows({1: 200, 2: 200, 3: 190, 4: 170},
                                                                                  "test"))
    # The README's command as written, plus what offline CI needs: a local model instead of the Hub's
    # ModernBERT-base (the smoke checkpoint folder), and one epoch.
    trained = run_console_script("train", "--data", train_csv, "--test-data", test_csv,
                                 "--model", ab.smoke.smoke_checkpoint(), "--epochs", 1, "--output-dir", tmp_path / "runs")
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "Data: train 3,420 rows, validation 380 rows, test 760 rows" in trained.stdout.splitlines()
    (run_dir,) = [path for path in (tmp_path / "runs").iterdir() if path.is_dir()]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["data"]["validation"]["per_class"] == {"World": 110, "Sports": 100, "Business": 90, "Sci/Tech": 80}
    assert run_dir.name.startswith("smoke-model-") and "_nall_" in run_dir.name  # named after the model it holds


def test_a_run_stuck_at_ln4_is_saved_with_a_warning(tmp_path):
    trained = run_console_script("train", "--preset", "smoke", "--lr", "1e-7", "--epochs", 1, "--output-dir", tmp_path)
    assert trained.returncode == 0, trained.stderr[-2000:]
    warning = ("the training loss never fell below 1.32 (95% of ln 4 = 1.39, the loss of guessing). Likely causes: "
               "the learning rate (lr=...; try 5e-5 for ModernBERT, 2e-5 for BERT) or the data (labels that do not "
               "match the texts; look at a few rows). The run is saved, but it learned nothing")
    in_flags = warning.replace("lr=...", "--lr ...")  # the command names the setting as its flag
    assert f"Warning: {in_flags}" in trained.stdout.splitlines()
    (results_file,) = tmp_path.glob("*/results.json")
    assert in_flags in json.loads(results_file.read_text())["warnings"]  # as the user saw it


def test_a_healthy_run_has_no_warnings(smoke_run):
    assert smoke_run["warnings"] == []


def test_learning_warnings_at_the_edges():
    from agnews_bert.training import learning_warnings

    stuck_below = 0.95 * math.log(4)
    assert len(learning_warnings([{"loss": stuck_below}], 0.9)) == 1
    assert learning_warnings([{"loss": 1.39}, {"loss": stuck_below - 0.001}], 0.9) == []
    assert learning_warnings([{"loss": 0.2}], 0.3)[0].startswith("the validation macro-F1 is 0.300, no better than")
    assert learning_warnings([{"loss": 0.2}], 0.301) == []


def test_version_and_the_evaluate_summary(smoke_run):
    version = run_console_script("--version")
    assert (version.returncode, version.stdout) == (0, f"agnews-bert {importlib.metadata.version('agnews_bert')}\n")
    run_dir = smoke_run["run_dir"]
    summary = run_console_script("evaluate", run_dir)
    assert summary.returncode == 0, summary.stderr[-2000:]
    test = smoke_run["test"]
    assert summary.stdout.splitlines() == [
        f"Accuracy {test['accuracy']:.3f}, macro-F1 {test['macro_f1']:.3f} on 160 rows of smoke",
        "F1 per class: " + ", ".join(f"{name} {test['per_class'][name]['f1']:.3f}" for name in test["per_class"]),
        f"Everything (confusion matrix, precision, recall): agnews-bert evaluate {run_dir} --json; the report of "
        f"the training run is in {run_dir}/results.json"]
    full = json.loads(run_console_script("evaluate", run_dir, "--json").stdout)
    assert full["confusion_matrix"] == test["confusion_matrix"]


HOLD_THE_LOCK = """
import sys, time
from agnews_bert.lab.lock import acquire_run_lock
acquire_run_lock(sys.argv[1])
print("holding", flush=True)
time.sleep(600)
"""


def test_a_notebook_meets_a_held_lock_with_a_message_and_takes_over_once_its_holder_is_killed(tmp_path, capsys):
    config = smoke(tmp_path, run_name="shared")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(tmp_path / "shared")], stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    try:
        assert holder.stdout.readline() == "holding\n"
        owner = json.loads((tmp_path / ".shared.owner.json").read_text())
        assert owner["pid"] == holder.pid
        with pytest.raises(ab.AgNewsError) as refused:  # at once: a second tab's cell must not hang
            ab.lab.prepare_run_dir(config)
        assert str(refused.value) == (
            f"run folder {tmp_path / 'shared'} is in use by another training run (pid {holder.pid} on "
            f"{owner['host']}, started {owner['started']}); wait for it to finish or stop it, or pass run_name=... "
            "to train in another folder")
        assert refused.value.field == "run_name"
        assert not (tmp_path / "shared").exists()  # refused before it touched anything
    finally:
        holder.kill()
        holder.wait()
    capsys.readouterr()
    assert ab.lab.prepare_run_dir(config) == tmp_path / "shared"
    said = capsys.readouterr().out.splitlines()
    assert said == [f"Note: taking over the lock of shared, left by a run that was stopped without releasing it "
                    f"(pid {holder.pid} on {owner['host']}, started {owner['started']}); that run is no longer running"]
    assert json.loads((tmp_path / ".shared.owner.json").read_text())["pid"] == os.getpid()
    assert ab.lab.prepare_run_dir(config) == tmp_path / "shared"  # the same cell again: no refusal
    assert capsys.readouterr().out == ""  # no second take-over note
    from agnews_bert.lab.lock import release_run_lock

    release_run_lock(tmp_path / "shared")
    assert not (tmp_path / ".shared.owner.json").exists()
