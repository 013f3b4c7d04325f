"""tfidf_baseline: a TF-IDF + logistic regression scored like a fine-tuned run."""

import datasets
import pytest

import agnews_bert as ab


@pytest.fixture(scope="module")
def smoke_splits():
    return ab.load_agnews(ab.RunConfig.from_preset("smoke"))


def test_baseline_on_the_smoke_sample_scores_validation_and_test(smoke_splits):
    baseline = ab.notebook.tfidf_baseline(smoke_splits)
    assert baseline["model"] == "TF-IDF + logistic regression"
    assert baseline["test"]["rows"] == 160 and baseline["validation"]["rows"] == 64
    assert sum(map(sum, baseline["test"]["confusion_matrix"])) == 160
    assert baseline["test"]["accuracy"] >= 0.9  # the smoke sample's topics have distinct words
    assert baseline["test"]["macro_f1"] == pytest.approx(
        sum(row["f1"] for row in baseline["test"]["per_class"].values()) / 4)
    assert baseline["timing"]["peak_gpu_memory_gb"] is None
    assert baseline["timing"]["train_samples_per_second"] > 0


def _split(texts_and_labels):
    texts, labels = zip(*texts_and_labels)
    return datasets.Dataset.from_dict({"text": list(texts), "label": list(labels)})


def test_baseline_learns_words_that_give_the_class_away():
    words = ["election", "goal", "shares", "software"]
    train = [(f"{words[label]} {words[label]} news {index}", label) for label in range(4) for index in range(5)]
    test = [("the election results", 0), ("a late goal", 1), ("shares fell", 2), ("new software", 3),
            ("goal goal", 0)]  # the last row is labelled World but reads like Sports
    baseline = ab.notebook.tfidf_baseline({"train": _split(train), "validation": _split(test[:4]), "test": _split(test)})
    assert baseline["validation"]["accuracy"] == 1.0
    assert baseline["test"]["accuracy"] == pytest.approx(4 / 5)
    assert baseline["test"]["confusion_matrix"][0] == [1, 1, 0, 0]
