from agnews_bert import load_tokenizer, make_collator


def _rows(*lengths):
    return [{"input_ids": [2] + [7] * (n - 2) + [3], "attention_mask": [1] * n, "label": i % 4} for i, n in enumerate(lengths)]


def test_pads_each_batch_to_its_longest_row():
    tokenizer = load_tokenizer("smoke")
    batch = make_collator(tokenizer)(_rows(3, 5, 4))
    assert batch["input_ids"].shape == (3, 5)
    assert batch["attention_mask"].sum(dim=1).tolist() == [3, 5, 4]
    assert batch["input_ids"][0, 3:].tolist() == [tokenizer.pad_token_id] * 2
    assert batch["labels"].tolist() == [0, 1, 2]


def test_pad_to_multiple_of_eight_rounds_up():
    batch = make_collator(load_tokenizer("smoke"), pad_to_multiple_of=8)(_rows(3, 9))
    assert batch["input_ids"].shape == (2, 16)
