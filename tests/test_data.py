import json

import datasets
import pytest

from agnews_bert import CLASS_NAMES, AgNewsError, load_agnews

from agnews_bert.notebook import describe_splits
from agnews_bert.readers import read_local_source

from conftest import balanced_original_rows, write_original_csv


def test_original_csv_maps_class_index_to_label_and_joins_title_and_description(tmp_path):
    path = write_original_csv(tmp_path / "news.csv", [
        ("1", "Peace talks", "Leaders met in Geneva."),
        ("2", "Cup final", "The home side won 2-1."),
        ("3", "Shares slide", "Markets fell, again."),
        ("4", "New chip", 'A "faster" processor & more.'),
    ])
    rows = read_local_source(path)["train"]
    assert rows["label"] == [0, 1, 2, 3]
    assert rows["text"][0] == "Peace talks Leaders met in Geneva."
    assert rows["text"][3] == 'New chip A "faster" processor & more.'
    assert rows.features["label"].names == list(CLASS_NAMES)


def test_smoke_sample_splits_have_the_asked_sizes_and_keep_class_shares():
    splits = load_agnews("smoke", validation_size=64, seed=1)
    sizes = {name: len(rows) for name, rows in splits.items()}
    assert sizes == {"train": 416, "validation": 64, "test": 160}
    summary = describe_splits(splits)
    assert set(summary["validation"]["per_class"].values()) == {16}
    assert set(summary["test"]["per_class"].values()) == {40}


def test_train_size_count_and_share_are_stratified(tmp_path):
    source = write_original_csv(tmp_path / "train.csv", balanced_original_rows(100))
    test_file = write_original_csv(tmp_path / "test.csv", balanced_original_rows(5, prefix="other"))
    by_count = load_agnews(str(source), test_source=str(test_file), train_size=40, validation_size=20)
    assert len(by_count["train"]) == 40 and len(by_count["validation"]) == 20
    assert set(describe_splits(by_count)["train"]["per_class"].values()) == {10}
    by_share = load_agnews(str(source), test_source=str(test_file), train_size=0.2, validation_size=0.1)
    assert len(by_share["train"]) == 80 and len(by_share["validation"]) == 40


def test_training_data_that_is_all_test_data_is_refused(tmp_path):
    source = write_original_csv(tmp_path / "train.csv", balanced_original_rows(10))
    with pytest.raises(AgNewsError, match="every training row also appears in the test data"):
        load_agnews(str(source), test_source=str(source))


def test_no_test_text_in_train_or_validation(tmp_path):
    rows = balanced_original_rows(50)
    train_file = write_original_csv(tmp_path / "train.csv", rows)
    test_file = write_original_csv(tmp_path / "test.csv", rows[::5])  # 40 rows that are also in train
    splits = load_agnews(str(train_file), test_source=str(test_file), validation_size=20)
    test_texts = set(splits["test"]["text"])
    assert not test_texts & set(splits["train"]["text"])
    assert not test_texts & set(splits["validation"]["text"])
    assert len(splits["train"]) + len(splits["validation"]) == 200 - 40


def test_validation_comes_from_training_data_not_test():
    splits = load_agnews("smoke", validation_size=32)
    smoke_test = read_local_source("agnews_bert/resources/smoke")["test"]
    assert splits["test"]["text"] == smoke_test["text"]
    assert not set(splits["validation"]["text"]) & set(smoke_test["text"])


def test_a_source_without_test_split_gets_a_held_out_test_and_says_so(tmp_path):
    source = write_original_csv(tmp_path / "only.csv", balanced_original_rows(25))
    splits = load_agnews(str(source), validation_size=12)
    assert len(splits["test"]) == 20
    assert "held out" in describe_splits(splits)["test_origin"]
    assert len(splits["train"]) + len(splits["validation"]) + len(splits["test"]) == 100


def test_a_test_subset_still_says_where_its_rows_came_from():
    splits = load_agnews("smoke", validation_size=64, test_size=40)
    assert len(splits["test"]) == 40
    assert describe_splits(splits)["test_origin"] == "the test split of smoke"


def test_same_seed_same_split_other_seed_other_split():
    first = load_agnews("smoke", validation_size=64, seed=3)
    again = load_agnews("smoke", validation_size=64, seed=3)
    other = load_agnews("smoke", validation_size=64, seed=4)
    assert first["validation"]["text"] == again["validation"]["text"]
    assert first["validation"]["text"] != other["validation"]["text"]


def test_table_formats_with_ids_or_class_names(tmp_path):
    records = [{"text": f"text number {i}", "label": [0, "Sports", "business", 3][i % 4]} for i in range(8)]
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text("\n".join(json.dumps(record) for record in records), encoding="utf-8")
    csv_file = tmp_path / "rows.csv"
    csv_file.write_text("label,text\n" + "\n".join(f"{r['label']},{r['text']}" for r in records), encoding="utf-8")
    parquet = tmp_path / "rows.parquet"
    datasets.Dataset.from_dict({"text": [r["text"] for r in records], "label": [i % 4 for i in range(8)]}).to_parquet(parquet)
    for path in (jsonl, csv_file, parquet):
        rows = read_local_source(path)["train"]
        assert rows["label"] == [0, 1, 2, 3, 0, 1, 2, 3], path.name
        assert rows["text"][5] == "text number 5"


def test_save_to_disk_folder(tmp_path):
    saved = datasets.DatasetDict(
        train=datasets.Dataset.from_dict({"text": [f"a {i}" for i in range(8)], "label": [i % 4 for i in range(8)]}),
        test=datasets.Dataset.from_dict({"text": ["b 1", "b 2", "b 3", "b 4"], "label": [0, 1, 2, 3]}),
    )
    saved.save_to_disk(str(tmp_path / "saved"))  # datasets 2.21 (the floor) takes no Path here
    splits = read_local_source(tmp_path / "saved")
    assert len(splits["train"]) == 8 and splits["test"]["text"] == ["b 1", "b 2", "b 3", "b 4"]


@pytest.mark.parametrize(
    "content, fragment",
    [
        ('"5","title","description"\n', "expected the original AG News format"),
        ('"1","only two fields"\n', "expected the original AG News format"),
        ("text,topic\nhello,1\n", "expected the original AG News format"),
        ("text,label\nhello,7\n", "row 2 has label '7'"),
        ("text,label\nhello,Weather\n", "has label 'Weather'; use 0-3 or a class name"),
        ("text,label\n   ,1\n", "row 2 has an empty text"),
        ("", "is empty"),
    ],
)
def test_bad_csv_files_get_one_clear_error(tmp_path, content, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AgNewsError) as error:
        read_local_source(path)
    assert fragment in str(error.value)


def test_non_text_and_very_long_rows_are_refused(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": 12, "label": 0}\n', encoding="utf-8")
    with pytest.raises(AgNewsError, match="row 1 has a text of type int"):
        read_local_source(path)
    path.write_text(json.dumps({"text": "x" * 30_000, "label": 0}) + "\n", encoding="utf-8")
    with pytest.raises(AgNewsError, match="30,000 characters"):
        read_local_source(path)


def test_wrong_encoding_and_wrong_suffix(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes('"1","Caf\xe9","d"\n'.encode("latin-1"))
    with pytest.raises(AgNewsError, match="is not UTF-8 text"):
        read_local_source(latin)
    other = tmp_path / "rows.xlsx"
    other.write_text("x")
    with pytest.raises(AgNewsError, match="not a supported file"):
        read_local_source(other)


def test_missing_path_says_so():
    with pytest.raises(AgNewsError, match="does not exist"):
        load_agnews("./no/such/file.csv")


def test_unreachable_hub_points_at_local_data(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(AgNewsError) as error:
        load_agnews("fancyzhx/ag_news")
    message = str(error.value)
    assert "the Hugging Face Hub cannot be reached" in message and "data=..." in message and "--" not in message  # a notebook has no flags
    assert error.value.field == "data"


def test_sizes_too_large_for_the_data():
    with pytest.raises(AgNewsError, match="train_size=1000 asks for 1000 rows but only"):
        load_agnews("smoke", train_size=1000, validation_size=64)
    with pytest.raises(AgNewsError, match="validation_size=2 asks for 2 of"):
        load_agnews("smoke", validation_size=2)


def test_hub_style_rows_get_the_same_checks_as_files():
    from agnews_bert.data import _as_agnews

    rows = datasets.Dataset.from_dict({"text": ["fine", "also fine"], "label": [0, 7]})
    with pytest.raises(AgNewsError, match="row 1 has label 7"):
        _as_agnews(rows, "some/hub-data")


def test_a_superscript_digit_label_is_an_unknown_label(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("text,label\nhello,²\n", encoding="utf-8")
    with pytest.raises(AgNewsError, match="has label '²'"):
        read_local_source(path)


def test_a_broken_json_line_is_named_where_load_dataset_does_not(tmp_path):
    """Why readers.py parses JSON Lines itself: datasets names neither the file's line nor the fix."""
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "a", "label": 0}\n{"text": "b", "label": 1\n{"text": "c", "label": 2}\n')
    with pytest.raises(Exception) as from_datasets:
        datasets.load_dataset("json", data_files=str(path), cache_dir=str(tmp_path / "cache"))
    assert "line 2" not in str(from_datasets.value)
    with pytest.raises(AgNewsError, match=r"rows.jsonl line 2 is not JSON .*; write one object per line"):
        read_local_source(path)
