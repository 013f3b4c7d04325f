"""Saving a finished run, and finding the checkpoint to resume from.

Example:
    >>> latest_checkpoint(Path("runs/my-run/checkpoints"))  # doctest: +SKIP
    PosixPath('runs/my-run/checkpoints/checkpoint-26')
"""

import platform
import shutil
from pathlib import Path

from . import __version__
from .config import RunConfig
from .runs import CHECKPOINTS_DIR, CONFIG_FILE, MODEL_DIR, RESULTS_FILE, append_to_index, write_json_atomic

CHECKPOINT_PREFIX = "checkpoint-"
TRAINER_STATE_FILE = "trainer_state.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def latest_checkpoint(checkpoints_dir: Path) -> Path | None:
    """The newest complete checkpoint folder; one cut off mid-write is skipped.

    Complete means its trainer state and weights are there and the state file parses.
    """
    if not Path(checkpoints_dir).is_dir():
        return None
    candidates = [path for path in Path(checkpoints_dir).glob(f"{CHECKPOINT_PREFIX}*") if _step_of(path) is not None]
    for checkpoint in sorted(candidates, key=_step_of, reverse=True):
        if is_complete_checkpoint(checkpoint):
            return checkpoint
    return None


def is_complete_checkpoint(checkpoint: Path) -> bool:
    """True when the folder holds readable trainer state and non-empty weights."""
    import json

    state = checkpoint / TRAINER_STATE_FILE
    weights = [checkpoint / name for name in WEIGHT_FILES if (checkpoint / name).exists()]
    if not state.exists() or not weights or weights[0].stat().st_size == 0:
        return False
    try:
        json.loads(state.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return False
    return True


def save_run(trainer, run_dir: Path, config: RunConfig, results: dict) -> None:
    """Write model/, config.json and results.json, add the run to the index, drop checkpoints."""
    run_dir = Path(run_dir)
    trainer.save_model(str(run_dir / MODEL_DIR))
    results["run_dir"] = str(run_dir)
    results["versions"] = library_versions()
    write_json_atomic(run_dir / CONFIG_FILE, _config_dict(config))
    write_json_atomic(run_dir / RESULTS_FILE, results)
    append_to_index(run_dir.parent, index_row(config, results))
    shutil.rmtree(run_dir / CHECKPOINTS_DIR, ignore_errors=True)


def index_row(config: RunConfig, results: dict) -> dict:
    """The one-line summary of a run that the runs table shows."""
    return {
        "run_name": results["run_name"],
        "model": config.model,
        "train_rows": results["data"]["train"]["rows"],
        "epochs": config.epochs,
        "lr": config.learning_rate,
        "batch_size": config.batch_size,
        "max_length": config.max_length,
        "seed": config.seed,
        "precision": results["hardware"]["precision"],
        "device": results["hardware"]["name"],
        "train_seconds": results["timing"]["train_seconds"],
        "validation_macro_f1": results["validation"].get("macro_f1"),
        "test_accuracy": results["test"]["accuracy"],
        "test_macro_f1": results["test"]["macro_f1"],
    }


def library_versions() -> dict:
    """Versions of Python and the libraries that shape a run's numbers."""
    import datasets
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
        "agnews_bert": __version__,
    }


def _config_dict(config: RunConfig) -> dict:
    import json

    return json.loads(config.to_json())


def _step_of(path: Path) -> int | None:
    suffix = path.name.removeprefix(CHECKPOINT_PREFIX)
    return int(suffix) if suffix.isdigit() else None
