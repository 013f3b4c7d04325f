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
import time
from pathlib import Path

import numpy as np
import transformers

from . import _compat
from .collate import make_collator
from .config import RunConfig
from .data import describe_splits, load_agnews
from .hardware import Hardware, choose_attention, choose_precision, describe_choice, detect_hardware
from .metrics import classification_report, compute_metrics
from .modeling import count_parameters, load_model
from .runs import CHECKPOINTS_DIR, prepare_run_dir, refuse_finished_run
from .saving import latest_checkpoint, save_run
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
        output_dir=str(Path(run_dir) / CHECKPOINTS_DIR),
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
        seed=config.seed,
        report_to="none",
        save_only_model=False,
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
        eval_dataset=tokenized["validation"],
        data_collator=collator,
        compute_metrics=compute_metrics,
        **_compat.trainer_tokenizer_kwargs(tokenizer),
    )


def evaluate_on_test(trainer, test_split) -> dict:
    """Score the test split once: the full classification report, plus rows and seconds."""
    started = time.perf_counter()
    output = trainer.predict(test_split, metric_key_prefix="test")
    logits = output.predictions[0] if isinstance(output.predictions, tuple) else output.predictions
    report = classification_report(output.label_ids, np.asarray(logits).argmax(axis=-1))
    report.update(rows=len(test_split), seconds=round(time.perf_counter() - started, 2))
    return report


def train(config: RunConfig, say=print) -> dict:
    """Run one whole fine-tuning job and return its results (also in run_dir/results.json)."""
    config = config.validated()
    started = time.perf_counter()
    refuse_finished_run(config)
    hardware = detect_hardware()
    precision = choose_precision(config.precision, hardware)
    attention = choose_attention(config.attention, hardware)
    transformers.set_seed(config.seed)
    splits, tokenizer, tokenized = prepare_data(config, say)
    model = load_model(config.model, _attention_argument(config, attention), config.trust_remote_code)

    run_dir = prepare_run_dir(config)
    say(f"Run folder: {run_dir}\nHardware: {describe_choice(hardware, precision, attention)}")
    trainer = build_trainer(config, model, tokenizer, tokenized, run_dir, hardware=hardware)
    checkpoint = latest_checkpoint(run_dir / CHECKPOINTS_DIR) if config.resume else None
    if checkpoint:
        say(f"Resuming from {checkpoint.name} (pass --no-resume to start over)")
    train_output = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    validation = trainer.evaluate(tokenized["validation"], metric_key_prefix="validation")
    results = {
        "run_name": run_dir.name,
        "model": config.model,
        "preset": config.preset,
        "parameters": count_parameters(model),
        "data": describe_splits(splits),
        "validation": {key.removeprefix("validation_"): value for key, value in validation.items()},
        "test": evaluate_on_test(trainer, tokenized["test"]),
        "timing": _timing(train_output, started),
        "hardware": {"device": hardware.device, "name": hardware.name, "capability": hardware.capability,
                     "precision": precision, "attention": attention},
        "log_history": trainer.state.log_history,
        "resumed_from": checkpoint.name if checkpoint else None,
    }
    if trainer.is_world_process_zero():
        save_run(trainer, run_dir, config, results)
        say(summary_line(results))
    return results


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


def _timing(train_output, started: float) -> dict:
    import torch

    peak_gpu_bytes = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
    return {
        "train_seconds": round(train_output.metrics["train_runtime"], 2),
        "train_samples_per_second": train_output.metrics.get("train_samples_per_second"),
        "total_seconds": round(time.perf_counter() - started, 2),
        "peak_gpu_memory_gb": round(peak_gpu_bytes / 2**30, 2) if peak_gpu_bytes is not None else None,
    }


def _attention_argument(config: RunConfig, attention: str) -> str | None:
    """Leave 'auto' SDPA to the library, which falls back by itself for models without it."""
    return None if config.attention == "auto" and attention == "sdpa" else attention
