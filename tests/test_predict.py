import pytest

import agnews_bert as ab


def test_predict_from_a_run_folder_keeps_order_and_gives_probabilities(smoke_run):
    texts = ["a short one", "a much longer text about shares markets and quarterly earnings", "goal"]
    rows = ab.predict(texts, smoke_run["run_dir"], batch_size=2)
    assert [row["text"] for row in rows] == texts
    for row in rows:
        assert set(row["probabilities"]) == set(ab.CLASS_NAMES)
        assert sum(row["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
        assert row["label"] == ab.CLASS_NAMES[row["label_id"]]
        assert row["label"] == max(row["probabilities"], key=row["probabilities"].get)


def test_batching_does_not_change_the_answer(smoke_run):
    texts = [f"text number {i} about {topic}" for i, topic in enumerate(["football", "the market", "a chip", "talks"] * 3)]
    one_by_one = ab.predict(texts, smoke_run["run_dir"], batch_size=1)
    batched = ab.predict(texts, smoke_run["run_dir"], batch_size=5)
    for single, grouped in zip(one_by_one, batched):
        assert single["label"] == grouped["label"]
        for name in ab.CLASS_NAMES:
            assert single["probabilities"][name] == pytest.approx(grouped["probabilities"][name], abs=1e-3)


def test_predict_with_an_in_memory_model_matches_the_saved_run(smoke_run):
    model, tokenizer = ab.prediction.load_saved_model(smoke_run["run_dir"])
    texts = ["shares rose after the earnings report", "the striker scored twice"]
    in_memory = ab.predict(texts, model=model, tokenizer=tokenizer, max_length=64)
    from_folder = ab.predict(texts, smoke_run["run_dir"])
    assert [row["label"] for row in in_memory] == [row["label"] for row in from_folder]


def test_predict_accuracy_on_the_test_split_matches_training_report(smoke_run):
    test = ab.load_agnews("smoke", validation_size=64)["test"]
    rows = ab.predict(test["text"], smoke_run["run_dir"])
    accuracy = sum(row["label_id"] == label for row, label in zip(rows, test["label"])) / len(rows)
    assert accuracy == smoke_run["test"]["accuracy"]  # the same model, data and machine: the same number


@pytest.mark.parametrize("texts, fragment", [([], "no texts"), ([""], "non-empty string"), ([3], "non-empty string"), (None, "list of strings")])
def test_bad_texts_are_refused(smoke_run, texts, fragment):
    with pytest.raises(ab.AgNewsError, match=fragment):
        ab.predict(texts, smoke_run["run_dir"])


def test_a_folder_without_a_model_is_refused(tmp_path):
    with pytest.raises(ab.AgNewsError, match="holds no saved model"):
        ab.predict(["hello"], tmp_path)


def test_predict_takes_the_model_folder_itself(smoke_run):
    from pathlib import Path

    texts = ["the striker scored twice"]
    assert ab.predict(texts, Path(smoke_run["run_dir"]) / "model") == ab.predict(texts, smoke_run["run_dir"])


def test_a_non_positive_batch_size_is_refused(smoke_run):
    model, tokenizer = ab.prediction.load_saved_model(smoke_run["run_dir"])
    with pytest.raises(ab.AgNewsError, match="batch_size=0 must be a whole number of at least 1"):
        ab.predict(["text"], model=model, tokenizer=tokenizer, batch_size=0)
