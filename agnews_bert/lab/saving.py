"""Saving a finished run: the model and its card, config.json, results.json and a row in the runs index.

results.json is written after the model, so a run folder with results.json is
always complete; its checkpoints are removed only after that.

"""

import importlib
import json
import logging
import platform
import shutil
import warnings
from pathlib import Path

from .checkpoints import checkpoints_dir_for, remove_without_trash
from .lock import release_run_lock
from .model_card import write_model_card
from ..config import RunConfig
from ..errors import AgNewsError, setting
from .folders import (CHECKPOINTS_DIR, CONFIG_FILE, MODEL_DIR, RESULTS_FILE, append_to_index, is_finished,
                   load_results, package_version, replaced_dir_for, write_json_atomic)

log = logging.getLogger(__name__)


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
        if is_finished(run_dir):
            log.info(f"{run_dir} is already saved (a finished run with these settings); nothing to write.")
            return load_results(run_dir)
        try:
            return _write_run(trainer, run_dir, config, results)
        except OSError as error:
            if not config.checkpoint_dir:  # not on a network disk: no better place to fall back to
                raise AgNewsError(f"cannot save the run in {run_dir} ({error.strerror or error}); free some disk "
                                  f"space, or choose another {setting('output_dir')}", field="output_dir") from error
            local = Path(config.checkpoint_dir).expanduser() / "saved_runs" / run_dir.name
            log.warning(f"Warning: could not save the run in {run_dir} ({error.strerror or error}); is Google "
                        f"Drive full? It is saved on this runtime instead, in {local}, which is lost when the runtime "
                        f"ends. Free space on Drive (and empty its trash), then copy it there: !cp -r {local} "
                        f"{run_dir.parent}/")
            remove_without_trash(run_dir / MODEL_DIR)
            return _write_run(trainer, local, config, results)
    finally:
        release_run_lock(run_dir)  # taken by prepare_run_dir: the run folder is free for the next run


def _write_run(trainer, run_dir: Path, config: RunConfig, results: dict) -> dict:
    from ..notebook.plots import save_run_plots

    trainer.save_model(str(run_dir / MODEL_DIR))
    results = {**results, "run_dir": str(run_dir), "versions": library_versions()}
    write_json_atomic(run_dir / CONFIG_FILE, json.loads(config.to_json()))
    # model/README.md before results.json, so a finished run has its card; neither it nor the plots may lose the run
    _warning_on_error("the model card", run_dir, write_model_card, run_dir, config, results)
    plots = _warning_on_error("the plots", run_dir, save_run_plots, run_dir, results) or []
    results["plots"] = [path.name for path in plots]
    write_json_atomic(run_dir / RESULTS_FILE, results)
    append_to_index(run_dir.parent, index_row(config, results))
    remove_without_trash(run_dir / CHECKPOINTS_DIR)
    remove_without_trash(replaced_dir_for(run_dir))  # the finished run that overwrite=True replaced
    shutil.rmtree(checkpoints_dir_for(config, run_dir), ignore_errors=True)
    return results


def _warning_on_error(what: str, run_dir: Path, write, *args):
    """write(*args), but an error in it warns instead of losing a run that has trained; None then."""
    try:
        return write(*args)
    except Exception as error:
        warnings.warn(f"could not write {what} of {run_dir.name}: {error}", stacklevel=3)
        return None


def index_row(config: RunConfig, results: dict) -> dict:
    """The one-line summary of a run that the runs table shows: the settings that ran and the scores."""
    settings = ("model", "method", "epochs", "batch_size", "gradient_accumulation_steps", "max_length",
                "warmup_ratio", "weight_decay", "seed")
    timing = ("train_seconds", "train_samples_per_second", "peak_gpu_memory_gb")
    return {
        "run_name": results["run_name"],
        **{name: getattr(config, name) for name in settings},
        "lr": config.learning_rate,
        **{f"{kind}_parameters": results["parameters"].get(kind) for kind in ("trainable", "total")},
        "train_rows": results["data"]["train"]["rows"],
        "validation_rows": results["data"]["validation"]["rows"],
        "test_rows": results["test"]["rows"],
        "precision": results["hardware"]["precision"],
        "device": results["hardware"]["name"],
        **{name: results["timing"].get(name) for name in timing},
        **{f"{split}_{score}": results[split].get(score) for split in ("validation", "test")
           for score in ("accuracy", "macro_f1")},
    }


def library_versions() -> dict:
    """Versions of Python and the libraries that shape a run's numbers."""
    versions = {name: importlib.import_module(name).__version__ for name in ("torch", "transformers", "datasets")}
    return {"python": platform.python_version(), **versions, "agnews_bert": package_version()}
