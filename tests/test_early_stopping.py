"""Early stopping on validation macro-F1: when it stops, what the run records, and resuming around a stop.

The smoke sample trains 13 steps an epoch. At lr=1e-7 the smoke model's predictions do not move, so its
validation macro-F1 cannot improve; the tests check that it really stayed constant.
"""

import json
from functools import partial
import signal

import pytest
import transformers

import agnews_bert as ab
from agnews_bert import training
from agnews_bert.lab.checkpoints import latest_checkpoint, stopped_early_at
from test_cli import run_cli

STEPS_PER_EPOCH = 13


def frozen_config(tmp_path, **changes):
    """A smoke run of 6 epochs with patience 2 whose validation score cannot improve."""
    return ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), lr=1e-7, early_stopping_patience=2, **changes)


def validation_scores(results) -> list:
    return [(row["epoch"], row["eval_macro_f1"]) for row in results["log_history"] if "eval_macro_f1" in row]


def trained_steps(results) -> int:
    """The global step training ended at (the log history's closing row)."""
    (closing,) = [row for row in results["log_history"] if "train_runtime" in row]
    return closing["step"]


def test_a_run_that_cannot_improve_stops_at_patience_plus_one_epochs(tmp_path, capsys):
    results = ab.train(frozen_config(tmp_path, run_name="frozen"))
    said = capsys.readouterr().out.splitlines()
    scores = validation_scores(results)
    assert [epoch for epoch, _ in scores] == [1.0, 2.0, 3.0]  # patience 2 + 1, of 6 planned
    assert len({score for _, score in scores}) == 1  # constant: it really could not improve
    assert trained_steps(results) == 3 * STEPS_PER_EPOCH
    stopping = results["early_stopping"]
    assert {key: stopping[key] for key in stopping if key != "reason"} == {
        "patience": 2, "stopped": True, "stopped_at_epoch": 3.0, "best_epoch": 1.0, "epochs_planned": 6}
    assert "did not improve for 2 epochs" in stopping["reason"] and "stopped at epoch 3 of 6" in stopping["reason"]
    assert json.loads((tmp_path / "frozen" / "results.json").read_text())["early_stopping"] == stopping
    assert f"Early stopping: {stopping['reason']}" in said
    summary = next(line for line in said if line.startswith("Test accuracy"))
    assert "(stopped early at epoch 3 of 6)" in summary
    assert not any("stop" in warning for warning in results["warnings"])  # stopping itself is no fault


def test_a_run_that_improves_every_epoch_trains_every_epoch(tmp_path):
    results = ab.train(ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), epochs=2, early_stopping_patience=1),
)
    scores = [score for _, score in validation_scores(results)]
    assert len(scores) == 2 and scores[0] < scores[1]  # it did improve every epoch
    stopping = results["early_stopping"]
    assert (stopping["stopped"], stopping["stopped_at_epoch"], stopping["best_epoch"]) == (False, None, 2.0)
    assert stopping["reason"].startswith("all 2 planned epochs trained")


def test_without_patience_there_is_no_early_stopping(tmp_path):
    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path))
    tokenizer = ab.load_tokenizer("smoke")
    tokenized = ab.tokenize_dataset(ab.load_agnews(config), tokenizer, config.max_length)
    trainer = ab.training.build_trainer(config, ab.modeling.load_classifier("smoke"), tokenizer, tokenized, tmp_path)
    stopper_of = partial(training.callback_of, kind=transformers.EarlyStoppingCallback)
    assert stopper_of(trainer) is None and training.early_stopping_record(trainer, 6) is None
    assert not trainer.args.restore_callback_states_from_checkpoint
    patient = ab.training.build_trainer(config.with_changes(early_stopping_patience=3), ab.modeling.load_classifier("smoke"), tokenizer,
                               tokenized, tmp_path)
    assert stopper_of(patient).early_stopping_patience == 3
    assert patient.args.restore_callback_states_from_checkpoint


def test_a_stopped_run_killed_before_its_results_resumes_without_training_further(tmp_path, monkeypatch, capsys):
    config = frozen_config(tmp_path, run_name="killed")
    with monkeypatch.context() as patched:
        patched.setattr(training, "evaluate_on_test", _killed)
        with pytest.raises(RuntimeError, match="killed after training"):
            ab.train(config)
    checkpoint = latest_checkpoint(tmp_path / "killed" / "checkpoints")
    assert checkpoint.name == f"checkpoint-{3 * STEPS_PER_EPOCH}" and stopped_early_at(checkpoint)
    assert not (tmp_path / "killed" / "results.json").exists()

    capsys.readouterr()
    results = ab.train(config)  # the same command, run again
    said = capsys.readouterr().out.splitlines()
    assert results["resumed_from"] == checkpoint.name
    assert f"Early stopping had already ended this run at {checkpoint.name}; loading its best epoch without " \
           "training further" in said
    assert [epoch for epoch, _ in validation_scores(results)] == [1.0, 2.0, 3.0]  # no epoch after the stop
    assert trained_steps(results) == 3 * STEPS_PER_EPOCH
    assert (results["early_stopping"]["stopped"], results["early_stopping"]["stopped_at_epoch"]) == (True, 3.0)


def test_an_interrupted_run_keeps_its_patience_count_across_the_resume(tmp_path, monkeypatch):
    config = frozen_config(tmp_path, run_name="interrupted")
    stop_step = 2 * STEPS_PER_EPOCH + 4  # in epoch 3, after epoch 2 was scored no better than epoch 1
    with monkeypatch.context() as patched:
        patched.setattr(transformers.Trainer, "training_step", _interrupt_entering_step(stop_step))
        with pytest.raises(ab.AgNewsError, match=f"training stopped at step {stop_step}"):
            ab.train(config)
    assert not stopped_early_at(latest_checkpoint(tmp_path / "interrupted" / "checkpoints"))

    results = ab.train(config)
    assert results["resumed_from"] == f"checkpoint-{stop_step}"
    # The count was 1 at the interrupt; counting again from 0 would stop only at epoch 4.
    assert [epoch for epoch, _ in validation_scores(results)] == [1.0, 2.0, 3.0]
    assert results["early_stopping"]["stopped_at_epoch"] == 3.0


def test_the_console_script_stops_early_says_so_and_refuses_to_train_the_stopped_run_again(tmp_path):
    command = ("train", "--preset", "smoke", "--lr", "1e-7", "--early-stopping-patience", "2", "--output-dir",
               str(tmp_path), "--run-name", "cli-stop")
    trained = run_cli(*command)
    assert trained.returncode == 0, trained.stderr[-2000:]
    results = json.loads((tmp_path / "cli-stop" / "results.json").read_text())
    assert results["early_stopping"]["stopped_at_epoch"] == 3.0
    assert f"Early stopping: {results['early_stopping']['reason']}" in trained.stdout.splitlines()
    assert json.loads((tmp_path / "cli-stop" / "config.json").read_text())["early_stopping_patience"] == 2

    again = run_cli(*command)  # a stopped run is a finished run: training it again has to be asked for
    assert again.returncode == 2 and "already holds a finished run" in again.stderr


def _killed(*_args, **_kwargs):
    raise RuntimeError("killed after training, before the results were written")


def _interrupt_entering_step(step: int):
    """A training_step that presses Ctrl-C (SIGINT) once, entering `step` (1-based).

    That step still ends; it is saved as checkpoint-<step> and training stops there.
    """
    real_training_step = transformers.Trainer.training_step

    def training_step(self, *args, **kwargs):
        if self.state.global_step == step - 1 and not getattr(self, "_pressed", False):
            self._pressed = True
            signal.raise_signal(signal.SIGINT)
        return real_training_step(self, *args, **kwargs)

    return training_step
