import builtins
from pathlib import Path

import pytest

import agnews_bert as ab
from agnews_bert.errors import flag_style
from agnews_bert.scoring import load_run


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
    run = load_run(smoke_run["run_dir"])
    model, tokenizer = run.model, run.tokenizer
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
    texts = ["the striker scored twice"]
    assert ab.predict(texts, Path(smoke_run["run_dir"]) / "model") == ab.predict(texts, smoke_run["run_dir"])


def test_a_non_positive_batch_size_is_refused_naming_the_setting(smoke_run):
    run = load_run(smoke_run["run_dir"])
    with pytest.raises(ab.AgNewsError, match="batch_size=0 must be a whole number of at least 1") as refused:
        ab.predict(["text"], model=run.model, tokenizer=run.tokenizer, batch_size=0)
    assert refused.value.field == "batch_size"
    with flag_style(), pytest.raises(ab.AgNewsError, match="--batch-size 0 must be"):
        ab.predict(["text"], run, batch_size=0)


def test_predict_reads_the_run_config_once(smoke_run, monkeypatch):
    """Today's rule: a saved run is loaded once (config, model, tokenizer), not once per thing predict needs."""
    config_file = (Path(smoke_run["run_dir"]) / "config.json").resolve()
    reads = []
    real_path_open, real_open = Path.open, builtins.open

    def counting_path_open(path, *args, **kwargs):
        reads.extend([path] if Path(path).resolve() == config_file else [])
        return real_path_open(path, *args, **kwargs)

    def counting_open(file, *args, **kwargs):
        reads.extend([file] if isinstance(file, (str, Path)) and Path(file).resolve() == config_file else [])
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counting_path_open)
    monkeypatch.setattr(builtins, "open", counting_open)
    ab.predict(["the striker scored twice"], smoke_run["run_dir"])
    assert len(reads) == 1


def test_a_saved_run_is_the_run_folder_loaded_once(smoke_run):
    run = load_run(smoke_run["run_dir"])
    assert load_run(run) is run  # passed along as it is
    assert run.folder == Path(smoke_run["run_dir"]) and run.config.model == "smoke"
    assert run.max_length == run.config.max_length and run.precision == "fp32"  # this CPU machine
    texts = ["shares rose after the earnings report", "the striker scored twice"]
    assert ab.predict(texts, run) == ab.predict(texts, smoke_run["run_dir"])
    bare = load_run(Path(smoke_run["run_dir"]) / "model")  # a model folder records no run config
    assert bare.config is None and bare.max_length == 128 and bare.precision == "fp32"
