"""Scoring a saved run on a test set again: what `agnews-bert evaluate` prints.

It goes the way the test pass at the end of training went: the same test rows,
`tokenize_dataset` at the run's max_length, and `score` at the run's evaluation
batch size and precision. On the machine that trained the run, the accuracy and
macro-F1 therefore equal those in its results.json exactly.

Example:
    >>> evaluate_run("runs/smoke_nall_lr3e-03_ep6_seed42")["accuracy"]  # doctest: +SKIP
    0.96
"""

import datasets

from .config import RunConfig
from .data import load_agnews, read_test_rows
from .prediction import check_batch_size, load_saved_model, run_precision, score
from .lab.folders import load_run_config
from .tokenization import tokenize_dataset
from .training import report_from_logits


def evaluate_run(run_dir, data: str | None = None, batch_size: int | None = None) -> dict:
    """The classification report of a run's model on `data` (default: the run's own test split).

    batch_size: rows per scoring batch (default: the run's evaluation batch, as its test pass used).
    """
    config = load_run_config(run_dir)
    batch_size = config.per_device_eval_batch_size if batch_size is None else batch_size
    check_batch_size(batch_size)
    test = _test_rows(config, data)
    model, tokenizer = load_saved_model(run_dir)
    tokenized = tokenize_dataset(datasets.DatasetDict(test=test), tokenizer, config.max_length)["test"]
    output = score(model, tokenizer, tokenized, batch_size=batch_size, precision=run_precision(run_dir),
                   device=model.device.type)
    report = report_from_logits(output.label_ids, output.predictions)
    report.update(rows=len(test), data=data or config.data)
    return report


def _test_rows(config: RunConfig, data: str | None):
    if data is None:
        return load_agnews(config)["test"]
    return read_test_rows(data, field="data")  # `agnews-bert evaluate --data`
