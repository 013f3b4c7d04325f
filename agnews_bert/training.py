"""Building the Hugging Face Trainer, and `train`: one whole run, config to results.

The Trainer evaluates on the validation split after every epoch, keeps the
epoch with the best validation macro-F1 (never the test set: picking on test
would make the test score optimistic), and keeps at most two checkpoints.
Only after training is the test split scored, once.

The notebook calls the steps one by one; the CLI calls `train(config)`, which
runs the same steps in order:

    config -> load_tokenizer -> load_agnews -> (the run folder's lock) -> tokenize_dataset -> make_collator
           -> load_model -> build_trainer -> trainer.train -> evaluate_on_test -> save_run

A run that learned nothing (a loss stuck near ln 4, validation at chance) is
saved like any other, with `warnings` in its results saying so.

Example:
    >>> results = train(RunConfig.from_preset("smoke", output_dir="/tmp/runs"))
    >>> results["test"]["accuracy"] > 0.9
    True
"""

import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import transformers

from . import _compat
from .analysis import error_analysis
from .calibration import calibration_report
from .lab.checkpoints import checkpoints_dir_for, train_resumably
from .collate import make_collator, sorted_by_length
from .config import RunConfig
from .data import describe_splits, load_agnews
from .errors import AgNewsError
from .labels import NUM_CLASSES
from .hardware import Hardware, choose_attention, choose_precision, describe_choice, detect_hardware
from .methods import check_method_available
from .metrics import classification_report, compute_metrics
from .modeling import check_model_source, check_tokenizer_fits_model, count_parameters, load_model
from .lab.nan_guard import NonFiniteGuard, fp32_fallback, guard_of
from .prediction import precision_of, score, softmax
from .lab.resilience import TrainingClock, is_out_of_memory, release_gpu_memory, smaller_batch
from .lab.folders import (check_output_dir, is_main_process, prepare_run_dir, refuse_finished_run, restore_replaced_run,
                   run_dir_for)
from .lab.lock import acquire_run_lock, release_run_lock
from .lab.saving import save_run
from .tokenization import check_max_length, load_tokenizer, tokenize_dataset

LOG_POINTS_PER_RUN = 20
STUCK_LOSS_SHARE = 0.95  # a loss that never fell below 95% of ln(classes) learned nothing
CHANCE_MACRO_F1 = 1.2 / NUM_CLASSES  # at most a fifth above guessing (0.25 for 4 classes): chance


def build_training_args(config: RunConfig, run_dir, train_rows: int, hardware: Hardware | None = None):
    """TrainingArguments for a config: per-epoch evaluation, best epoch by validation macro-F1."""
    hardware = hardware or detect_hardware()
    precision = choose_precision(config.precision, hardware)
    if precision == "bf16":
        _compat.enable_tf32_matmuls()
    _compat.hide_shard_writing_bars()  # six bars per training cell say nothing a student needs
    steps_per_epoch = math.ceil(train_rows / (config.batch_size * config.gradient_accumulation_steps))
    group_by_length = True if config.group_by_length is None else config.group_by_length
    return transformers.TrainingArguments(
        output_dir=str(checkpoints_dir_for(config, run_dir)),
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.per_device_eval_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        weight_decay=config.weight_decay,
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        logging_strategy="steps",
        logging_steps=max(1, round(steps_per_epoch * config.epochs / LOG_POINTS_PER_RUN)),
        logging_nan_inf_filter=False,  # log a nan loss as nan, so NonFiniteGuard sees it
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=hardware.device == "cpu",
        dataloader_pin_memory=hardware.device == "cuda",  # pinned memory only speeds up copies to a GPU
        seed=config.seed,
        report_to="none",
        ddp_find_unused_parameters=False,  # every parameter gets a gradient; skip the extra graph walk
        save_only_model=False,
        # Off by default in transformers; on, a resumed run keeps early stopping's count of epochs without a
        # better validation score (checkpoints.py reads the same record to see where a run stopped).
        restore_callback_states_from_checkpoint=config.early_stopping_patience is not None,
        **_compat.length_grouping_kwargs(group_by_length),
        **_compat.warmup_kwargs(config.warmup_ratio),
    )


def build_trainer(config: RunConfig, model, tokenizer, tokenized, run_dir, collator=None, hardware=None):
    """A Trainer for the tokenized splits, scoring on validation after each epoch."""
    hardware = hardware or detect_hardware()
    collator = collator or make_collator(tokenizer, pad_to_multiple_of=8 if hardware.device == "cuda" else None)
    arguments = build_training_args(config, run_dir, len(tokenized["train"]), hardware)
    return transformers.Trainer(
        model=model,
        args=arguments,
        train_dataset=tokenized["train"],
        eval_dataset=sorted_by_length(tokenized["validation"]),  # metrics ignore order; sorted batches pad little
        data_collator=collator,
        compute_metrics=compute_metrics,
        # NonFiniteGuard (stops at a nan/inf loss or metric, nan_guard.py) goes first: it turns a nan
        # validation score into -inf, which early stopping then counts as no better.
        callbacks=[NonFiniteGuard(), *early_stopping_callbacks(config)],
        **_compat.trainer_tokenizer_kwargs(tokenizer),
    )


def early_stopping_callbacks(config: RunConfig) -> list:
    """transformers' EarlyStoppingCallback on validation macro-F1 when config.early_stopping_patience is set.

    It counts the epochs since the best validation macro-F1 (metric_for_best_model) and
    stops once that count reaches the patience. Example: patience 2 -> [EarlyStoppingCallback]; None -> []
    """
    if config.early_stopping_patience is None:
        return []
    return [transformers.EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience)]


def early_stopper_of(trainer):
    """The trainer's EarlyStoppingCallback (after a resume: the one restored from the checkpoint), or None."""
    return next((callback for callback in trainer.callback_handler.callbacks
                 if isinstance(callback, transformers.EarlyStoppingCallback)), None)


def evaluate_on_test(trainer, test_split, texts=None) -> dict:
    """Score the test split once: the full classification report, plus rows and seconds.

    The trainer's model is scored with `score` (prediction.py), in the trainer's
    precision and evaluation batch size, as `agnews-bert evaluate` scores it again later.
    With the test `texts` (in the order of `test_split`), the report also holds the
    most confidently wrong examples and the most confused class pairs (see analysis.py).
    "calibration" holds ECE and Brier score before and after temperature scaling, the
    temperature fitted on the trainer's validation split (see calibration.py).
    """
    if texts is not None and len(texts) != len(test_split):
        raise AgNewsError(f"{len(texts)} texts for {len(test_split)} test rows; pass texts=splits['test']['text']")
    started = time.perf_counter()
    output = score_with(trainer, test_split, "test")
    report = report_from_logits(output.label_ids, output.predictions)
    report.update(rows=len(test_split), seconds=round(time.perf_counter() - started, 2))
    if texts is not None:
        probabilities = softmax(output.predictions)
        report.update(error_analysis(list(texts), output.label_ids, probabilities, report["confusion_matrix"]))
    if trainer.eval_dataset is not None:
        validation = score_with(trainer, trainer.eval_dataset, "validation")
        report["calibration"] = calibration_report(validation.predictions, validation.label_ids,
                                                   output.predictions, output.label_ids)
    return report


def report_from_logits(labels, logits) -> dict:
    """The classification report of logits against labels: what results.json and `evaluate` hold under test."""
    return classification_report(labels, np.asarray(logits).argmax(axis=-1))


def score_with(trainer, rows, metric_key_prefix: str):
    """`score` the trainer's model on tokenized rows, in the trainer's precision, device and evaluation batch."""
    arguments = trainer.args
    return score(trainer.model, _compat.trainer_tokenizer(trainer), rows,
                 batch_size=arguments.per_device_eval_batch_size, precision=precision_of(arguments),
                 device=arguments.device.type, metric_key_prefix=metric_key_prefix)


def train(config: RunConfig, say=print) -> dict:
    """Run one whole fine-tuning job and return its results (also in run_dir/results.json).

    Every input is checked before anything is written or tokenized; then the run
    folder's lock is taken (a second writer is refused at once, see lab/lock.py)
    and held until the run is saved or fails.
    """
    config = config.validated()
    started = time.perf_counter()
    say = say if is_main_process() else _quiet
    refuse_finished_run(config)
    check_output_dir(config)
    hardware = detect_hardware()  # the one look at the machine; precision and attention follow from it
    splits, tokenizer = load_inputs(config)
    run_dir = run_dir_for(config)
    if is_main_process():
        acquire_run_lock(run_dir, say)
    try:
        return _train_holding_the_lock(config, splits, tokenizer, hardware, run_dir, started, say)
    finally:
        if is_main_process():
            release_run_lock(run_dir)


def _train_holding_the_lock(config, splits, tokenizer, hardware, run_dir, started, say) -> dict:
    say(f"Data: {', '.join(f'{name} {len(rows):,} rows' for name, rows in splits.items())}")
    tokenized = tokenize_dataset(splits, tokenizer, config.max_length)
    precision = choose_precision(config.precision, hardware)
    attention = choose_attention(config.attention, hardware, config.precision)
    say(f"Hardware: {describe_choice(hardware, precision, attention)}")
    if is_main_process():
        prepare_run_dir(config, say)
    say(f"Run folder: {run_dir}")
    try:
        trainer, train_output, checkpoint, config = fit(config, tokenizer, tokenized, run_dir, hardware, say)
    except AgNewsError:  # a model that cannot load, say: the run that overwrite=True replaces comes back
        if is_main_process():
            restore_replaced_run(run_dir)
        raise
    report = evaluate_on_test(trainer, tokenized["test"], texts=splits["test"]["text"])
    results = collect_results(trainer, config, splits, report, train_output, run_dir, started, checkpoint, hardware)
    if trainer.is_world_process_zero():
        results = save_run(trainer, run_dir, config, results)
        if (results.get("early_stopping") or {}).get("stopped"):
            say(f"Early stopping: {results['early_stopping']['reason']}")
        for warning in results.get("warnings", []):
            say(f"Warning: {warning}")
        say(summary_line(results))
    return results


def fit(config: RunConfig, tokenizer, tokenized, run_dir, hardware: Hardware, say=print):
    """Build and train a model; on a CUDA out-of-memory error, rebuild with a smaller batch and go on.

    A nan or inf loss in bf16/fp16 (NonFiniteGuard) is retried the same way, in fp32
    from the last finite checkpoint. Returns (trainer, train_output, resumed_from, config):
    resumed_from is the checkpoint folder or None, config the one that trained (after a
    retry: its smaller batch or fp32, and run_name fixed to run_dir's name, so
    config.json names its own folder).
    """
    fallback = None
    while True:
        reset_gpu_memory_peak()
        transformers.set_seed(config.seed)
        trainer = build_trainer(config, load_model(config, hardware), tokenizer, tokenized, run_dir,
                                hardware=hardware)
        guard = guard_of(trainer)
        guard.say, guard.fallback = _quiet, fallback  # fit says what happens instead
        try:
            train_output, checkpoint = train_resumably(trainer, config, run_dir, say)
        except Exception as error:
            if not is_out_of_memory(error):
                raise
        else:
            if guard.problem is None:
                if fallback is not None:
                    fallback["resumed_from"] = checkpoint.name if checkpoint else None
                return trainer, train_output, checkpoint, config
            config, fallback = fp32_fallback(config, guard.problem, run_dir, say)
            del trainer
            release_gpu_memory()
            continue
        # Outside the except block, so the traceback no longer holds the model's memory.
        del trainer
        release_gpu_memory()
        config = replace(smaller_batch(config), resume=True, run_name=Path(run_dir).name)
        say(f"Out of GPU memory: retrying with batch_size={config.batch_size} and gradient_accumulation_steps="
            f"{config.gradient_accumulation_steps} (effective batch {config.batch_size * config.gradient_accumulation_steps})")


def collect_results(trainer, config: RunConfig, splits, test_report: dict, train_output, run_dir,
                    started: float | None = None, resumed_from: Path | None = None,
                    hardware: Hardware | None = None) -> dict:
    """Everything results.json holds, from the pieces of a finished training run.

    The validation split (the trainer's eval_dataset) is scored once more with the
    model kept, as the test split was. `hardware` is the machine the run was
    decided for (looked at again if not given); precision and attention are read
    from the trainer and the model, so what is recorded is what ran.
    """
    validation = score_with(trainer, trainer.eval_dataset, "validation").metrics
    validation = {key.removeprefix("validation_"): value for key, value in validation.items()}
    arguments = trainer.args
    model_config = trainer.model.config
    timing = _timing(train_output, started, _seconds_before_resume(trainer))
    log_history = whole_run_history(trainer.state.log_history, timing["train_seconds"]) if resumed_from \
        else trainer.state.log_history
    return {
        "run_name": Path(run_dir).name,
        "model": config.model,
        "preset": config.preset,
        "parameters": count_parameters(trainer.model),
        "data": describe_splits(splits),
        "validation": validation,
        "test": test_report,
        "timing": timing,
        "hardware": _hardware_used(hardware or detect_hardware(), arguments, model_config),
        "batch": {"per_device": arguments.per_device_train_batch_size, "devices": arguments.world_size,
                  "gradient_accumulation_steps": arguments.gradient_accumulation_steps},
        "log_history": log_history,
        "resumed_from": Path(resumed_from).name if resumed_from else None,
        "precision_fallback": getattr(guard_of(trainer), "fallback", None),  # nan_guard.fp32_fallback
        "early_stopping": early_stopping_record(trainer, config.epochs),
        "warnings": learning_warnings(log_history, validation.get("macro_f1")),
    }


def early_stopping_record(trainer, epochs_planned: float) -> dict | None:
    """What early stopping did, read from the Trainer's own state; None when it was off.

    The callback's counter holds the epochs since the best validation macro-F1; a run
    stopped when that count reached the patience before the planned epochs ran out.
    Example: patience 2, scores 0.25, 0.25, 0.25 of 6 epochs
        -> {"patience": 2, "stopped": True, "stopped_at_epoch": 3.0, "best_epoch": 1.0, "epochs_planned": 6, ...}
    """
    stopper = early_stopper_of(trainer)
    if stopper is None:
        return None
    patience, without_better = stopper.early_stopping_patience, stopper.early_stopping_patience_counter
    scores = [(row["epoch"], row["eval_macro_f1"]) for row in trainer.state.log_history if "eval_macro_f1" in row]
    # The Trainer takes a new best only when strictly higher, so the first epoch with the best score is the kept one.
    best_epoch, best_score = next(((epoch, score) for epoch, score in scores if score == trainer.state.best_metric),
                                  (None, None))
    last_epoch = scores[-1][0] if scores else None
    stopped = without_better >= patience and last_epoch is not None and last_epoch < epochs_planned
    reason = _early_stopping_reason(stopped, patience, without_better, best_epoch, best_score, last_epoch,
                                    epochs_planned)
    return {"patience": patience, "stopped": stopped, "stopped_at_epoch": last_epoch if stopped else None,
            "best_epoch": best_epoch, "epochs_planned": epochs_planned, "reason": reason}


def _early_stopping_reason(stopped, patience, without_better, best_epoch, best_score, last_epoch,
                           epochs_planned) -> str:
    if best_epoch is None:
        return "no validation score was recorded, so early stopping had nothing to go by"
    if stopped:
        return (f"validation macro-F1 did not improve for {_epochs(without_better)} after its best, {best_score:.3f} "
                f"at epoch {best_epoch:g} (patience {patience}), so training stopped at epoch {last_epoch:g} of "
                f"{epochs_planned:g}; the model kept is epoch {best_epoch:g}'s")
    return (f"all {epochs_planned:g} planned epochs trained: the validation macro-F1 never went {_epochs(patience)} "
            f"without improving before the end; the best, {best_score:.3f}, was at epoch {best_epoch:g}")


def _epochs(count: int) -> str:
    """Example: 1 -> "1 epoch", 2 -> "2 epochs" """
    return f"{count} epoch" if count == 1 else f"{count} epochs"


def learning_warnings(log_history: list, validation_macro_f1: float | None) -> list:
    """Warnings for a run that learned nothing: a loss stuck near ln(classes), or validation at chance.

    Such a run is saved like any other (its numbers are real), but says so, with the two likely causes.
    Example: losses [1.39, 1.38, 1.39] -> ["the training loss never fell below 1.32 ..."]
    """
    causes = ("Likely causes: the learning rate (lr=...; try 5e-5 for ModernBERT, 2e-5 for BERT) or the data "
              "(labels that do not match the texts; look at a few rows). The run is saved, but it learned nothing")
    warnings = []
    losses = [row["loss"] for row in log_history if "loss" in row]
    stuck_below = STUCK_LOSS_SHARE * math.log(NUM_CLASSES)
    if losses and min(losses) >= stuck_below:
        warnings.append(f"the training loss never fell below {stuck_below:.2f} ({STUCK_LOSS_SHARE:.0%} of "
                        f"ln {NUM_CLASSES} = {math.log(NUM_CLASSES):.2f}, the loss of guessing). {causes}")
    if validation_macro_f1 is not None and validation_macro_f1 <= CHANCE_MACRO_F1:
        warnings.append(f"the validation macro-F1 is {validation_macro_f1:.3f}, no better than chance (about "
                        f"{1 / NUM_CLASSES:.2f} for {NUM_CLASSES} classes). {causes}")
    return warnings


def whole_run_history(log_history: list, train_seconds: float) -> list:
    """A resumed run's log history, its closing row holding the whole run's time and mean loss.

    The Trainer's closing row covers only the part after the resume. The mean loss is
    weighted by the steps each logged loss covers. Example: losses 1.2 at step 10 and
    0.4 at step 30 -> (1.2 x 10 + 0.4 x 20) / 30 = 0.667
    """
    weighted, steps, last_step = 0.0, 0, 0
    for row in log_history:
        if "loss" in row:
            weighted += row["loss"] * (row["step"] - last_step)
            steps, last_step = steps + row["step"] - last_step, row["step"]
    history = [dict(row) for row in log_history]
    for row in history:
        if "train_runtime" in row:
            row.update(train_runtime=train_seconds, train_loss=weighted / steps if steps else row.get("train_loss"))
    return history


def prepare_data(config: RunConfig, say=print):
    """Load, split and tokenize the data for a config: (splits, tokenizer, tokenized)."""
    splits, tokenizer = load_inputs(config)
    say(f"Data: {', '.join(f'{name} {len(rows):,} rows' for name, rows in splits.items())}")
    return splits, tokenizer, tokenize_dataset(splits, tokenizer, config.max_length)


def load_inputs(config: RunConfig):
    """The split data and the tokenizer, with every check on the inputs done: (splits, tokenizer).

    The method's library (peft for LoRA), the model folder, the tokenizer (and that it fits the model), max_length and
    the data are all checked here, so a bad input fails before any output.
    """
    check_method_available(config.method)
    check_model_source(config.model)
    tokenizer = load_tokenizer(config.model, config.trust_remote_code)
    check_tokenizer_fits_model(tokenizer, config.model, config.trust_remote_code)
    check_max_length(tokenizer, config.max_length, config.model)
    return load_agnews(config), tokenizer


def summary_line(results: dict) -> str:
    """Example: "Test accuracy 0.947, macro-F1 0.947 on 7,600 rows; trained in 612.3 s" """
    test = results["test"]
    stopping = results.get("early_stopping") or {}
    stopped = (f" (stopped early at epoch {stopping['stopped_at_epoch']:g} of {stopping['epochs_planned']:g})"
               if stopping.get("stopped") else "")
    return (
        f"Test accuracy {test['accuracy']:.3f}, macro-F1 {test['macro_f1']:.3f} on {test['rows']:,} rows; "
        f"trained in {results['timing']['train_seconds']:.1f} s{stopped}. Run folder: {results.get('run_dir', '')}"
    )


def _timing(train_output, started: float | None, seconds_before_resume: float = 0.0) -> dict:
    """Times in seconds; train_seconds sums every part of a resumed run (see TrainingClock)."""
    import torch

    peak_gpu_bytes = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
    return {
        "train_seconds": round(seconds_before_resume + train_output.metrics["train_runtime"], 2),
        "seconds_before_resume": round(seconds_before_resume, 2),
        "resumed_part_seconds": round(train_output.metrics["train_runtime"], 2),
        "train_samples_per_second": train_output.metrics.get("train_samples_per_second"),
        "total_seconds": round(time.perf_counter() - started, 2) if started else None,
        "peak_gpu_memory_gb": round(peak_gpu_bytes / 2**30, 2) if peak_gpu_bytes is not None else None,
    }


def _seconds_before_resume(trainer) -> float:
    clock = next((callback for callback in trainer.callback_handler.callbacks if isinstance(callback, TrainingClock)),
                 None)
    return clock.previous_seconds if clock else 0.0


def _hardware_used(hardware: Hardware, arguments, model_config) -> dict:
    return {"device": hardware.device, "name": hardware.name, "capability": hardware.capability,
            "precision": precision_of(arguments), "attention": getattr(model_config, "_attn_implementation", None)}


def reset_gpu_memory_peak() -> None:
    """Start counting peak GPU memory from here, so each run reports its own peak."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def _quiet(*_args, **_kwargs) -> None:
    return None
