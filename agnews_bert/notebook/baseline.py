"""The baseline a fine-tuned encoder has to beat: TF-IDF features and logistic regression.

TF-IDF turns each text into word and word-pair weights (frequent in this text,
rare in the corpus = high weight); a logistic regression learns one weight per
feature and class. It knows nothing of word order or meaning beyond pairs, yet
scores about 0.90 test accuracy on full AG News in a minute of CPU time, so
it tells students how much the transformer's days of pretraining add.
Notebook 02 puts it in the same table as the fine-tuned models.

The result has the same shape as `train`'s results for the fields a
comparison reads (`test`, `validation`, `timing`), so `compare_models` treats
both alike.

Example:
    >>> from agnews_bert.data import load_agnews
    >>> baseline = tfidf_baseline(load_agnews("smoke", validation_size=64))
    >>> baseline["test"]["accuracy"] > 0.9
    True
"""

import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from ..metrics import classification_report

BASELINE_NAME = "TF-IDF + logistic regression"


def tfidf_baseline(splits, max_iter: int = 1000) -> dict:
    """Fit TF-IDF (words and word pairs) + logistic regression on train; score validation and test once."""
    pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
                             LogisticRegression(max_iter=max_iter))
    started = time.perf_counter()
    pipeline.fit(splits["train"]["text"], splits["train"]["label"])
    train_seconds = time.perf_counter() - started
    timing = {"train_seconds": round(train_seconds, 2), "peak_gpu_memory_gb": None,  # it runs on the CPU
              "train_samples_per_second": round(len(splits["train"]) / max(train_seconds, 1e-9), 1)}
    return {"run_name": "tfidf-logreg", "model": BASELINE_NAME, "timing": timing,
            **{name: _scores(pipeline, splits[name]) for name in ("validation", "test")}}


def _scores(pipeline, split) -> dict:
    return {**classification_report(split["label"], pipeline.predict(split["text"])), "rows": len(split)}
