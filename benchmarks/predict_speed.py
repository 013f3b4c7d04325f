"""Prediction speed: `agnews_bert.prediction` against a plain `transformers.pipeline("text-classification")`.

Both score the same texts with the same saved model on the same device and
return every class's probability (`top_k=None` for the pipeline). Loading is
not timed, and each gets a few warm-up texts first. `max_probability_difference`
is the largest gap between the two for any text and class (float rounding only:
about 1e-6). `label_agreement` is the share of texts on which both name the same
class: 1.0 for a trained model, but a fresh random head (smoke, MiniLM) gives
near-tied classes, which rounding can flip; so a fresh head is drawn from a fixed
seed, and a test checks the probabilities rather than the labels.

The plain pipeline, as most tutorials call it, sends one text at a time;
`predict` sorts the texts by length and runs batches of 64 without gradients.

    python benchmarks/predict_speed.py                              # MiniLM with a fresh head (or smoke), 1,000 texts
    python benchmarks/predict_speed.py --model runs/<run-name>      # a finished run
    python benchmarks/predict_speed.py --model smoke --texts 200    # a quick check
"""

import argparse
import tempfile
import time
from pathlib import Path

import common

WARM_UP_TEXTS = 8


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=common.minilm_dir() or "smoke",
                        help="a run folder, a checkpoint folder, 'minilm' or 'smoke' (default: MiniLM if installed)")
    parser.add_argument("--texts", type=int, default=1000, help="texts to score (default: 1000)")
    parser.add_argument("--data", help="an original-format AG News CSV to take texts from (default: the smoke sample)")
    parser.add_argument("--max-length", type=int, default=128, help="tokens kept per text (default: 128)")
    return parser.parse_args(argv)


def saved_model_folder(model: str, work_dir: str) -> str:
    """A folder holding a classifier with four labels: the given run or checkpoint, or one saved here.

    A checkpoint without a 4-class head (or "smoke") gets a fresh head, saved to work_dir.
    """
    import agnews_bert as ab

    name = common.minilm_dir() if model == "minilm" else model
    folder = Path(name) / "model" if (Path(name) / "model" / "config.json").exists() else Path(name)
    if name != "smoke" and _has_four_labels(folder):
        return str(folder)
    import transformers

    transformers.set_seed(0)  # the same fresh head every run
    classifier, tokenizer = ab.modeling.load_classifier(name), ab.load_tokenizer(name)
    classifier.save_pretrained(work_dir)
    tokenizer.save_pretrained(work_dir)
    return work_dir


def _has_four_labels(folder: Path) -> bool:
    import json

    config = json.loads((folder / "config.json").read_text())
    return len(config.get("id2label", {})) == 4


def time_plain_pipeline(folder: str, texts: list, max_length: int):
    """(seconds, probabilities) of a default text-classification pipeline, one text at a time.

    probabilities: one list per text, in class-id order.
    """
    import torch
    import transformers

    pipe = transformers.pipeline("text-classification", model=folder, device=0 if torch.cuda.is_available() else -1)
    options = dict(truncation=True, max_length=max_length, top_k=None)
    pipe(texts[:WARM_UP_TEXTS], **options)
    started = time.perf_counter()
    outputs = pipe(texts, **options)
    seconds = time.perf_counter() - started
    names = [pipe.model.config.id2label[index] for index in range(pipe.model.config.num_labels)]
    by_name = [{score["label"]: score["score"] for score in scores} for scores in outputs]  # sorted by score
    return seconds, [[scores[name] for name in names] for scores in by_name]


def time_package_predict(folder: str, texts: list, max_length: int):
    """(seconds, probabilities) of agnews_bert.prediction with the same model, on the GPU if there is one."""
    import torch

    import agnews_bert as ab

    saved = ab.load_run(folder)
    model, tokenizer = saved.model, saved.tokenizer
    model.to("cuda" if torch.cuda.is_available() else "cpu")
    ab.predict(texts[:WARM_UP_TEXTS], model=model, tokenizer=tokenizer, max_length=max_length)
    started = time.perf_counter()
    rows = ab.predict(texts, model=model, tokenizer=tokenizer, max_length=max_length)
    return time.perf_counter() - started, [list(row["probabilities"].values()) for row in rows]  # class-id order


def agreement(plain: list, package: list) -> dict:
    """How closely two lists of per-text probabilities (class-id order) agree: the top class, the largest gap.

    Example: [[0.7, 0.3]], [[0.6, 0.4]] -> {"label_agreement": 1.0, "max_probability_difference": 0.1}
    """
    import numpy as np

    plain, package = np.asarray(plain), np.asarray(package)
    same_label = plain.argmax(axis=1) == package.argmax(axis=1)
    gaps = np.abs(plain - package)
    return {"label_agreement": round(float(same_label.mean()), 4),
            "max_probability_difference": float(f"{gaps.max():.3g}")}


def row(seconds: float, texts: int) -> dict:
    return {"seconds": round(seconds, 3), "texts_per_second": round(texts / seconds, 1)}


def main(argv=None) -> dict:
    arguments = parse_arguments(argv)
    texts = common.agnews_length_texts(arguments.texts, arguments.data)
    with tempfile.TemporaryDirectory() as work_dir:
        folder = saved_model_folder(arguments.model, work_dir)
        plain_seconds, plain_probabilities = time_plain_pipeline(folder, texts, arguments.max_length)
        package_seconds, package_probabilities = time_package_predict(folder, texts, arguments.max_length)
    settings = {"model": arguments.model, "texts": len(texts), "max_length": arguments.max_length,
                "mean_characters": round(sum(map(len, texts)) / len(texts)),
                "seed": "transformers.pipeline('text-classification'), default batch size (1 text)",
                "package": "agnews_bert.prediction, batch 64, texts sorted by length"}
    seed, package = row(plain_seconds, len(texts)), row(package_seconds, len(texts))
    result = common.summary("predict_speed", settings, seed, package, round(seed["seconds"] / package["seconds"], 2))
    result.update(agreement(plain_probabilities, package_probabilities))
    common.print_json(result)
    return result


if __name__ == "__main__":
    main()
