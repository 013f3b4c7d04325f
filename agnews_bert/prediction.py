"""Scoring: `score`, the one way this package runs a model over rows, and `predict` for new texts.

Every score the package reports comes from `score`: validation and test at the
end of training, `predict`, the prediction box, and `agnews-bert evaluate`. It
is one `Trainer.predict` over rows tokenized by `tokenize_dataset`, taken
shortest first (so each batch pads to similar lengths) and put back in the
rows' order afterwards. It builds its own prediction-only Trainer, because a
training Trainer with length-grouped batches (transformers 5.x) groups and
shuffles evaluation batches too. The same rows, batch size and precision give
the same numbers, so re-scoring a saved model (`agnews-bert evaluate`) gives
exactly the test metrics in results.json.

Example:
    >>> predict(["Shares of the chip maker rose 4% after earnings"], "runs/my-run")  # doctest: +SKIP
    [{'text': 'Shares of ...', 'label': 'Business', 'label_id': 2,
      'probabilities': {'World': 0.0112, 'Sports': 0.0021, 'Business': 0.9302, 'Sci/Tech': 0.0565}}]
"""

import tempfile
from pathlib import Path

import numpy as np
import transformers

from .collate import make_collator
from .errors import AgNewsError
from .hardware import detect_hardware
from .labels import CLASS_NAMES
from .methods import is_adapter_folder, load_adapter_model, require_peft
from .metrics import compute_metrics, logits_and_labels
from .lab.folders import CONFIG_FILE, MODEL_DIR, load_run_config
from .tokenization import tokenize_texts

DEFAULT_MAX_LENGTH = 128
DEFAULT_BATCH_SIZE = 64


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
    from . import _compat

    return transformers.TrainingArguments(
        output_dir=tempfile.gettempdir(),  # nothing is saved; the Trainer only wants a folder name
        per_device_eval_batch_size=batch_size,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=device == "cpu",
        dataloader_pin_memory=device == "cuda",
        report_to="none",
        disable_tqdm=True,
        **_compat.length_grouping_kwargs(False),
    )


def precision_of(arguments) -> str:
    """The precision TrainingArguments train in. Example: bf16=True -> "bf16" """
    return "bf16" if arguments.bf16 else "fp16" if arguments.fp16 else "fp32"


def softmax(logits) -> np.ndarray:
    """Class probabilities from logits, row by row, in float32 as predict reports them."""
    import torch

    return torch.softmax(torch.as_tensor(np.asarray(logits), dtype=torch.float32), dim=-1).numpy()


def load_saved_model(run_dir):
    """The fine-tuned model (on the GPU if there is one) and tokenizer of a run folder or its model/ folder.

    A LoRA run's folder holds an adapter (methods.py), rebuilt on its base model; any other holds a whole model.
    """
    folder = Path(run_dir).expanduser()
    model_dir = folder / MODEL_DIR if (folder / MODEL_DIR).is_dir() else folder
    adapter = is_adapter_folder(model_dir)
    if not adapter and not (model_dir / "config.json").exists():
        raise AgNewsError(
            f"{folder} holds no saved model (no {MODEL_DIR}/config.json); pass the folder of a finished run"
        )
    if adapter:
        require_peft()  # its own message, before the one for a model that cannot load
    run_config = _run_config(folder)
    trust_remote_code = run_config.trust_remote_code if run_config else False
    try:
        model = load_adapter_model(model_dir, trust_remote_code) if adapter else \
            transformers.AutoModelForSequenceClassification.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
        tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as error:
        raise AgNewsError(f"the model in {model_dir} cannot be loaded ({error}); train the run again") from error
    return model.to(detect_hardware().device).eval(), tokenizer


def run_max_length(run_dir) -> int:
    """The max_length a run was trained with, read from its config.json (128 if unknown)."""
    config = _run_config(Path(run_dir).expanduser())
    return config.max_length if config else DEFAULT_MAX_LENGTH


def run_precision(run_dir) -> str:
    """The precision a run's model is scored in on this machine: the run's choice on a GPU, fp32 on a CPU."""
    from .hardware import choose_precision

    config = _run_config(Path(run_dir).expanduser())
    return choose_precision(config.precision, detect_hardware()) if config else "fp32"


def _run_config(folder: Path):
    """The RunConfig of a run folder; None for a bare model folder (its config.json is the model's)."""
    if not (folder / MODEL_DIR).is_dir() or not (folder / CONFIG_FILE).exists():
        return None
    return load_run_config(folder)


def predict(texts, run=None, *, model=None, tokenizer=None, batch_size: int = DEFAULT_BATCH_SIZE,
            max_length: int | None = None, calibrated: bool = False):
    """Label and class probabilities for each text, in the order given.

    Pass either `run` (a finished run folder) or `model` and `tokenizer`.
    calibrated=True divides the logits by the run's temperature (results.json,
    fitted on validation: calibration.py) before the softmax; the labels stay the same.
    """
    texts = _checked_texts(texts)
    check_batch_size(batch_size)
    precision = "fp32"
    temperature = run_temperature(run) if calibrated else 1.0
    if run is not None:
        model, tokenizer = load_saved_model(run)
        max_length = max_length or run_max_length(run)
        precision = run_precision(run)
    if model is None or tokenizer is None:
        raise AgNewsError("predict needs a run folder, or both model= and tokenizer=")
    probabilities = class_probabilities(texts, model, tokenizer, batch_size, max_length or DEFAULT_MAX_LENGTH,
                                        precision, temperature)
    return [_prediction(text, row) for text, row in zip(texts, probabilities)]


def run_temperature(run) -> float:
    """The temperature temperature scaling fitted for a finished run (its results.json), for calibrated=True."""
    from .calibration import run_calibration

    if run is None:
        raise AgNewsError("calibrated=True needs the run folder whose temperature to use: predict(texts, run_dir, "
                          "calibrated=True)")
    return run_calibration(run)["temperature"]


def class_probabilities(texts: list, model, tokenizer, batch_size: int, max_length: int,
                        precision: str = "fp32", temperature: float = 1.0) -> np.ndarray:
    """A (texts x 4) array of softmax probabilities of logits / temperature, rows in the order of `texts`."""
    rows = tokenize_texts(texts, tokenizer, max_length)
    device = next(model.parameters()).device.type
    output = score(model, tokenizer, rows, batch_size=batch_size, precision=precision, device=device)
    return softmax(np.asarray(output.predictions) / temperature)


def check_batch_size(batch_size) -> None:
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise AgNewsError(f"batch_size={batch_size!r} must be a whole number of at least 1")


def _checked_texts(texts) -> list:
    if isinstance(texts, str):
        texts = [texts]
    try:
        texts = list(texts)
    except TypeError as error:
        raise AgNewsError(f"texts must be a list of strings, not {type(texts).__name__}") from error
    for position, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise AgNewsError(f"text {position} is {text!r}; every text must be a non-empty string")
    if not texts:
        raise AgNewsError("no texts to predict; pass at least one headline")
    return texts


def _prediction(text: str, probabilities) -> dict:
    label_id = int(probabilities.argmax())
    return {
        "text": text,
        "label": CLASS_NAMES[label_id],
        "label_id": label_id,
        "probabilities": {name: float(p) for name, p in zip(CLASS_NAMES, probabilities)},
    }
