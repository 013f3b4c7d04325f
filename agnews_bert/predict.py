"""predict: class labels and probabilities for new texts, from a saved run or a model in memory.

Texts are sorted by length and batched, so each batch pads to similar lengths,
and run without gradients (`torch.inference_mode`); the results come back in
the order the texts were given.

Example:
    >>> predict(["Shares of the chip maker rose 4% after earnings"], "runs/my-run")  # doctest: +SKIP
    [{'text': 'Shares of ...', 'label': 'Business', 'label_id': 2,
      'probabilities': {'World': 0.01, 'Sports': 0.0, 'Business': 0.93, 'Sci/Tech': 0.06}}]
"""

from pathlib import Path

import torch
import transformers

from .errors import AgNewsError
from .hardware import detect_hardware
from .labels import CLASS_NAMES
from .runs import CONFIG_FILE, MODEL_DIR, load_run_config

DEFAULT_MAX_LENGTH = 128


def load_saved_model(run_dir):
    """The fine-tuned model (on the GPU if there is one) and tokenizer of a run folder or its model/ folder."""
    folder = Path(run_dir).expanduser()
    model_dir = folder / MODEL_DIR if (folder / MODEL_DIR).is_dir() else folder
    if not (model_dir / "config.json").exists():
        raise AgNewsError(
            f"{folder} holds no saved model (no {MODEL_DIR}/config.json); pass the folder of a finished run"
        )
    trust_remote_code = _run_config(folder).trust_remote_code if _run_config(folder) else False
    try:
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            model_dir, trust_remote_code=trust_remote_code)
        tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as error:
        raise AgNewsError(f"the model in {model_dir} cannot be loaded ({error}); train the run again") from error
    return model.to(detect_hardware().device).eval(), tokenizer


def run_max_length(run_dir) -> int:
    """The max_length a run was trained with, read from its config.json (128 if unknown)."""
    config = _run_config(Path(run_dir).expanduser())
    return config.max_length if config else DEFAULT_MAX_LENGTH


def _run_config(folder: Path):
    """The RunConfig of a run folder; None for a bare model folder (its config.json is the model's)."""
    if not (folder / MODEL_DIR).is_dir() or not (folder / CONFIG_FILE).exists():
        return None
    return load_run_config(folder)


def predict(texts, run=None, *, model=None, tokenizer=None, batch_size: int = 64, max_length: int | None = None):
    """Label and class probabilities for each text, in the order given.

    Pass either `run` (a finished run folder) or `model` and `tokenizer`.
    """
    texts = _checked_texts(texts)
    if run is not None:
        model, tokenizer = load_saved_model(run)
        max_length = max_length or run_max_length(run)
    if model is None or tokenizer is None:
        raise AgNewsError("predict needs a run folder, or both model= and tokenizer=")
    probabilities = class_probabilities(texts, model, tokenizer, batch_size, max_length or DEFAULT_MAX_LENGTH)
    return [_prediction(text, row) for text, row in zip(texts, probabilities)]


def class_probabilities(texts: list, model, tokenizer, batch_size: int, max_length: int) -> torch.Tensor:
    """A (texts x 4) tensor of softmax probabilities, rows in the order of `texts`."""
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise AgNewsError(f"batch_size={batch_size!r} must be a whole number of at least 1")
    order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    rows = torch.empty(len(texts), len(CLASS_NAMES))
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            batch = tokenizer([texts[index] for index in chosen], truncation=True, max_length=max_length,
                              padding=True, return_tensors="pt").to(device)
            logits = model(**batch).logits.float()
            rows[chosen] = torch.softmax(logits, dim=-1).cpu()
    model.train(was_training)
    return rows


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


def _prediction(text: str, probabilities: torch.Tensor) -> dict:
    label_id = int(probabilities.argmax())
    return {
        "text": text,
        "label": CLASS_NAMES[label_id],
        "label_id": label_id,
        "probabilities": {name: round(float(p), 4) for name, p in zip(CLASS_NAMES, probabilities)},
    }
