"""Building the Hugging Face Trainer, and `train`: one whole run, config to results.

The Trainer evaluates on the validation split after every epoch, keeps the
epoch with the best validation macro-F1 (never the test set: picking on test
would make the test score optimistic), and keeps at most two checkpoints.
Only after training is the test split scored, once.

The notebook calls the steps one by one; the CLI calls `train(config)`, which
runs the same steps in order:

    config -> load_agnews -> load_tokenizer -> tokenize_dataset -> make_collator
           -> load_model -> build_trainer -> trainer.train -> evaluate_on_test -> save_run

Example:
    >>> results = train(RunConfig.preset("smoke", output_dir="/tmp/runs"))
    >>> results["test"]["accuracy"] > 0.9
    True
"""

import math
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import transformers
from scipy.special import softmax

from . import _compat
from .analysis import error_analysis
from .checkpoints import CheckpointMirror, checkpoints_dir_for, latest_checkpoint, mirror_dir_for, restore_from_mirror
from .collate import make_collator, sorted_by_length
from .config import RunConfig
from .data import describe_splits, load_agnews
from .errors import TrainingInterrupted
from .errors import AgNewsError
from .hardware import Hardware, choose_attention, choose_precision, describe_choice, detect_hardware
from .metrics import classification_report, compute_metrics, logits_and_labels
from .modeling import count_parameters, load_model_for
from .resilience import StopAndSave, first_interrupt_saves, is_out_of_memory, release_gpu_memory, smaller_batch
from .runs import prepare_run_dir, refuse_finished_run, run_dir_for
from .saving import save_run
from .tokenization import check_max_length, load_tokenizer, tokenize_dataset

LOG_POINTS_PER_RUN = 20


def build_training_args(config: RunConfig, run_dir, train_rows: int, hardware: Hardware | None = None):
    """TrainingArguments for a config: per-epoch evaluation, best epoch by validation macro-F1."""
    hardware = hardware or detect_hardware()
    precision = choose_precision(config.precision, hardware)
    if precision == "bf16":
        _compat.enable_tf32_matmuls()
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
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=hardware.device == "cpu",
        dataloader_pin_memory=hardware.device == "cuda",  # pinned memory only speeds up copies to a GPU
        seed=config.seed,
        report_to="none",
        ddp_find_unused_parameters=False,  # every parameter gets a gradient; skip the extra graph walk
        save_only_model=False,
        **_compat.length_grouping_kwargs(group_by_length),
        **_compat.warmup_kwargs(config.warmup_ratio),
    )


def build_trainer(config: RunConfig, model, tokenizer, tokenized, run_dir, collator=None, hardware=None):
    """A Trainer for the tokenized splits, scoring on validation after each epoch."""
    hardware = hardware or detect_hardware()
    collator = collator or make_collator(tokenizer, pad_to_multiple_of=8 if hardware.device == "cuda" else None)
    arguments = build_training_args(config, run_dir, len(tokenized["train"]), hardware)
    return _compat.RowOrderTrainer(
        model=model,
        args=arguments,
        train_dataset=tokenized["train"],
        eval_dataset=sorted_by_length(tokenized["validation"]),  # metrics ignore order; sorted batches pad little
        data_collator=collator,
        compute_metrics=compute_metrics,
        **_compat.trainer_tokenizer_kwargs(tokenizer),
    )


def evaluate_on_test(trainer, test_split, texts=None) -> dict:
    """Score the test split once: the full classification report, plus rows and seconds.

    With the test `texts` (in the order of `test_split`), the report also holds the
    most confidently wrong examples and the most confused class pairs (see analysis.py).
    """
    started = time.perf_counter()
    output = trainer.predict(test_split, metric_key_prefix="test")
    logits, _ = logits_and_labels(output)
    report = classification_report(output.label_ids, np.asarray(logits).argmax(axis=-1))
    report.update(rows=len(test_split), seconds=round(time.perf_counter() - started, 2))
    if texts is not None:
        if len(texts) != len(output.label_ids):
            raise AgNewsError(
                f"{len(texts)} texts for {len(output.label_ids)} test rows; pass texts=splits['test']['text']"
            )
        probabilities = softmax(np.asarray(logits, dtype=np.float64), axis=-1)
        report.update(error_analysis(list(texts), output.label_ids, probabilities, report["confusion_matrix"]))
    return report


def train(config: RunConfig, say=print) -> dict:
    """Run one whole fine-tuning job and return its results (also in run_dir/results.json)."""
    config = config.validated()
    started = time.perf_counter()
    say = say if is_main_process() else _quiet
    refuse_finished_run(config)
    hardware = detect_hardware()
    precision = choose_precision(config.precision, hardware)
    attention = choose_attention(config.attention, hardware, config.precision)
    say(f"Hardware: {describe_choice(hardware, precision, attention)}")
    splits, tokenizer, tokenized = prepare_data(config, say)
    run_dir = prepare_run_dir(config) if is_main_process() else run_dir_for(config)
    say(f"Run folder: {run_dir}")
    trainer, train_output, checkpoint = fit(config, tokenizer, tokenized, run_dir, hardware, say)
    test_report = evaluate_on_test(trainer, tokenized["test"], texts=splits["test"]["text"])
    results = collect_results(trainer, config, splits, test_report, train_output, run_dir, started, checkpoint)
    if trainer.is_world_process_zero():
        save_run(trainer, run_dir, config, results)
        say(summary_line(results))
    return results


def fit(config: RunConfig, tokenizer, tokenized, run_dir, hardware: Hardware, say=print):
    """Build and train a model; on a CUDA out-of-memory error, rebuild with a smaller batch and go on.

    Returns (trainer, train_output, resumed_from) where resumed_from is the checkpoint folder or None.
    """
    while True:
        reset_gpu_memory_peak()
        transformers.set_seed(config.seed)
        trainer = build_trainer(config, load_model_for(config, hardware), tokenizer, tokenized, run_dir,
                                hardware=hardware)
        try:
            train_output, checkpoint = train_resumably(trainer, config, run_dir, say)
            return trainer, train_output, checkpoint
        except Exception as error:
            if not is_out_of_memory(error):
                raise
        # Outside the except block, so the traceback no longer holds the model's memory.
        del trainer
        release_gpu_memory()
        config = replace(smaller_batch(config), resume=True)
        say(f"Out of GPU memory: retrying with batch_size={config.batch_size} and gradient_accumulation_steps="
            f"{config.gradient_accumulation_steps} (effective batch {config.batch_size * config.gradient_accumulation_steps})")


def train_resumably(trainer, config: RunConfig, run_dir, say=print):
    """`trainer.train()` that resumes, saves on interrupt, and mirrors checkpoints to the run folder.

    Rerunning it (the same notebook cell, or the same command) continues from the
    last complete checkpoint. Returns (train_output, resumed_from).
    """
    checkpoint = resume_checkpoint(config, run_dir, say)
    for stale in (StopAndSave, CheckpointMirror):  # left by an earlier run of the same notebook cell
        while trainer.pop_callback(stale):
            pass
    stopper = StopAndSave()
    trainer.add_callback(stopper)
    mirror = mirror_dir_for(config, run_dir)
    if mirror is not None:
        trainer.add_callback(CheckpointMirror(mirror))
    with first_interrupt_saves(stopper, say):
        train_output = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    if stopper.requested:
        raise TrainingInterrupted(
            f"training stopped at step {trainer.state.global_step} after saving a checkpoint in "
            f"{checkpoints_dir_for(config, run_dir)}; run the same command or cell again to resume"
        )
    return train_output, checkpoint


def resume_checkpoint(config: RunConfig, run_dir, say=print) -> Path | None:
    """The checkpoint to continue from: the newest complete one, locally or in the Drive mirror."""
    local = checkpoints_dir_for(config, run_dir)
    if not config.resume:
        shutil.rmtree(local, ignore_errors=True)
        return None
    checkpoint = latest_checkpoint(local, remove_broken=is_main_process())
    mirror = mirror_dir_for(config, run_dir)
    if checkpoint is None and mirror is not None and is_main_process():
        checkpoint = restore_from_mirror(mirror, local)
    if checkpoint is not None:
        say(f"Resuming from {checkpoint.name} in {checkpoint.parent} (pass --no-resume to start over)")
    return checkpoint


def collect_results(trainer, config: RunConfig, splits, test_report: dict, train_output, run_dir,
                    started: float | None = None, resumed_from: Path | None = None) -> dict:
    """Everything results.json holds, from the pieces of a finished training run."""
    validation = trainer.evaluate(metric_key_prefix="validation")
    arguments = trainer.args
    model_config = trainer.model.config
    return {
        "run_name": Path(run_dir).name,
        "model": config.model,
        "preset": config.preset,
        "parameters": count_parameters(trainer.model),
        "data": describe_splits(splits),
        "validation": {key.removeprefix("validation_"): value for key, value in validation.items()},
        "test": test_report,
        "timing": _timing(train_output, started),
        "hardware": _hardware_used(arguments, model_config),
        "batch": {"per_device": arguments.per_device_train_batch_size, "devices": arguments.world_size,
                  "gradient_accumulation_steps": arguments.gradient_accumulation_steps},
        "log_history": trainer.state.log_history,
        "resumed_from": resumed_from.name if resumed_from else None,
    }


def is_main_process() -> bool:
    """True unless this is a worker of a distributed run (torchrun/accelerate set RANK)."""
    return int(os.environ.get("RANK", "0")) == 0


def prepare_data(config: RunConfig, say=print):
    """Load, split and tokenize the data for a config: (splits, tokenizer, tokenized)."""
    tokenizer = load_tokenizer(config.model, config.trust_remote_code)
    check_max_length(tokenizer, config.max_length, config.model)
    splits = load_agnews(config)
    say(f"Data: {', '.join(f'{name} {len(rows):,} rows' for name, rows in splits.items())}")
    return splits, tokenizer, tokenize_dataset(splits, tokenizer, config.max_length)


def summary_line(results: dict) -> str:
    """Example: "Test accuracy 0.947, macro-F1 0.947 on 7,600 rows; trained in 612.3 s" """
    test = results["test"]
    return (
        f"Test accuracy {test['accuracy']:.3f}, macro-F1 {test['macro_f1']:.3f} on {test['rows']:,} rows; "
        f"trained in {results['timing']['train_seconds']:.1f} s. Run folder: {results.get('run_dir', '')}"
    )


def _timing(train_output, started: float | None) -> dict:
    import torch

    peak_gpu_bytes = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
    return {
        "train_seconds": round(train_output.metrics["train_runtime"], 2),
        "train_samples_per_second": train_output.metrics.get("train_samples_per_second"),
        "total_seconds": round(time.perf_counter() - started, 2) if started else None,
        "peak_gpu_memory_gb": round(peak_gpu_bytes / 2**30, 2) if peak_gpu_bytes is not None else None,
    }


def _hardware_used(arguments, model_config) -> dict:
    hardware = detect_hardware()
    precision = "bf16" if arguments.bf16 else "fp16" if arguments.fp16 else "fp32"
    return {"device": hardware.device, "name": hardware.name, "capability": hardware.capability,
            "precision": precision, "attention": getattr(model_config, "_attn_implementation", None)}


def reset_gpu_memory_peak() -> None:
    """Start counting peak GPU memory from here, so each run reports its own peak."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def _quiet(*_args, **_kwargs) -> None:
    return None
