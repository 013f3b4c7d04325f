"""Tokenizing AG News: the seed's `map(batch_size=4)` against the package's `tokenize_dataset`.

Both tokenize the same texts (120,000 by default: the size of AG News'
training split) with the same tokenizer and max_length. The package's row is
timed cold (its in-memory cache emptied first); `package_rerun_seconds` is a
second call with the same data, as when a notebook cell runs again.

    python benchmarks/preprocess_speed.py                        # 120,000 texts from the smoke sample
    python benchmarks/preprocess_speed.py --data ag_news.csv     # texts from a real AG News CSV
    python benchmarks/preprocess_speed.py --texts 2000           # a quick check
"""

import argparse
import time

import common
import datasets
import seed_recipe

import agnews_bert as ab
from agnews_bert.tokenization import clear_tokenization_cache


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=120_000, help="texts to tokenize (default: 120000)")
    parser.add_argument("--data", help="an original-format AG News CSV to take texts from (default: the smoke sample)")
    parser.add_argument("--tokenizer", default=common.default_tokenizer(),
                        help="tokenizer folder or 'smoke' (default: MiniLM's if installed, else smoke)")
    parser.add_argument("--max-length", type=int, default=128, help="tokens kept per text (default: 128)")
    return parser.parse_args(argv)


def timed(function):
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def row(seconds: float, texts: int, tokenized: datasets.DatasetDict) -> dict:
    tokens = sum(tokenized["train"]["length"]) if "length" in tokenized["train"].column_names else None
    return {"seconds": round(seconds, 3), "texts_per_second": round(texts / seconds), "tokens": tokens}


def main(argv=None) -> dict:
    arguments = parse_arguments(argv)
    datasets.disable_progress_bars()
    tokenizer = ab.load_tokenizer(arguments.tokenizer)
    texts = common.agnews_length_texts(arguments.texts, arguments.data)
    splits = datasets.DatasetDict(train=datasets.Dataset.from_dict({"text": texts, "label": [0] * len(texts)}))

    seed_seconds, _ = timed(lambda: seed_recipe.seed_tokenize(splits, tokenizer, arguments.max_length))
    clear_tokenization_cache()
    package_seconds, tokenized = timed(lambda: ab.tokenize_dataset(splits, tokenizer, arguments.max_length))
    rerun_seconds, _ = timed(lambda: ab.tokenize_dataset(splits, tokenizer, arguments.max_length))

    seed = row(seed_seconds, len(texts), tokenized)  # same tokens: both truncate to max_length
    package = {**row(package_seconds, len(texts), tokenized), "rerun_seconds": round(rerun_seconds, 3)}
    settings = {"texts": len(texts), "mean_characters": round(sum(map(len, texts)) / len(texts)),
                "source": arguments.data or "smoke sample, lengthened to AG News length",
                "tokenizer": arguments.tokenizer, "max_length": arguments.max_length}
    speedup = round(seed["seconds"] / package["seconds"], 2)
    result = common.summary("preprocess_speed", settings, seed, package, speedup)
    result["ratios"]["rerun_speedup"] = round(seed["seconds"] / max(package["rerun_seconds"], 0.001), 1)
    common.print_json(result)
    return result


if __name__ == "__main__":
    main()
