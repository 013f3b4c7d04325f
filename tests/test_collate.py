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


def test_sorted_by_length_puts_short_rows_first():
    import datasets

    from agnews_bert.collate import sorted_by_length

    rows = datasets.Dataset.from_dict({"input_ids": [[1] * 9, [1] * 3, [1] * 5], "length": [9, 3, 5]})
    assert sorted_by_length(rows)["length"] == [3, 5, 9]
    unsized = datasets.Dataset.from_dict({"input_ids": [[1, 2], [1]]})
    assert sorted_by_length(unsized)["input_ids"] == [[1, 2], [1]]


def test_scoring_keeps_row_order_while_training_batches_are_grouped(tmp_path):
    """transformers 5.x groups a training Trainer's evaluation batches by length too; scoring must not reorder."""
    import numpy as np
    import torch

    import agnews_bert as ab
    from agnews_bert.scoring import score_with

    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), epochs=1)
    tokenizer = ab.load_tokenizer("smoke")
    tokenized = ab.tokenize_dataset(ab.load_agnews(config), tokenizer, config.max_length)
    trainer = ab.training.build_trainer(config, ab.modeling.load_classifier("smoke"), tokenizer, tokenized, tmp_path / "run")
    grouped = ab._compat.length_grouping_kwargs(True)
    assert {name: getattr(trainer.args, name) for name in grouped} == grouped  # training batches stay grouped
    rows = tokenized["test"]
    output = score_with(trainer, rows, "test")
    assert np.array_equal(output.label_ids, np.asarray(rows["label"]))
    with torch.inference_mode():  # each row alone, in the rows' order
        one_by_one = np.concatenate([trainer.model(input_ids=torch.tensor([ids])).logits.numpy() for ids in rows["input_ids"]])
    np.testing.assert_allclose(output.predictions, one_by_one, atol=1e-4)
    assert trainer.eval_dataset["length"] == sorted(tokenized["validation"]["length"])
