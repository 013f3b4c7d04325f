"""Saving a finished run: the model, config.json, results.json and a row in the runs index.

results.json is written after the model, so a run folder with results.json is
always complete; its checkpoints are removed only after that.

Example:
    >>> save_run(trainer, Path("runs/my-run"), config, results)  # doctest: +SKIP
"""

import platform
import shutil
from pathlib import Path

from . import __version__
from .checkpoints import checkpoints_dir_for, remove_without_trash
from .config import RunConfig
from .runs import CHECKPOINTS_DIR, CONFIG_FILE, MODEL_DIR, RESULTS_FILE, append_to_index, write_json_atomic

def save_run(trainer, run_dir: Path, config: RunConfig, results: dict) -> None:
    """Write model/, config.json and results.json, add the run to the index, drop checkpoints."""
    run_dir = Path(run_dir)
    trainer.save_model(str(run_dir / MODEL_DIR))
    results["run_dir"] = str(run_dir)
    results["versions"] = library_versions()
    write_json_atomic(run_dir / CONFIG_FILE, _config_dict(config))
    results["plots"] = _save_plots(run_dir, results)
    write_json_atomic(run_dir / RESULTS_FILE, results)
    append_to_index(run_dir.parent, index_row(config, results))
    remove_without_trash(run_dir / CHECKPOINTS_DIR)
    shutil.rmtree(checkpoints_dir_for(config, run_dir), ignore_errors=True)


def index_row(config: RunConfig, results: dict) -> dict:
    """The one-line summary of a run that the runs table shows."""
    return {
        "run_name": results["run_name"],
        "model": config.model,
        "train_rows": results["data"]["train"]["rows"],
        "validation_rows": results["data"]["validation"]["rows"],
        "test_rows": results["test"]["rows"],
        "epochs": config.epochs,
        "lr": config.learning_rate,
        "batch_size": config.batch_size,
        "max_length": config.max_length,
        "warmup_ratio": config.warmup_ratio,
        "weight_decay": config.weight_decay,
        "seed": config.seed,
        "precision": results["hardware"]["precision"],
        "device": results["hardware"]["name"],
        "train_seconds": results["timing"]["train_seconds"],
        "train_samples_per_second": results["timing"].get("train_samples_per_second"),
        "peak_gpu_memory_gb": results["timing"].get("peak_gpu_memory_gb"),
        "validation_accuracy": results["validation"].get("accuracy"),
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


def _save_plots(run_dir: Path, results: dict) -> list:
    """The run's PNG plots (names in the run folder); a plotting error warns instead of losing the run."""
    import warnings

    from .plots import save_run_plots

    try:
        return [path.name for path in save_run_plots(run_dir, results)]
    except Exception as error:  # noqa: BLE001 - the trained model matters more than its pictures
        warnings.warn(f"could not draw the plots of {run_dir.name}: {error}", stacklevel=2)
        return []


def _config_dict(config: RunConfig) -> dict:
    import json

    return json.loads(config.to_json())
