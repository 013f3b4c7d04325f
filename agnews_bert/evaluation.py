"""Scoring a saved run on a test set again, without the Trainer.

Example:
    >>> evaluate_run("runs/smoke_nall_lr3e-03_ep6_seed42")["accuracy"]  # doctest: +SKIP
    0.96
"""

from .config import RunConfig
from .data import load_agnews, read_test_rows
from .metrics import classification_report
from .predict import class_probabilities, load_saved_model
from .runs import load_run_config


def evaluate_run(run_dir, data: str | None = None, batch_size: int = 64) -> dict:
    """The classification report of a run's model on `data` (default: the run's own test split)."""
    config = load_run_config(run_dir)
    test = _test_rows(config, data)
    model, tokenizer = load_saved_model(run_dir)
    probabilities = class_probabilities(test["text"], model, tokenizer, batch_size, config.max_length)
    report = classification_report(test["label"], probabilities.argmax(dim=-1).numpy())
    report.update(rows=len(test), data=data or config.data)
    return report


def _test_rows(config: RunConfig, data: str | None):
    if data is None:
        return load_agnews(config)["test"]
    return read_test_rows(data)
