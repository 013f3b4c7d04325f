"""Scoring: `score`, the one way this package runs a model over rows, and a saved run loaded once.

Every score the package reports comes from `score`: the test pass at the end of
training (`evaluate_on_test`), `predict`, the prediction box, and `agnews-bert
evaluate` (`evaluate_run`). It is one `Trainer.predict` over rows tokenized by
`tokenize_dataset`, taken shortest first (so each batch pads to similar
lengths) and put back in the rows' order afterwards. It builds its own
prediction-only Trainer, because a training Trainer with length-grouped batches
(transformers 5.x) groups and shuffles evaluation batches too. The same rows,
batch size and precision give the same numbers, so re-scoring a saved model
gives exactly the test metrics in results.json. The validation scores of the
best epoch are not computed here: the Trainer recorded them (training.py).

A finished run is loaded once by `load_run`, into a `SavedRun` holding its
config, model and tokenizer; `predict`, `evaluate_run`, `explain`, the
prediction box and the embedding map all take one (or a run folder).
This module sits below training: it never imports `training`.

Example:
    >>> check_batch_size(0)
    Traceback (most recent call last):
    ...
    agnews_bert.errors.AgNewsError: batch_size=0 must be a whole number of at least 1
"""

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import transformers

from . import _compat
from .analysis import error_analysis
from .calibration import calibration_report, scaled_probabilities
from .collate import make_collator
from .config import RunConfig
from .data import load_agnews, read_test_rows
from .errors import AgNewsError, setting
from .hardware import Hardware, choose_precision, detect_hardware
from .lab.folders import CONFIG_FILE, MODEL_DIR, load_run_config
from .methods import is_adapter_folder, load_adapter_model, require_peft
from .metrics import classification_report, compute_metrics, logits_and_labels
from .tokenization import tokenize_dataset

DEFAULT_MAX_LENGTH = 128  # tokens, for a bare model folder that records none
DEFAULT_BATCH_SIZE = 64  # rows


def score(model, tokenizer, rows, *, batch_size: int = DEFAULT_BATCH_SIZE, precision: str = "fp32",
          device: str | None = None, metric_key_prefix: str = "test"):
    """`Trainer.predict` over tokenized rows: a PredictionOutput whose logits follow the rows' order.

    rows: a split from `tokenize_dataset` (or `tokenize_texts`); with a `label`
    column the metrics hold loss, accuracy and macro-F1 under `metric_key_prefix`.
    precision: "bf16", "fp16" or "fp32", as the run trained.
    Example: score(model, tokenizer, tokenized["test"]).predictions.shape -> (7600, 4)
    """
    check_batch_size(batch_size)
    device = device or detect_hardware().device
    lengths = rows["length"] if "length" in rows.column_names else [len(ids) for ids in rows["input_ids"]]
    order = np.argsort(lengths, kind="stable")  # shortest first: batches pad little
    trainer = transformers.Trainer(
        model=model,
        args=prediction_arguments(batch_size, precision, device),
        data_collator=make_collator(tokenizer, pad_to_multiple_of=8 if device == "cuda" else None),
        compute_metrics=compute_metrics if "label" in rows.column_names else None,
    )
    was_training = model.training
    output = trainer.predict(rows.select(order), metric_key_prefix=metric_key_prefix)
    model.train(was_training)
    logits, labels = logits_and_labels(output)
    in_order = np.empty_like(logits)
    in_order[order] = logits
    labels = None if labels is None else np.asarray(rows["label"])
    return transformers.trainer_utils.PredictionOutput(predictions=in_order, label_ids=labels, metrics=output.metrics)


def prediction_arguments(batch_size: int, precision: str = "fp32", device: str = "cpu"):
    """TrainingArguments for scoring only: batches in the order given, the run's precision, no logging."""
    return transformers.TrainingArguments(
        output_dir=tempfile.gettempdir(),  # nothing is saved; the Trainer only wants a folder name
        per_device_eval_batch_size=batch_size,
        disable_tqdm=True,
        **device_arguments(precision, device),  # and batches in the order given: no length grouping by default
    )


def device_arguments(precision: str, device: str) -> dict:
    """The TrainingArguments a precision and a device decide, alike for training and for scoring.

    Example:
        >>> device_arguments("fp16", "cuda")
        {'bf16': False, 'fp16': True, 'use_cpu': False, 'dataloader_pin_memory': True, 'report_to': 'none'}
    """
    # Pinned memory only speeds up copies to a GPU.
    return dict(bf16=precision == "bf16", fp16=precision == "fp16", use_cpu=device == "cpu",
                dataloader_pin_memory=device == "cuda", report_to="none")


def precision_of(arguments) -> str:
    """The precision TrainingArguments train in.

    Example:
        >>> precision_of(prediction_arguments(8, "fp32"))
        'fp32'
    """
    return "bf16" if arguments.bf16 else "fp16" if arguments.fp16 else "fp32"


def check_batch_size(batch_size) -> None:
    """Raise AgNewsError unless batch_size is a whole number of at least 1 (rows per batch)."""
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise AgNewsError(f"{setting('batch_size', batch_size)} must be a whole number of at least 1",
                          field="batch_size")


@dataclass
class SavedRun:
    """A finished run, loaded once: its folder, RunConfig (None for a bare model folder), model and tokenizer.

    The model sits on `hardware`'s device, which was looked at once, when the run was loaded. A model
    and tokenizer in memory make one too (`load_run(model=..., tokenizer=...)`), with no folder or config.
    """

    folder: Path | None
    config: RunConfig | None
    model: object
    tokenizer: object
    hardware: Hardware | None = None

    @property
    def max_length(self) -> int:
        """The max_length (tokens) the run trained with; 128 for a bare model folder."""
        return self.config.max_length if self.config else DEFAULT_MAX_LENGTH

    @property
    def precision(self) -> str:
        """The precision the model is scored in here: the run's choice on a GPU, fp32 on a CPU."""
        return choose_precision(self.config.precision, self.hardware) if self.config else "fp32"

    def score(self, rows, batch_size: int = DEFAULT_BATCH_SIZE):
        """`score` of the run's model on tokenized rows, in the run's precision on this machine."""
        return score(self.model, self.tokenizer, rows, batch_size=batch_size, precision=self.precision,
                     device=next(self.model.parameters()).device.type)


def load_run(run=None, *, model=None, tokenizer=None) -> SavedRun:
    """A run folder (or its model/ folder) loaded: config.json read once, the model on the GPU if there is one.

    A LoRA run's folder holds an adapter (methods.py), rebuilt on its base model; any other holds a whole model.
    A SavedRun passed in comes back as it is; without a run, `model` and `tokenizer` (in memory) make one.
    """
    if isinstance(run, SavedRun):
        return run
    if run is None:
        if model is None or tokenizer is None:
            raise AgNewsError("pass a run folder, or both model= and tokenizer=", field="run")
        return SavedRun(None, None, model, tokenizer)
    folder = Path(run).expanduser()
    model_dir = folder / MODEL_DIR if (folder / MODEL_DIR).is_dir() else folder
    adapter = is_adapter_folder(model_dir)
    if not adapter and not (model_dir / "config.json").exists():
        raise AgNewsError(f"{folder} holds no saved model (no {MODEL_DIR}/config.json); pass the folder of a "
                          "finished run", field="run")
    if adapter:
        require_peft()  # its own message, before the one for a model that cannot load
    # A bare model folder's config.json is the model's, not a RunConfig.
    config = load_run_config(folder) if model_dir != folder and (folder / CONFIG_FILE).exists() else None
    trust_remote_code = config.trust_remote_code if config else False
    try:
        model = load_adapter_model(model_dir, trust_remote_code) if adapter else \
            transformers.AutoModelForSequenceClassification.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
        tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as error:
        raise AgNewsError(f"the model in {model_dir} cannot be loaded ({error}); train the run again",
                          field="run") from error
    hardware = detect_hardware()
    return SavedRun(folder, config, model.to(hardware.device).eval(), tokenizer, hardware)


def evaluate_on_test(trainer, test_split, texts=None) -> dict:
    """Score the test split once: the full classification report, plus rows and seconds.

    The trainer's model is scored with `score`, in the trainer's precision and
    evaluation batch size, as `evaluate_run` scores it again later. With the test
    `texts` (in the order of `test_split`), the report also holds the most
    confidently wrong examples and the most confused class pairs (analysis.py).
    "calibration" holds ECE and Brier score before and after temperature scaling, the
    temperature fitted on the trainer's validation split (calibration.py).
    """
    if texts is not None and len(texts) != len(test_split):
        raise AgNewsError(f"{len(texts)} texts for {len(test_split)} test rows; pass texts=splits['test']['text']",
                          field="texts")
    started = time.perf_counter()
    output = score_with(trainer, test_split, "test")
    report = classification_report(output.label_ids, output.predictions.argmax(axis=-1))
    report.update(rows=len(test_split), seconds=round(time.perf_counter() - started, 2))
    if texts is not None:
        report.update(error_analysis(list(texts), output.label_ids, scaled_probabilities(output.predictions),
                                     report["confusion_matrix"]))
    if trainer.eval_dataset is not None:
        validation = score_with(trainer, trainer.eval_dataset, "validation")
        report["calibration"] = calibration_report(validation.predictions, validation.label_ids,
                                                   output.predictions, output.label_ids)
    return report


def score_with(trainer, rows, metric_key_prefix: str):
    """`score` the trainer's model on tokenized rows, in the trainer's precision, device and evaluation batch."""
    arguments = trainer.args
    return score(trainer.model, _compat.trainer_tokenizer(trainer), rows,
                 batch_size=arguments.per_device_eval_batch_size, precision=precision_of(arguments),
                 device=arguments.device.type, metric_key_prefix=metric_key_prefix)


def evaluate_run(run, data: str | None = None, batch_size: int | None = None) -> dict:
    """The classification report of a saved run (folder or SavedRun) on `data` (default: its own test split).

    It goes the way the test pass at the end of training went: the same test rows,
    `tokenize_dataset` at the run's max_length, `score` at the run's evaluation batch
    size and precision; on the machine that trained the run, accuracy and macro-F1
    equal those in its results.json exactly. What `agnews-bert evaluate` prints.
    batch_size: rows per scoring batch (default: the run's evaluation batch, as its test pass used).
    """
    if batch_size is not None:  # what the user gave is checked before the model loads
        check_batch_size(batch_size)
    # `agnews-bert evaluate --data`: another source's test rows
    test = None if data is None else read_test_rows(data, field="data")
    run = load_run(run)
    if run.config is None:
        raise AgNewsError(f"{run.folder} is a bare model folder, with no run config.json to find its test split; "
                          "pass the folder of a finished run")
    batch_size = run.config.per_device_eval_batch_size if batch_size is None else batch_size
    test = load_agnews(run.config)["test"] if test is None else test
    tokenized = tokenize_dataset(datasets.DatasetDict(test=test), run.tokenizer, run.max_length)["test"]
    output = run.score(tokenized, batch_size)
    report = classification_report(output.label_ids, output.predictions.argmax(axis=-1))
    report.update(rows=len(test), data=data or run.config.data)
    return report
