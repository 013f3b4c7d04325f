"""The runs index: one row per finished run, none for a run that failed or was interrupted."""

import os
import signal

import pytest
import transformers

import agnews_bert as ab
import agnews_bert.training
from agnews_bert.cli import main
from agnews_bert.errors import TrainingInterrupted
from agnews_bert.runs import read_index
from agnews_bert.saving import index_row

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
