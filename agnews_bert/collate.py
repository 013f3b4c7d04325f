"""The collator: pad each batch to its own longest row (dynamic padding).

AG News texts are about 55 tokens long, but a few are over 150. Padding every
row to a fixed 128 or 512 wastes most of the compute on pad tokens; padding
each batch to its longest row wastes little, and less again when batches hold
rows of similar length (`group_by_length` in the trainer). On a GPU we round
the padded length up to a multiple of 8, which tensor cores prefer.
The validation split is sorted by length for the Trainer's per-epoch scores,
which ignore row order; `scoring.score` sorts the rows it scores itself and
puts its outputs back in the rows' order.

Example:
    >>> from agnews_bert.tokenization import load_tokenizer
    >>> collate = make_collator(load_tokenizer("smoke"))
    >>> batch = collate([{"input_ids": [2, 7, 3], "label": 0}, {"input_ids": [2, 3], "label": 1}])
    >>> batch["input_ids"].shape
    torch.Size([2, 3])
"""

import numpy as np
import transformers


def make_collator(tokenizer, pad_to_multiple_of: int | None = None) -> transformers.DataCollatorWithPadding:
    """A collator that pads token ids and attention masks per batch and returns tensors."""
    return transformers.DataCollatorWithPadding(tokenizer, pad_to_multiple_of=pad_to_multiple_of, return_tensors="pt")


def sorted_by_length(rows):
    """The rows shortest first (by their `length` column), so batches taken in order pad little.

    For evaluation, whose metrics do not depend on row order. Example: lengths [9, 3, 5] -> [3, 5, 9]
    """
    if "length" not in rows.column_names:
        return rows
    return rows.select(np.argsort(rows["length"], kind="stable"))  # not Dataset.sort: pyarrow warns on it
