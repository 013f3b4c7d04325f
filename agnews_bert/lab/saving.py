"""Saving a finished run: the model and its card, config.json, results.json and a row in the runs index.

results.json is written after the model, so a run folder with results.json is
always complete; its checkpoints are removed only after that.

Example:
    >>> save_run(trainer, Path("runs/my-run"), config, results)  # doctest: +SKIP
"""

import json
import platform
import shutil
from pathlib import Path

from .checkpoints import checkpoints_dir_for, remove_without_trash
from .lock import release_run_lock
from .model_card import save_model_card
from ..config import RunConfig
from ..errors import AgNewsError
from .folders import (CHECKPOINTS_DIR, CONFIG_FILE, MODEL_DIR, RESULTS_FILE, append_to_index, is_finished,
                   load_results, package_version, replaced_dir_for, write_json_atomic)


def save_run(trainer, run_dir: Path, config: RunConfig, results: dict) -> dict:
    """Write model/, config.json and results.json, add the run to the index, drop checkpoints.

    `config` is the one that trained (after an out-of-memory retry, with its smaller
    batch), so config.json, results.json and the index agree. Returns the results
    as saved: a new dict, with run_dir, versions and plots added.
    A run folder that is already finished (a notebook loaded it instead of
    training) is left as it is. The run folder's lock is released at the end.
    """
    run_dir = Path(run_dir)
    try:
        return _save_or_fall_back(trainer, run_dir, config, results)
    finally:
        release_run_lock(run_dir)  # taken by prepare_run_dir: the run folder is free for the next run


def _save_or_fall_back(trainer, run_dir: Path, config: RunConfig, results: dict) -> dict:
    if is_finished(run_dir):
        print(f"{run_dir} is already saved (a finished run with these settings); nothing to write.")
        return load_results(run_dir)
    try:
        return _write_run(trainer, run_dir, config, results)
    except OSError as error:
        if not config.checkpoint_dir:  # not on a network disk: no better place to fall back to
            raise AgNewsError(f"cannot save the run in {run_dir} ({error.strerror or error}); free some disk "
                              "space, or choose another output_dir=...") from error
        local = Path(config.checkpoint_dir).expanduser() / "saved_runs" / run_dir.name
        print(f"Warning: could not save the run in {run_dir} ({error.strerror or error}); is Google Drive full? "
              f"It is saved on this runtime instead, in {local}, which is lost when the runtime ends. Free space "
              f"on Drive (and empty its trash), then copy it there: !cp -r {local} {run_dir.parent}/")
        remove_without_trash(run_dir / MODEL_DIR)
        return _write_run(trainer, local, config, results)


def _write_run(trainer, run_dir: Path, config: RunConfig, results: dict) -> dict:
    trainer.save_model(str(run_dir / MODEL_DIR))
    results = {**results, "run_dir": str(run_dir), "versions": library_versions()}
    write_json_atomic(run_dir / CONFIG_FILE, json.loads(config.to_json()))
    save_model_card(run_dir, config, results)  # model/README.md: before results.json, so a finished run has it
    results["plots"] = _save_plots(run_dir, results)
    write_json_atomic(run_dir / RESULTS_FILE, results)
    append_to_index(run_dir.parent, index_row(config, results))
    remove_without_trash(run_dir / CHECKPOINTS_DIR)
    remove_without_trash(replaced_dir_for(run_dir))  # the finished run that overwrite=True replaced
    shutil.rmtree(checkpoints_dir_for(config, run_dir), ignore_errors=True)
    return results


def index_row(config: RunConfig, results: dict) -> dict:
    """The one-line summary of a run that the runs table shows."""
    return {
        "run_name": results["run_name"],
        "model": config.model,
        "method": config.method,
        "trainable_parameters": results["parameters"].get("trainable"),
        "total_parameters": results["parameters"].get("total"),
        "train_rows": results["data"]["train"]["rows"],
        "validation_rows": results["data"]["validation"]["rows"],
        "test_rows": results["test"]["rows"],
        "epochs": config.epochs,
        "lr": config.learning_rate,
        "batch_size": config.batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
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
        "agnews_bert": package_version(),
    }


def _save_plots(run_dir: Path, results: dict) -> list:
    """The run's PNG plots (names in the run folder); a plotting error warns instead of losing the run."""
    import warnings

    from ..notebook.plots import save_run_plots

    try:
        return [path.name for path in save_run_plots(run_dir, results)]
    except Exception as error:
        warnings.warn(f"could not draw the plots of {run_dir.name}: {error}", stacklevel=2)
        return []
