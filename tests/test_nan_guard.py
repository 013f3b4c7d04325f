"""The fp16 path's guards: float32 weights under mixed precision, and a run that meets a nan loss.

No GPU here: a non-finite loss is injected at a chosen step, in bf16 on the CPU
(the same autocast path as fp16 on a T4, without the CUDA-only loss scaler),
and the weights are checked on a faked T4.
"""

import json
import math
from pathlib import Path

import pytest
import torch
import transformers

import agnews_bert as ab
from agnews_bert.lab.nan_guard import NonFiniteGuard, guard_of

T4 = ab.hardware.Hardware("cuda", "Tesla T4", (7, 5))
NAN_AFTER_STEP = 20  # smoke: 13 steps an epoch, a log every 4 steps, so the guard sees it at step 24


@pytest.fixture
def nan_loss_at(monkeypatch):
    """Make the training loss nan on the step after `step`, while the trainer runs in `precisions`."""

    def inject(step: int, precisions=("bf16", "fp16")):
        real_compute_loss = transformers.Trainer.compute_loss

        def compute_loss(self, model, inputs, *args, **kwargs):
            result = real_compute_loss(self, model, inputs, *args, **kwargs)
            sixteen_bit = "bf16" if self.args.bf16 else "fp16" if self.args.fp16 else "fp32"
            if model.training and self.state.global_step == step and sixteen_bit in precisions:
                return result * math.nan if torch.is_tensor(result) else (result[0] * math.nan, *result[1:])
            return result

        monkeypatch.setattr(transformers.Trainer, "compute_loss", compute_loss)

    return inject


def test_weights_saved_in_fp16_load_as_float32_for_fp16_training(tmp_path):
    fp16_checkpoint = tmp_path / "saved-in-fp16"
    ab.modeling.load_classifier("smoke").half().save_pretrained(fp16_checkpoint)
    ab.load_tokenizer("smoke").save_pretrained(fp16_checkpoint)
    config = ab.RunConfig.from_preset("smoke", model=str(fp16_checkpoint), precision="fp16", output_dir=str(tmp_path))
    model = ab.load_model(config, T4)
    assert {parameter.dtype for parameter in model.parameters()} == {torch.float32}
    tokenizer = ab.load_tokenizer(str(fp16_checkpoint))
    tokenized = ab.tokenize_dataset(ab.load_agnews(config), tokenizer, config.max_length)
    trainer = ab.training.build_trainer(config, model, tokenizer, tokenized, tmp_path / "run", hardware=T4)
    assert trainer.args.fp16 and not trainer.args.bf16  # fp16 autocast ...
    assert {parameter.dtype for parameter in trainer.model.parameters()} == {torch.float32}  # ... over fp32 weights


def test_a_nan_loss_in_16_bit_continues_in_fp32_from_the_last_finite_checkpoint(tmp_path, nan_loss_at, capsys):
    nan_loss_at(NAN_AFTER_STEP)
    results = ab.train(ab.RunConfig.from_preset("smoke", precision="bf16", output_dir=str(tmp_path)))
    said = capsys.readouterr().out.splitlines()
    assert results["precision_fallback"] == {"from": "bf16", "to": "fp32", "step": 24, "what": "training loss",
                                             "value": "nan", "resumed_from": "checkpoint-13"}
    assert results["hardware"]["precision"] == "fp32"
    assert json.loads((Path(results["run_dir"]) / "results.json").read_text())["precision_fallback"]["to"] == "fp32"
    assert [line for line in said if "continuing in fp32 from the last finite checkpoint" in line] != []
    assert not [line for line in said if line.startswith("Training stopped")]  # ab.train says what it does instead
    losses = [row["loss"] for row in results["log_history"] if "loss" in row]
    assert len(losses) >= 15 and all(math.isfinite(loss) for loss in losses)
    assert results["test"]["accuracy"] >= 0.9
    assert all(torch.isfinite(parameter).all() for parameter in ab.modeling.load_classifier(str(Path(results["run_dir"]) / "model"))
               .parameters())


def test_a_nan_loss_in_fp32_stops_the_run_with_the_fix(tmp_path, nan_loss_at):
    nan_loss_at(NAN_AFTER_STEP, precisions=("fp32",))
    with pytest.raises(ab.AgNewsError, match=r"training stopped at step 24: the training loss is nan in fp32, so "
                                             r"the learning rate is most likely too high: lower lr") as raised:
        ab.train(ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path)))
    assert raised.value.field == "lr"


def test_in_the_notebook_the_guard_stops_saves_nothing_more_and_names_the_fix(tmp_path, nan_loss_at, capsys):
    nan_loss_at(NAN_AFTER_STEP, precisions=("fp32",))
    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path))
    tokenizer = ab.load_tokenizer("smoke")
    tokenized = ab.tokenize_dataset(ab.load_agnews(config), tokenizer, config.max_length)
    trainer = ab.training.build_trainer(config, ab.modeling.load_classifier("smoke"), tokenizer, tokenized, tmp_path / "run")
    trainer.train()
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Training stopped")]
    assert printed == ["Training stopped at step 24: the training loss is nan in fp32, so the learning rate is most "
                       "likely too high: lower lr (say to a tenth) and train again, with overwrite=True."]
    assert trainer.state.global_step == 24  # not the 78 steps of 6 epochs
    saved = sorted(path.name for path in Path(trainer.args.output_dir).glob("checkpoint-*"))
    assert saved == ["checkpoint-13"]  # the epoch that met the nan is never saved ...
    assert Path(trainer.state.best_model_checkpoint).name == "checkpoint-13"  # ... nor kept as the best
    assert all(torch.isfinite(parameter).all() for parameter in trainer.model.parameters())  # the best one loaded


def test_a_nan_validation_score_is_never_the_best_epoch():
    arguments = transformers.TrainingArguments(output_dir="unused", metric_for_best_model="macro_f1",
                                               greater_is_better=True, report_to="none")
    state, control = transformers.TrainerState(global_step=26), transformers.TrainerControl(should_save=True)
    guard = NonFiniteGuard()
    metrics = {"eval_loss": math.nan, "eval_accuracy": 0.25, "eval_macro_f1": 0.1}
    guard.on_evaluate(arguments, state, control, metrics=metrics)
    assert metrics["eval_macro_f1"] == -math.inf  # what the Trainer compares next to pick the best epoch
    assert (control.should_training_stop, control.should_save) == (True, False)
    assert guard.problem == {"step": 26, "what": "validation loss", "value": "nan", "precision": "fp32"}
    finite = {"eval_loss": 0.4, "eval_macro_f1": 0.9}
    NonFiniteGuard().on_evaluate(arguments, state, transformers.TrainerControl(), metrics=finite)
    assert finite == {"eval_loss": 0.4, "eval_macro_f1": 0.9}


def test_every_trainer_the_library_builds_has_the_guard_and_logs_nan_as_nan(tmp_path):
    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path))
    tokenizer = ab.load_tokenizer("smoke")
    tokenized = ab.tokenize_dataset(ab.load_agnews(config), tokenizer, config.max_length)
    trainer = ab.training.build_trainer(config, ab.modeling.load_classifier("smoke"), tokenizer, tokenized, tmp_path / "run")
    assert isinstance(guard_of(trainer), NonFiniteGuard)
    assert trainer.args.logging_nan_inf_filter is False  # the Trainer's default would hide a nan loss
