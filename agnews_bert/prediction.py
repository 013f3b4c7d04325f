"""`predict`: labels and class probabilities for new texts, from a saved run or a model in memory.

The texts are tokenized as training tokenized its rows (`tokenize_texts`, at the
run's max_length) and scored by `scoring.score` in the run's precision, so a
text predicts exactly as it scored in the run's own test pass.

With a finished run, `predict(texts, "runs/my-run")` (or a `load_run` result in
place of the folder) gives one dict per text: its text, label, label_id and the
four class probabilities. A model in memory works too:

Example:
    >>> from agnews_bert.modeling import load_classifier
    >>> from agnews_bert.tokenization import load_tokenizer
    >>> row = predict("Shares rose 4% after earnings", model=load_classifier("smoke"), tokenizer=load_tokenizer("smoke"))[0]
    >>> row["label"] in CLASS_NAMES, round(sum(row["probabilities"].values()), 4)
    (True, 1.0)
"""

from .calibration import run_calibration, scaled_probabilities
from .errors import AgNewsError, setting
from .labels import CLASS_NAMES
from .scoring import DEFAULT_BATCH_SIZE, check_batch_size, load_run
from .tokenization import tokenize_texts


def predict(texts, run=None, *, model=None, tokenizer=None, batch_size: int = DEFAULT_BATCH_SIZE,
            max_length: int | None = None, calibrated: bool = False):
    """Label and class probabilities for each text, in the order given.

    Pass either `run` (a finished run folder, or a SavedRun from `load_run`) or `model` and `tokenizer`.
    calibrated=True divides the logits by the run's temperature (results.json,
    fitted on validation: calibration.py) before the softmax; the labels stay the same.
    """
    check_batch_size(batch_size)  # before the model loads
    try:
        texts = [texts] if isinstance(texts, str) else list(texts)
    except TypeError as error:
        raise AgNewsError(f"texts must be a list of strings, not {type(texts).__name__}", field="texts") from error
    for position, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise AgNewsError(f"text {position} is {text!r}; every text must be a non-empty string", field="texts")
    if not texts:
        raise AgNewsError("no texts to predict; pass at least one headline", field="texts")
    if calibrated and run is None:
        raise AgNewsError(f"{setting('calibrated', True)} needs the run folder whose temperature to use: "
                          "predict(texts, run_dir, calibrated=True)", field="calibrated")
    temperature = run_calibration(getattr(run, "folder", run))["temperature"] if calibrated else 1.0
    run = load_run(run, model=model, tokenizer=tokenizer)
    rows = tokenize_texts(texts, run.tokenizer, max_length or run.max_length)
    probabilities = scaled_probabilities(run.score(rows, batch_size).predictions, temperature)
    return [{"text": text, "label": CLASS_NAMES[row.argmax()], "label_id": int(row.argmax()),
             "probabilities": dict(zip(CLASS_NAMES, row.tolist()))}
            for text, row in zip(texts, probabilities)]

