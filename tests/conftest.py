"""Shared fixtures: offline settings, small local data files, and one smoke run reused by many tests."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

import agnews_bert as ab  # noqa: E402


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """One finished smoke run (trained once per test session), with its results."""
    output_dir = tmp_path_factory.mktemp("runs")
    results = ab.train(ab.RunConfig.preset("smoke", output_dir=str(output_dir)), say=lambda *_: None)
    return results


def write_original_csv(path, rows):
    """Write rows of (class 1-4, title, description) in the original AG News format."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as stream:
        csv.writer(stream, quoting=csv.QUOTE_ALL).writerows(rows)
    return path


def balanced_original_rows(per_class: int, prefix: str = "item"):
    """Distinct made-up rows, per_class of each class 1-4."""
    return [
        (str(label), f"{prefix} {label} title {index}", f"{prefix} description {index} for class {label}")
        for label in (1, 2, 3, 4)
        for index in range(per_class)
    ]
