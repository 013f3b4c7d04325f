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

Scoring sits below this module (scoring.py); the validation scores of the kept
epoch are the Trainer's own record of them (`best_validation`), not a second pass.
Progress goes to the `agnews_bert` logger; the processes of a multi-GPU run other
than the first only log warnings.

Example:
    >>> test = {"accuracy": 0.9472, "macro_f1": 0.9468, "rows": 7600}
    >>> summary_line({"test": test, "timing": {"train_seconds": 612.34}})
    'Test accuracy 0.947, macro-F1 0.947 on 7,600 rows; trained in 612.3 s. Run folder: '
"""

import logging
import math
import time
from dataclasses import replace
from pathlib import Path

import torch
import transformers

from . import _compat
from .lab.checkpoints import checkpoints_dir_for, train_resumably
from .collate import make_collator, sorted_by_length
from .config import RunConfig
from .data import describe_splits, load_agnews
from .errors import AgNewsError, setting
from .labels import NUM_CLASSES
from .hardware import Hardware, choose_attention, choose_precision, describe_choice, detect_hardware
from .methods import require_peft
from .metrics import compute_metrics
from .modeling import check_model_source, check_tokenizer_fits_model, count_parameters, load_model
from .lab.nan_guard import NonFiniteGuard, fp32_fallback, guard_of
from .lab.resilience import TrainingClock, is_out_of_memory, release_gpu_memory, smaller_batch
from .lab.folders import (check_output_dir, is_main_process, prepare_run_dir, refuse_finished_run, restore_replaced_run,
                   run_dir_for)
from .lab.lock import acquire_run_lock, release_run_lock
from .lab.saving import save_run
from .scoring import device_arguments, evaluate_on_test, precision_of
from .tokenization import check_max_length, load_tokenizer, tokenize_dataset

log = logging.getLogger(__name__)

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
        logging_steps=max(1, round(steps_per_epoch * config.epochs / LOG_POINTS_PER_RUN)),
        logging_nan_inf_filter=False,  # log a nan loss as nan, so NonFiniteGuard sees it
        seed=config.seed,
        ddp_find_unused_parameters=False,  # every parameter gets a gradient; skip the extra graph walk
        # Off by default in transformers; on, a resumed run keeps early stopping's count of epochs without a
        # better validation score (checkpoints.py reads the same record to see where a run stopped).
        restore_callback_states_from_checkpoint=config.early_stopping_patience is not None,
        **device_arguments(precision, hardware.device),
        **_compat.length_grouping_kwargs(config.group_by_length is not False),  # None: grouped
        **_compat.warmup_kwargs(config.warmup_ratio),
    )


def build_trainer(config: RunConfig, model, tokenizer, tokenized, run_dir, collator=None, hardware=None):
    """A Trainer for the tokenized splits, scoring on validation after each epoch."""
    hardware = hardware or detect_hardware()
    collator = collator or make_collator(tokenizer, pad_to_multiple_of=8 if hardware.device == "cuda" else None)
    return transformers.Trainer(
        model=model,
        args=build_training_args(config, run_dir, len(tokenized["train"]), hardware),
        train_dataset=tokenized["train"],
        eval_dataset=sorted_by_length(tokenized["validation"]),  # metrics ignore order; sorted batches pad little
        data_collator=collator,
        compute_metrics=compute_metrics,
        # NonFiniteGuard (stops at a nan/inf loss or metric, nan_guard.py) goes first: it turns a nan
        # validation score into -inf, which early stopping then counts as no better. EarlyStoppingCallback
        # counts the epochs since the best validation macro-F1 and stops once that count reaches the patience.
        callbacks=[NonFiniteGuard()] + ([] if config.early_stopping_patience is None else
                                        [transformers.EarlyStoppingCallback(config.early_stopping_patience)]),
        **_compat.trainer_tokenizer_kwargs(tokenizer),
    )


def callback_of(trainer, kind):
    """The trainer's first callback of class `kind`, or None.

    For EarlyStoppingCallback after a resume: the one restored from the checkpoint.
    """
    return next((callback for callback in trainer.callback_handler.callbacks if isinstance(callback, kind)), None)


def train(config: RunConfig) -> dict:
    """Run one whole fine-tuning job and return its results (also in run_dir/results.json).

    Every input is checked before anything is written or tokenized; then the run
    folder's lock is taken (a second writer is refused at once, see lab/lock.py)
    and held until the run is saved or fails.
    """
    config = config.validated()
    started = time.perf_counter()
    package_log = logging.getLogger("agnews_bert")
    level = package_log.level
    if not is_main_process():
        package_log.setLevel(logging.WARNING)  # one process reports the run; the others only warn
    try:
        refuse_finished_run(config)
        check_output_dir(config)
        hardware = detect_hardware()  # the one look at the machine; precision and attention follow from it
        # Every input is checked here (the method's library, the model folder, the tokenizer and that it fits
        # the model, max_length, the data), so a bad input fails before any output.
        if config.method == "lora":
            require_peft()
        check_model_source(config.model)
        tokenizer = load_tokenizer(config.model, config.trust_remote_code)
        check_tokenizer_fits_model(tokenizer, config.model, config.trust_remote_code)
        check_max_length(tokenizer, config.max_length, config.model)
        splits = load_agnews(config)
        run_dir = run_dir_for(config)
        if is_main_process():
            acquire_run_lock(run_dir)
        try:
            return _train_holding_the_lock(config, splits, tokenizer, hardware, run_dir, started)
        finally:
            if is_main_process():
                release_run_lock(run_dir)
    finally:
        package_log.setLevel(level)


def _train_holding_the_lock(config, splits, tokenizer, hardware, run_dir, started) -> dict:
    log.info(f"Data: {', '.join(f'{name} {len(rows):,} rows' for name, rows in splits.items())}")
    tokenized = tokenize_dataset(splits, tokenizer, config.max_length)
    precision = choose_precision(config.precision, hardware)
    attention = choose_attention(config.attention, hardware, config.precision)
    log.info(f"Hardware: {describe_choice(hardware, precision, attention)}")
    if is_main_process():
        prepare_run_dir(config)
    log.info(f"Run folder: {run_dir}")
    try:
        trainer, train_output, checkpoint, config = fit(config, tokenizer, tokenized, run_dir, hardware)
    except AgNewsError:  # a model that cannot load, say: the run that overwrite=True replaces comes back
        if is_main_process():
            restore_replaced_run(run_dir)
        raise
    report = evaluate_on_test(trainer, tokenized["test"], texts=splits["test"]["text"])
    results = collect_results(trainer, config, splits, report, train_output, run_dir, started, checkpoint, hardware)
    if trainer.is_world_process_zero():
        results = save_run(trainer, run_dir, config, results)
        if (results.get("early_stopping") or {}).get("stopped"):
            log.info(f"Early stopping: {results['early_stopping']['reason']}")
        for warning in results.get("warnings", []):
            log.warning(f"Warning: {warning}")
        log.info(summary_line(results))
    return results


def fit(config: RunConfig, tokenizer, tokenized, run_dir, hardware: Hardware):
    """Build and train a model; on a CUDA out-of-memory error, rebuild with a smaller batch and go on.

    A nan or inf loss in bf16/fp16 (NonFiniteGuard) is retried the same way, in fp32
    from the last finite checkpoint. Returns (trainer, train_output, resumed_from, config):
    resumed_from is the checkpoint folder or None, config the one that trained (after a
    retry: its smaller batch or fp32, and run_name fixed to run_dir's name, so
    config.json names its own folder).
    """
    fallback = None
    while True:
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()  # each run reports its own peak
        transformers.set_seed(config.seed)
        trainer = build_trainer(config, load_model(config, hardware), tokenizer, tokenized, run_dir,
                                hardware=hardware)
        guard = guard_of(trainer)
        guard.announce, guard.fallback = False, fallback  # fp32_fallback says what happens next
        try:
            train_output, checkpoint = train_resumably(trainer, config, run_dir)
        except Exception as error:
            if not is_out_of_memory(error):
                raise
            train_output = None
        if train_output is not None and guard.problem is None:
            if fallback is not None:
                fallback["resumed_from"] = checkpoint.name if checkpoint else None
            return trainer, train_output, checkpoint, config
        # Outside the except block, so the traceback no longer holds the model's memory.
        del trainer
        release_gpu_memory()
        if train_output is not None:
            config, fallback = fp32_fallback(config, guard.problem, run_dir)
            continue
        config = replace(smaller_batch(config), resume=True, run_name=Path(run_dir).name)
        log.info(f"Out of GPU memory: retrying with {setting('batch_size', config.batch_size)} and "
                 f"{setting('gradient_accumulation_steps', config.gradient_accumulation_steps)} "
                 f"(effective batch {config.batch_size * config.gradient_accumulation_steps})")


def collect_results(trainer, config: RunConfig, splits, test_report: dict, train_output, run_dir,
                    started: float | None = None, resumed_from: Path | None = None,
                    hardware: Hardware | None = None) -> dict:
    """Everything results.json holds, from the pieces of a finished training run.

    "validation" is the Trainer's record of the kept epoch (`best_validation`). `hardware`
    is the machine the run was decided for (looked at again if not given); precision and
    attention are read from the trainer and the model, so what is recorded is what ran.
    """
    validation = best_validation(trainer)
    arguments = trainer.args
    hardware = hardware or detect_hardware()
    clock = callback_of(trainer, TrainingClock)  # a resumed run's seconds before the resume
    before, runtime = (clock.previous_seconds if clock else 0.0), train_output.metrics["train_runtime"]
    peak_gpu_bytes = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
    # Times in seconds; train_seconds sums every part of a resumed run (see TrainingClock).
    timing = {"train_seconds": round(before + runtime, 2), "seconds_before_resume": round(before, 2),
              "resumed_part_seconds": round(runtime, 2),
              "train_samples_per_second": train_output.metrics.get("train_samples_per_second"),
              "total_seconds": round(time.perf_counter() - started, 2) if started else None,
              "peak_gpu_memory_gb": round(peak_gpu_bytes / 2**30, 2) if peak_gpu_bytes is not None else None}
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
        "hardware": {"device": hardware.device, "name": hardware.name, "capability": hardware.capability,
                     "precision": precision_of(arguments),
                     "attention": getattr(trainer.model.config, "_attn_implementation", None)},
        "batch": {"per_device": arguments.per_device_train_batch_size, "devices": arguments.world_size,
                  "gradient_accumulation_steps": arguments.gradient_accumulation_steps},
        "log_history": log_history,
        "resumed_from": Path(resumed_from).name if resumed_from else None,
        "precision_fallback": getattr(guard_of(trainer), "fallback", None),  # nan_guard.fp32_fallback
        "early_stopping": early_stopping_record(trainer, config.epochs),
        "warnings": learning_warnings(log_history, validation.get("macro_f1")),
    }


def best_validation(trainer) -> dict:
    """The kept epoch's validation scores as the Trainer logged them, without the "eval_" prefix, and its epoch.

    The kept epoch's row in log_history is the first whose macro-F1 is the best_metric: the Trainer
    takes a new best only when strictly higher. A finished run loaded again (lab/checkpoints.py)
    brings back only its history: its best is the highest score.
    Example: {"eval_loss": 0.31, "eval_macro_f1": 0.91, "epoch": 2.0, ...} -> {"loss": 0.31, "macro_f1": 0.91,
    "epoch": 2.0, ...}; {} when no epoch was scored
    """
    rows = [row for row in trainer.state.log_history if "eval_macro_f1" in row]
    best = trainer.state.best_metric
    if best is None:
        best = max((row["eval_macro_f1"] for row in rows), default=None)
    row = next((row for row in rows if row["eval_macro_f1"] == best), {})
    return {key.removeprefix("eval_"): value for key, value in row.items() if key.startswith("eval_") or key == "epoch"}


def early_stopping_record(trainer, epochs_planned: float) -> dict | None:
    """What early stopping did, read from the Trainer's own state; None when it was off.

    The callback's counter holds the epochs since the best validation macro-F1; a run
    stopped when that count reached the patience before the planned epochs ran out.
    Example: patience 2, scores 0.25, 0.25, 0.25 of 6 epochs
        -> {"patience": 2, "stopped": True, "stopped_at_epoch": 3.0, "best_epoch": 1.0, "epochs_planned": 6, ...}
    """
    stopper = callback_of(trainer, transformers.EarlyStoppingCallback)
    if stopper is None:
        return None
    patience, without_better = stopper.early_stopping_patience, stopper.early_stopping_patience_counter
    best = best_validation(trainer)
    best_epoch, best_score = best.get("epoch"), best.get("macro_f1")
    last_epoch = next((row["epoch"] for row in reversed(trainer.state.log_history) if "eval_macro_f1" in row), None)
    stopped = without_better >= patience and last_epoch is not None and last_epoch < epochs_planned
    if best_epoch is None:
        reason = "no validation score was recorded, so early stopping had nothing to go by"
    elif stopped:
        reason = (f"validation macro-F1 did not improve for {_epochs(without_better)} after its best, "
                  f"{best_score:.3f} at epoch {best_epoch:g} (patience {patience}), so training stopped at "
                  f"epoch {last_epoch:g} of {epochs_planned:g}; the model kept is epoch {best_epoch:g}'s")
    else:
        reason = (f"all {epochs_planned:g} planned epochs trained: the validation macro-F1 never went "
                  f"{_epochs(patience)} without improving before the end; the best, {best_score:.3f}, was at "
                  f"epoch {best_epoch:g}")
    return {"patience": patience, "stopped": stopped, "stopped_at_epoch": last_epoch if stopped else None,
            "best_epoch": best_epoch, "epochs_planned": epochs_planned, "reason": reason}


def _epochs(count: int) -> str:
    """Example: 1 -> "1 epoch", 2 -> "2 epochs" """
    return f"{count} epoch" if count == 1 else f"{count} epochs"


def learning_warnings(log_history: list, validation_macro_f1: float | None) -> list:
    """Warnings for a run that learned nothing: a loss stuck near ln(classes), or validation at chance.

    Such a run is saved like any other (its numbers are real), but says so, with the two likely causes.
    Example: losses [1.39, 1.38, 1.39] -> ["the training loss never fell below 1.32 ..."]
    """
    causes = (f"Likely causes: the learning rate ({setting('lr')}; try 5e-5 for ModernBERT, 2e-5 for BERT) or the data "
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
    weighted, steps = 0.0, 0  # steps: the step of the last logged loss
    for row in log_history:
        if "loss" in row:
            weighted, steps = weighted + row["loss"] * (row["step"] - steps), row["step"]
    mean_loss = {"train_loss": weighted / steps} if steps else {}
    return [dict(row, train_runtime=train_seconds, **mean_loss) if "train_runtime" in row else dict(row)
            for row in log_history]


def summary_line(results: dict) -> str:
    """Example: "Test accuracy 0.947, macro-F1 0.947 on 7,600 rows; trained in 612.3 s" """
    test = results["test"]
    stopping = results.get("early_stopping") or {}
    stopped = (f" (stopped early at epoch {stopping['stopped_at_epoch']:g} of {stopping['epochs_planned']:g})"
               if stopping.get("stopped") else "")
    return (f"Test accuracy {test['accuracy']:.3f}, macro-F1 {test['macro_f1']:.3f} on {test['rows']:,} rows; "
            f"trained in {results['timing']['train_seconds']:.1f} s{stopped}. "
            f"Run folder: {results.get('run_dir', '')}")


