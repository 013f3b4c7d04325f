"""The runs index: one row per finished run, none for a run that failed or was interrupted."""

import dataclasses
import os
import signal
from pathlib import Path

import pytest
import transformers

import agnews_bert as ab
import agnews_bert.training
from agnews_bert.cli import main
from agnews_bert.errors import TrainingInterrupted
from agnews_bert.runs import read_index
from agnews_bert.runs.saving import index_row

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
    return ab.RunConfig.preset("smoke", output_dir=str(output_dir), **changes)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """An output folder with two finished smoke runs of 1 and 2 epochs."""
    output_dir = tmp_path_factory.mktemp("runs")
    results = [ab.train(smoke(output_dir, epochs=epochs), say=lambda *_: None) for epochs in (1, 2)]
    return output_dir, results


def test_each_finished_run_adds_one_row_with_the_issue_columns(two_runs):
    output_dir, results = two_runs
    table = ab.runs_table(output_dir)
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
        ab.train(smoke(output_dir, epochs=3, run_name=f"stopped-{how}"), say=lambda *_: None)
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
    config = ab.RunConfig.preset("smoke")
    row = index_row(config, smoke_run)
    assert ISSUE_COLUMNS <= set(row)
    assert row["lr"] == config.learning_rate and row["precision"] == smoke_run["hardware"]["precision"]
    assert row["test_rows"] == sum(map(sum, smoke_run["test"]["confusion_matrix"]))


# A value other than the smoke preset's for every setting that can change a run's result.
OTHER_VALUES = {
    "model": "bert-base-uncased", "data": "other.csv", "test_data": "test.csv", "train_size": 200,
    "validation_size": 32, "test_size": 100, "epochs": 3, "lr": 1e-3, "batch_size": 16, "eval_batch_size": 64,
    "gradient_accumulation_steps": 2, "max_length": 32, "warmup_ratio": 0.2, "weight_decay": 0.1, "seed": 7,
    "precision": "auto", "attention": "eager", "group_by_length": False,
}
BOOKKEEPING_VALUES = {
    "output_dir": "elsewhere", "checkpoint_dir": "/tmp/checkpoints", "mirror_checkpoints": False, "resume": False,
    "overwrite": True, "trust_remote_code": True, "preset": "cpu",
}


def test_every_result_affecting_setting_gets_its_own_run_folder():
    base = ab.RunConfig.preset("smoke", output_dir="runs")
    assert set(OTHER_VALUES) == set(base.identity), "a new RunConfig field needs a value here"
    folders = {name: ab.run_dir_for(dataclasses.replace(base, **{name: value})).name
               for name, value in OTHER_VALUES.items()}
    assert base.resolved_run_name not in folders.values()
    assert len(set(folders.values())) == len(OTHER_VALUES), "two settings share a run folder"
    assert ab.run_dir_for(ab.RunConfig.preset("smoke", output_dir="runs")) == ab.run_dir_for(base)  # same settings


def test_bookkeeping_settings_and_equal_numbers_keep_the_run_folder():
    base = ab.RunConfig.preset("smoke")
    for name, value in BOOKKEEPING_VALUES.items():
        assert dataclasses.replace(base, **{name: value}).resolved_run_name == base.resolved_run_name, name
    assert dataclasses.replace(base, epochs=6.0, lr=None).resolved_run_name == base.with_changes(lr=3e-3).resolved_run_name


def test_a_finished_run_is_kept_by_prepare_run_dir_and_refused_by_the_cli(smoke_run, capsys):
    run_dir = Path(smoke_run["run_dir"])
    config = ab.RunConfig.preset("smoke", output_dir=str(run_dir.parent))
    before = (run_dir / "results.json").read_bytes()
    said = []
    assert ab.prepare_run_dir(config, say=said.append) == run_dir
    assert "Already trained with these settings" in said[0] and "tick 'train again'" in said[0]
    assert "--" not in said[0]  # a notebook user has no flags
    assert (run_dir / "results.json").read_bytes() == before
    with pytest.raises(ab.AgNewsError, match=r"pass overwrite=True to train it again, or run_name=\.\.\."):
        ab.train(config, say=lambda *_: None)
    assert main(["train", "--preset", "smoke", "--output-dir", str(run_dir.parent)]) == 2
    error = capsys.readouterr().err
    assert "pass --overwrite to train it again, or --run-name ... to keep both" in error
    assert "overwrite=True" not in error


def test_library_errors_name_keywords_and_the_cli_turns_them_into_flags():
    from agnews_bert.cli import in_flags

    assert in_flags("pass overwrite=True, or run_name=... to keep it") == "pass --overwrite, or --run-name ... to keep it"
    assert in_flags("max_length=9000 is above 8192") == "--max-length 9000 is above 8192"
    assert in_flags("start over with resume=False") == "start over with --no-resume"
    assert in_flags("precision='bf16' needs an Ampere GPU") == "--precision bf16 needs an Ampere GPU"
