"""Tokenizer loading and tokenization of the AG News splits.

Tokenization runs with `Dataset.map(batched=True)` at the library's default
batch size (1,000 rows): the fast tokenizers work on a whole batch in Rust, so
the original notebook's `batch_size=4` spent much of its time in Python
overhead. Texts are truncated to `max_length` tokens but not padded: padding
happens per batch in the collator, to the batch's longest row.

Two more savings (benchmarks/preprocess_speed.py measures them):
- a fast tokenizer's batch encoder is called without the character offsets
  that `tokenizer(...)` computes and then throws away;
- tokenized splits are kept in memory, keyed by the rows' fingerprint, the
  tokenizer's hash and `max_length`, so rerunning a notebook cell takes no
  time; a change to any of the three tokenizes again.

Example:
    >>> tokenizer = load_tokenizer("smoke")
    >>> tokenizer("Stocks rally")["input_ids"][0] == tokenizer.cls_token_id
    True
"""

from collections import OrderedDict
from contextlib import contextmanager

import datasets
import numpy as np
import transformers
from datasets.fingerprint import Hasher

from .errors import AgNewsError, setting
from .hub import hub_error
from .smoke import resolve_model

UNBOUNDED_LENGTH = 1_000_000
CACHED_SPLITS = 6  # two runs of train, validation, test; the least recently used goes first
_tokenized_cache: OrderedDict = OrderedDict()


def load_tokenizer(model: str, trust_remote_code: bool = False):
    """The tokenizer that belongs to a model: a Hub id, a local folder, or "smoke"."""
    try:
        return transformers.AutoTokenizer.from_pretrained(resolve_model(model), trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as error:
        raise hub_error(model, "tokenizer", error) from error


def check_max_length(tokenizer, max_length: int, model: str) -> None:
    """Raise AgNewsError if max_length is above the longest input the model takes, in tokens.

    Example: ModernBERT-base takes 8192, bert-base-uncased 512; a tokenizer that knows
    no limit has a huge (or no) model_max_length, and any max_length passes.
    """
    limit = tokenizer.model_max_length
    if limit and limit < UNBOUNDED_LENGTH and max_length > limit:
        raise AgNewsError(f"{setting('max_length', max_length)} is above {model}'s limit of {limit}; "
                          f"use at most {limit} (AG News texts need about 128)", field="max_length")


def tokenize_dataset(splits: datasets.DatasetDict, tokenizer, max_length: int,
                     cache: bool = True) -> datasets.DatasetDict:
    """Token ids for every split, truncated to max_length, unpadded.

    Keeps `label`, adds `input_ids`, `attention_mask` and `length` (tokens per
    row, which length-grouped batching reads), and drops `text`. With cache=True
    a split tokenized before in this process, with the same tokenizer and
    max_length, comes back at once.
    """
    try:  # datasets' hash of the tokenizer: its vocabulary, special tokens and settings
        tokenizer_hash = Hasher.hash(tokenizer)
    except Exception:  # noqa: BLE001 - datasets raises many kinds; such a tokenizer is simply never cached
        tokenizer_hash = None
    return datasets.DatasetDict({name: _tokenize_split(rows, tokenizer, tokenizer_hash, max_length, cache)
                                 for name, rows in splits.items()})


def _tokenize_split(rows: datasets.Dataset, tokenizer, tokenizer_hash: str | None, max_length: int, cache: bool):
    # datasets' own (private) hash of the rows' content and history; every supported datasets keeps one
    key = None if tokenizer_hash is None else Hasher.hash(
        ("tokenize_dataset/1", rows._fingerprint, tokenizer_hash, max_length))
    if cache and key in _tokenized_cache:
        _tokenized_cache.move_to_end(key)
        return _tokenized_cache[key].with_format(None)  # a new object, so set_format on it leaves the cache alone
    # Our own fingerprint spares datasets from pickling the tokenizer once more.
    tokenized = rows.map(lambda batch: encode_texts(tokenizer, batch["text"], max_length), batched=True,
                         remove_columns=["text"], new_fingerprint=key, desc="Tokenizing")
    if cache and key:
        _tokenized_cache[key] = tokenized
        while len(_tokenized_cache) > CACHED_SPLITS:
            _tokenized_cache.popitem(last=False)
    return tokenized.with_format(None)


def tokenize_texts(texts: list, tokenizer, max_length: int) -> datasets.Dataset:
    """Texts without labels (for predict), tokenized as `tokenize_dataset` does, without its cache or progress bar.

    Example: ["Stocks rally"] -> Dataset with input_ids, attention_mask and length, one row
    """
    return datasets.Dataset.from_dict(encode_texts(tokenizer, list(texts), max_length))


def encode_texts(tokenizer, texts: list, max_length: int) -> dict:
    """`input_ids` and `attention_mask` of each text, as `tokenizer(texts, truncation=True)` gives them, and `length`.

    A fast tokenizer's Rust encoder is called directly, without the character
    offsets transformers would compute and drop (about a quarter of the time on AG News).
    `length` is each text's token count, which length-grouped batching reads.
    Example (smoke tokenizer): ["Stocks rally"] -> {"input_ids": [[2, ..., 3]], "attention_mask": [[1, ..., 1]],
    "length": [4]}
    """
    if getattr(tokenizer, "is_fast", False):
        with _truncating(tokenizer.backend_tokenizer, max_length, tokenizer.truncation_side):
            encodings = tokenizer.backend_tokenizer.encode_batch_fast(texts, add_special_tokens=True)
        ids, mask = [e.ids for e in encodings], [e.attention_mask for e in encodings]
    else:
        encoded = tokenizer(texts, truncation=True, max_length=max_length, return_token_type_ids=False)
        ids, mask = encoded["input_ids"], encoded["attention_mask"]
    return {"input_ids": ids, "attention_mask": mask, "length": [len(row) for row in ids]}


@contextmanager
def _truncating(backend, max_length: int, side: str):
    """Set the Rust tokenizer to truncate and not pad, and put its settings back afterwards."""
    truncation, padding = backend.truncation, backend.padding
    backend.enable_truncation(max_length, direction=side)
    backend.no_padding()
    try:
        yield
    finally:
        if truncation is None:
            backend.no_truncation()
        else:
            backend.enable_truncation(**truncation)
        if padding is not None:
            backend.enable_padding(**padding)


def clear_tokenization_cache() -> None:
    """Forget every tokenized split kept in memory (tests and benchmarks time the cold path)."""
    _tokenized_cache.clear()


def token_length_summary(tokenized: datasets.Dataset, max_length: int) -> dict:
    """Token counts per text: mean, median, 95th percentile, max, and the share at max_length (cut, or just fitting).

    Example: {"mean": 54.1, "median": 52, "p95": 81, "max": 128, "truncated_share": 0.004}
    """
    lengths = np.asarray(tokenized["length"])
    return {"mean": round(float(lengths.mean()), 1), "median": int(np.median(lengths)),
            "p95": int(np.percentile(lengths, 95)), "max": int(lengths.max()),
            "truncated_share": round(float((lengths >= max_length).mean()), 4)}
