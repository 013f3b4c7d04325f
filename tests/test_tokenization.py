import pytest
from datasets.fingerprint import Hasher

from agnews_bert import AgNewsError, load_agnews, load_tokenizer, tokenize_dataset

from agnews_bert.notebook import check_max_length, token_length_summary


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


# --- fast encoding and the in-memory cache ---------------------------------------------------

import datasets  # noqa: E402

from agnews_bert import tokenization  # noqa: E402


@pytest.fixture
def count_encodings(monkeypatch):
    """Counts calls of encode_texts (it still runs): 0 calls means the cache answered."""
    calls = []
    real = tokenization.encode_texts

    def counting(tokenizer, texts, max_length):
        calls.append(len(texts))
        return real(tokenizer, texts, max_length)

    monkeypatch.setattr(tokenization, "encode_texts", counting)
    tokenization.clear_tokenization_cache()
    yield calls
    tokenization.clear_tokenization_cache()


def _splits(texts, labels=None):
    rows = datasets.Dataset.from_dict({"text": texts, "label": labels or [0] * len(texts)})
    return datasets.DatasetDict(train=rows)


TEXTS = ["Stocks rally on Wall Street", "The striker scored twice in the final", "Oil prices rise again today"]


@pytest.mark.parametrize("max_length", [4, 8, 64])
def test_encode_texts_gives_what_the_tokenizer_call_gives(tokenizer, max_length):
    texts = TEXTS + ["  odd   spacing\tand café ümlauts  ", "x"]
    expected = tokenizer(texts, truncation=True, max_length=max_length)
    encoded = tokenization.encode_texts(tokenizer, texts, max_length)
    assert encoded["input_ids"] == expected["input_ids"]
    assert encoded["attention_mask"] == expected["attention_mask"]
    assert encoded["length"] == [len(ids) for ids in expected["input_ids"]]


def test_encode_texts_uses_the_fast_path_and_restores_the_tokenizer_settings(tokenizer):
    backend = tokenizer.backend_tokenizer
    assert tokenizer.is_fast and hasattr(backend, "encode_batch_fast")  # the offsetless batch encoder
    backend.enable_padding(pad_id=0, pad_token="[PAD]", length=50)
    backend.no_truncation()
    try:
        encoded = tokenization.encode_texts(tokenizer, TEXTS, 5)
        assert [len(ids) for ids in encoded["input_ids"]] == [5, 5, 5]  # truncated, not padded to 50
        assert backend.truncation is None and backend.padding["length"] == 50
    finally:
        backend.no_padding()


def test_rerun_with_the_same_inputs_comes_from_the_cache(tokenizer, count_encodings):
    splits = load_agnews("smoke", validation_size=64)
    first = tokenize_dataset(splits, tokenizer, max_length=32)
    encoded_first = len(count_encodings)
    again = tokenize_dataset(load_agnews("smoke", validation_size=64), tokenizer, max_length=32)
    assert encoded_first == 3  # one batch per split
    assert len(count_encodings) == encoded_first
    for name in ("train", "validation", "test"):
        assert again[name]["input_ids"] == first[name]["input_ids"]
        assert again[name]["label"] == first[name]["label"]


def test_a_new_max_length_tokenizes_again(tokenizer, count_encodings):
    splits = _splits(TEXTS)
    long = tokenize_dataset(splits, tokenizer, max_length=64)
    short = tokenize_dataset(splits, tokenizer, max_length=4)
    assert len(count_encodings) == 2
    assert short["train"]["length"] == [4, 4, 4]
    assert long["train"]["length"] == [len(ids) for ids in tokenizer(TEXTS)["input_ids"]]


def test_changed_data_tokenizes_again(tokenizer, count_encodings):
    before = tokenize_dataset(_splits(TEXTS), tokenizer, max_length=64)
    after = tokenize_dataset(_splits(TEXTS[:2] + ["Chip maker shares fall"]), tokenizer, max_length=64)
    assert len(count_encodings) == 2
    assert after["train"]["input_ids"][:2] == before["train"]["input_ids"][:2]
    assert after["train"]["input_ids"][2] == tokenizer("Chip maker shares fall")["input_ids"]
    relabelled = tokenize_dataset(_splits(TEXTS, labels=[1, 2, 3]), tokenizer, max_length=64)
    assert relabelled["train"]["label"] == [1, 2, 3]


def test_a_changed_tokenizer_tokenizes_again(count_encodings):
    splits = _splits(["the zyxwvut merger"])
    plain = load_tokenizer("smoke")
    before = tokenize_dataset(splits, plain, max_length=64)["train"]["input_ids"][0]
    extended = load_tokenizer("smoke")
    extended.add_tokens(["zyxwvut"])
    after = tokenize_dataset(splits, extended, max_length=64)["train"]["input_ids"][0]
    assert len(count_encodings) == 2
    assert extended.convert_tokens_to_ids("zyxwvut") in after
    assert extended.convert_tokens_to_ids("zyxwvut") not in before


def test_cache_false_always_tokenizes(tokenizer, count_encodings):
    splits = _splits(TEXTS)
    tokenize_dataset(splits, tokenizer, max_length=64, cache=False)
    tokenize_dataset(splits, tokenizer, max_length=64, cache=False)
    assert len(count_encodings) == 2


def test_formatting_a_result_leaves_the_cached_copy_alone(tokenizer, count_encodings):
    splits = _splits(TEXTS)
    first = tokenize_dataset(splits, tokenizer, max_length=64)
    first["train"].set_format("torch", columns=["input_ids"])
    again = tokenize_dataset(splits, tokenizer, max_length=64)
    assert len(count_encodings) == 1
    assert again["train"].format["type"] is None
    assert isinstance(again["train"][0]["input_ids"], list)


def test_the_cache_keeps_only_the_most_recent_splits(tokenizer, count_encodings):
    for index in range(tokenization.CACHED_SPLITS + 2):
        tokenize_dataset(_splits([f"text number {index}"]), tokenizer, max_length=16)
    assert len(tokenization._tokenized_cache) == tokenization.CACHED_SPLITS
    tokenize_dataset(_splits(["text number 0"]), tokenizer, max_length=16)  # the oldest was dropped
    assert len(count_encodings) == tokenization.CACHED_SPLITS + 3


def test_a_tokenizer_that_cannot_be_hashed_is_never_cached(count_encodings):
    odd = load_tokenizer("smoke")
    odd.progress = (step for step in range(3))  # a generator: pickle (and so datasets' Hasher) refuses it
    with pytest.raises(Exception):
        Hasher.hash(odd)
    tokenization.clear_tokenization_cache()
    first = tokenize_dataset(_splits(TEXTS), odd, max_length=64)
    second = tokenize_dataset(_splits(TEXTS), odd, max_length=64)
    assert len(count_encodings) == 2 and not tokenization._tokenized_cache
    assert first["train"]["input_ids"] == second["train"]["input_ids"] == odd(TEXTS)["input_ids"]
