"""Tokenizer loading and tokenization of the AG News splits.

Tokenization runs with `Dataset.map(batched=True)` at the library's default
batch size (1,000 rows): the fast tokenizers work on a whole batch in Rust, so
the original notebook's `batch_size=4` spent most of its time in Python
overhead. Texts are truncated to `max_length` tokens but not padded: padding
happens per batch in the collator, to the batch's longest row.

Example:
    >>> tokenizer = load_tokenizer("smoke")
    >>> tokenizer("Stocks rally")["input_ids"][0] == tokenizer.cls_token_id
    True
"""

import datasets
import numpy as np
import transformers

from .config import SMOKE
from .errors import AgNewsError
from .hub import hub_error
from .smoke import build_smoke_tokenizer

UNBOUNDED_LENGTH = 1_000_000


def load_tokenizer(model: str, trust_remote_code: bool = False):
    """The tokenizer that belongs to a model: a Hub id, a local folder, or "smoke"."""
    if model == SMOKE:
        return build_smoke_tokenizer()
    try:
        return transformers.AutoTokenizer.from_pretrained(model, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as error:
        raise hub_error(model, "tokenizer", error) from error


def max_length_limit(tokenizer) -> int | None:
    """The longest input the tokenizer's model takes, in tokens; None if unknown.

    Example: ModernBERT-base -> 8192, bert-base-uncased -> 512
    """
    limit = tokenizer.model_max_length
    return limit if limit and limit < UNBOUNDED_LENGTH else None


def check_max_length(tokenizer, max_length: int, model: str) -> None:
    """Raise AgNewsError if max_length is above what the model can take."""
    limit = max_length_limit(tokenizer)
    if limit is not None and max_length > limit:
        raise AgNewsError(
            f"max_length={max_length} is above {model}'s limit of {limit}; "
            f"use at most {limit} (AG News texts need about 128)"
        )


def tokenize_dataset(splits: datasets.DatasetDict, tokenizer, max_length: int) -> datasets.DatasetDict:
    """Token ids for every split, truncated to max_length, unpadded.

    Keeps `label`, adds `input_ids`, `attention_mask` and `length` (tokens per
    row, which length-grouped batching reads), and drops `text`.
    """

    def tokenize(batch):
        encoded = tokenizer(batch["text"], truncation=True, max_length=max_length)
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        return encoded

    return splits.map(tokenize, batched=True, remove_columns=["text"], desc="Tokenizing")


def token_length_summary(tokenized: datasets.Dataset, max_length: int) -> dict:
    """Token counts per text: mean, median, 95th percentile, max, and the truncated share.

    Example: {"mean": 54.1, "median": 52, "p95": 81, "max": 128, "truncated_share": 0.004}
    """
    lengths = np.asarray(tokenized["length"])
    return {
        "mean": round(float(lengths.mean()), 1),
        "median": int(np.median(lengths)),
        "p95": int(np.percentile(lengths, 95)),
        "max": int(lengths.max()),
        "truncated_share": round(float((lengths >= max_length).mean()), 4),
    }
