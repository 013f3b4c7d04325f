import pytest

from agnews_bert import AgNewsError, check_max_length, load_agnews, load_tokenizer, token_length_summary, tokenize_dataset


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("smoke")


def test_smoke_tokenizer_adds_cls_and_sep(tokenizer):
    ids = tokenizer("Stocks rally on Wall Street")["input_ids"]
    assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
    assert tokenizer.pad_token_id == 0


def test_tokenize_dataset_truncates_keeps_labels_and_records_lengths(tokenizer):
    splits = load_agnews("smoke", validation_size=64)
    tokenized = tokenize_dataset(splits, tokenizer, max_length=12)
    train = tokenized["train"]
    assert set(train.column_names) == {"input_ids", "attention_mask", "label", "length"}
    assert train["label"] == splits["train"]["label"]
    assert max(train["length"]) == 12
    assert all(len(ids) == length for ids, length in zip(train["input_ids"], train["length"]))
    assert all(ids[-1] == tokenizer.sep_token_id for ids in train["input_ids"])


def test_token_length_summary(tokenizer):
    tokenized = tokenize_dataset(load_agnews("smoke", validation_size=64), tokenizer, max_length=16)
    summary = token_length_summary(tokenized["test"], max_length=16)
    lengths = tokenized["test"]["length"]
    assert summary["max"] == max(lengths) == 16
    assert summary["truncated_share"] == pytest.approx(sum(n >= 16 for n in lengths) / len(lengths), abs=1e-4)
    assert summary["median"] <= summary["p95"] <= summary["max"]


def test_max_length_above_the_model_limit_is_refused(tokenizer):
    check_max_length(tokenizer, 128, "smoke")
    with pytest.raises(AgNewsError, match="max_length=9000 is above smoke's limit of 128; use at most 128"):
        check_max_length(tokenizer, 9000, "smoke")


def test_unknown_model_without_network_says_what_to_do():
    with pytest.raises(AgNewsError, match="Hugging Face Hub cannot be reached"):
        load_tokenizer("answerdotai/ModernBERT-base")
