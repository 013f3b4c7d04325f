"""The course's original ("seed") notebook recipe, kept only here, as the benchmarks' baseline.

What the seed notebook did, and what the package changed:
- tokenized with `map(batched=True, batch_size=4)`: the package uses map's
  default 1,000 rows per batch, and caches the result;
- `DataCollatorWithPadding` with no `pad_to_multiple_of`: the package rounds
  to 8 on a GPU;
- a Trainer in fp32 (the package: bf16 or fp16 on a GPU), lr 2e-5 (the
  package: the model family's lr), batch 16 (32), eval batch 8 (4 x the
  training batch), no length grouping (grouped), evaluating and saving every
  epoch and loading the best epoch at the end (the same in both).

The seed picked its best epoch on the test set; here both recipes score the
same validation rows, so the comparison is only about speed. Its
`evaluate.load("f1")` with `average="binary"` crashed on four classes, so
accuracy is computed with NumPy instead.

Example:
    >>> tokenized = seed_tokenize(splits, tokenizer, max_length=128)
    >>> trainer = seed_trainer(model, tokenizer, tokenized, "/tmp/seed", epochs=1)
"""

import numpy as np
import transformers

SEED_MAP_BATCH_SIZE = 4
SEED_LR = 2e-5
SEED_BATCH_SIZE = 16
SEED_EVAL_BATCH_SIZE = 8
SEED_WEIGHT_DECAY = 0.01


def seed_tokenize(splits, tokenizer, max_length: int):
    """The seed's tokenization: a batch of 4 texts per call.

    It truncates to the same max_length as the package, so both recipes train
    on the same tokens.
    """

    def tokenize(batch):
        return tokenizer(batch["text"], truncation=True, max_length=max_length)

    return splits.map(tokenize, batched=True, batch_size=SEED_MAP_BATCH_SIZE)


def seed_accuracy(eval_pred) -> dict:
    """Accuracy of the argmax class. Example: logits [[0.1, 2.0], [3.0, 0.0]], labels [1, 1] -> 0.5"""
    logits, labels = eval_pred
    return {"accuracy": float((np.argmax(logits, axis=-1) == labels).mean())}


def seed_training_args(output_dir: str, epochs: float, seed: int = 42) -> transformers.TrainingArguments:
    """The seed's TrainingArguments: fp32, lr 2e-5, batch 16, eval batch 8, best epoch by loss."""
    return transformers.TrainingArguments(
        output_dir=output_dir,
        num_train_epochs=epochs,
        learning_rate=SEED_LR,
        per_device_train_batch_size=SEED_BATCH_SIZE,
        per_device_eval_batch_size=SEED_EVAL_BATCH_SIZE,
        weight_decay=SEED_WEIGHT_DECAY,
        eval_strategy="epoch",
        save_strategy="epoch",
        load_best_model_at_end=True,
        seed=seed,
        report_to="none",
        disable_tqdm=True,
    )


def seed_trainer(model, tokenizer, tokenized, output_dir: str, epochs: float, seed: int = 42) -> transformers.Trainer:
    """The seed's Trainer: dynamic padding, train on `train`, evaluate on `validation`."""
    return transformers.Trainer(
        model=model,
        args=seed_training_args(output_dir, epochs, seed),
        train_dataset=tokenized["train"],
        eval_dataset=tokenized["validation"],
        data_collator=transformers.DataCollatorWithPadding(tokenizer),
        compute_metrics=seed_accuracy,
    )
