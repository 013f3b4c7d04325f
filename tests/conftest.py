"""Shared fixtures: offline settings, small local data files, and one smoke run reused by many tests."""

import atexit
import os
import shutil
import tempfile

# Nothing reaches the network, whatever the shell says (HF_HUB_OFFLINE=0 included), and
# no test sees what this machine's Hugging Face cache holds: a test that expects "the Hub
# cannot be reached" must not find the model cached instead. Set before any HF import.
for variable in [name for name in os.environ if name.startswith(("HF_", "HUGGINGFACE_", "TRANSFORMERS_"))]:
    del os.environ[variable]
os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                  HF_HOME=tempfile.mkdtemp(prefix="agnews_bert_test_hf_home_"))
atexit.register(shutil.rmtree, os.environ["HF_HOME"], ignore_errors=True)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

import agnews_bert as ab  # noqa: E402

# CI must not turn red on a new random example: with CI set, hypothesis draws the same
# examples every run and keeps no example database. Elsewhere it explores, and a failure
# prints the blob that replays it (@reproduce_failure).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "explore")


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """One finished smoke run (trained once per test session), with its results."""
    output_dir = tmp_path_factory.mktemp("runs")
    results = ab.train(ab.RunConfig.from_preset("smoke", output_dir=str(output_dir)))
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


def out_of_memory_above(batch_size_limit: int):
    """A Trainer.training_step that raises CUDA's out-of-memory error above a per-device batch size."""
    import torch
    import transformers

    real_training_step = transformers.Trainer.training_step

    def training_step(self, *args, **kwargs):
        if self.args.per_device_train_batch_size > batch_size_limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_training_step(self, *args, **kwargs)

    return training_step
