"""Run folders: where a run's model, config and results live, and the runs index.

A run folder (`<output_dir>/<run_name>/`) holds:
- `config.json`: the RunConfig, so the run can be repeated;
- `results.json`: validation and test metrics, timing, versions, hardware;
- `model/`: the fine-tuned weights and tokenizer, ready for `predict`;
- `checkpoints/`: the last and the best epoch while training (removed at the end).

A folder with `results.json` is finished and is never overwritten unless the
user asks (`overwrite=True`); a notebook reuses it, the command line refuses.
One run writes a folder at a time: `prepare_run_dir` takes its lock (lock.py)
and `save_run` lets go of it.
JSON files are written to a temporary file and renamed into place,
so a disconnect mid-write leaves the old file, never half a file.

Example:
    >>> import tempfile
    >>> run_dir = prepare_run_dir(RunConfig.from_preset("smoke", output_dir=tempfile.mkdtemp()))
    >>> run_dir.name[:29], sorted(path.name for path in run_dir.iterdir()), is_finished(run_dir)
    ('smoke_nall_lr3e-03_ep6_seed42', ['config.json'], False)
    >>> release_run_lock(run_dir)
"""

import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from ..config import RunConfig
from ..errors import AgNewsError, setting
from .lock import acquire_run_lock, release_run_lock

RESULTS_FILE = "results.json"
CONFIG_FILE = "config.json"
MODEL_DIR = "model"
CHECKPOINTS_DIR = "checkpoints"
INDEX_FILE = "runs.jsonl"
log = logging.getLogger(__name__)


def is_main_process() -> bool:
    """False in the worker processes of a distributed run (torchrun and accelerate set RANK): only rank 0 writes."""
    return int(os.environ.get("RANK", "0")) == 0


def package_version() -> str:
    """This package's version, read without importing torch. Example: "0.1.0" """
    from .. import __version__

    return __version__


def run_dir_for(config: RunConfig) -> Path:
    """The folder a config's run writes to. Example: runs/modernbert-base_n12000_lr5e-05_ep2_seed42"""
    return Path(config.output_dir).expanduser() / config.resolved_run_name


def is_finished(run_dir: Path) -> bool:
    """A run is finished once its results.json exists."""
    return (Path(run_dir) / RESULTS_FILE).exists()


def refuse_finished_run(config: RunConfig) -> None:
    """Raise AgNewsError if the config's run folder holds a finished run and overwrite is off.

    `train` (and so the command line) calls this first: retraining a finished run
    has to be asked for. A notebook instead keeps the finished run and loads it.
    """
    run_dir = run_dir_for(config)
    if is_finished(run_dir) and not config.overwrite:
        raise AgNewsError(
            f"run folder {run_dir} already holds a finished run with these settings; pass "
            f"{setting('overwrite', True)} to train it again, or {setting('run_name')} to keep both", field="overwrite")


def prepare_run_dir(config: RunConfig) -> Path:
    """The run folder for a config, created with its config.json; a finished one is kept as it is.

    A finished run with the same settings is reused (a line tells so) unless
    config.overwrite, which sets it aside until the new run is saved (`save_run`
    then removes it; `restore_replaced_run` puts it back after a failure).
    An unfinished one is resumed only if its settings are the same.
    The run folder's lock (see lock.py) is taken first, so nothing here removes
    the checkpoints of a run that is still alive; `save_run` lets go of it.
    """
    run_dir = run_dir_for(config)
    check_output_dir(config)
    acquire_run_lock(run_dir)
    if is_finished(run_dir) and not config.overwrite:
        release_run_lock(run_dir)  # nothing will be written: the next cells only read the finished run
        log.info(f"Already trained with these settings: {run_dir} holds the finished run, so the next cells load "
                 "its model and results instead of training. To train it again, tick 'train again' in the form "
                 f"({setting('overwrite', True)}); to keep both, change a setting.")
        return run_dir
    if is_finished(run_dir):  # overwrite: set aside until the new run is saved, so a failure loses nothing
        shutil.rmtree(replaced_dir_for(run_dir), ignore_errors=True)
        run_dir.rename(replaced_dir_for(run_dir))
    elif run_dir.exists() and not config.resume:
        shutil.rmtree(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise AgNewsError(f"cannot create the run folder {run_dir} ({error.strerror}); choose another "
                          f"{setting('output_dir')}", field="output_dir") from error
    refuse_other_settings(run_dir, config)
    write_json_atomic(run_dir / CONFIG_FILE, json.loads(config.to_json()))
    return run_dir


def check_output_dir(config: RunConfig) -> None:
    """Raise AgNewsError if output_dir (or a folder above it) is a file, before any work starts."""
    folder = Path(config.output_dir).expanduser()
    nearest = next(part for part in (folder, *folder.parents) if part.exists())  # at worst "/" or "."
    if not nearest.is_dir():
        raise AgNewsError(f"{setting('output_dir', config.output_dir)} cannot hold run folders: {nearest} is a "
                          f"file; choose another {setting('output_dir')}", field="output_dir")


def replaced_dir_for(run_dir: Path) -> Path:
    """Where a finished run waits while overwrite=True trains its replacement. Example: runs/.a.replaced"""
    return Path(run_dir).parent / f".{Path(run_dir).name}.replaced"


def restore_replaced_run(run_dir: Path) -> None:
    """Put back the finished run that a failed overwrite set aside (its new run never finished)."""
    previous = replaced_dir_for(run_dir)
    if previous.is_dir() and not is_finished(run_dir):
        shutil.rmtree(run_dir, ignore_errors=True)
        previous.rename(run_dir)


def refuse_other_settings(run_dir: Path, config: RunConfig) -> None:
    """Raise AgNewsError if an unfinished run in run_dir was started with other settings.

    Only a run_name given by hand can meet this: a built name changes with the settings.
    """
    if not (run_dir / CONFIG_FILE).exists():
        return
    earlier = load_run_config(run_dir).identity
    changed = [name for name, value in config.identity.items() if earlier.get(name) != value]
    if changed:
        raise AgNewsError(
            f"{run_dir} holds an unfinished run with other settings ({', '.join(changed)}); pass "
            f"{setting('resume', False)} to start it over, or another {setting('run_name')} to keep it", field="resume")


def write_json_atomic(path: Path, payload, json_lines: bool = False) -> None:
    """Write JSON to a temporary file beside `path`, then rename it into place.

    With json_lines, `payload` is a list written one JSON object per line (the runs index).
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            if json_lines:
                stream.writelines(json.dumps(row, sort_keys=True, default=str) + "\n" for row in payload)
            else:
                json.dump(payload, stream, indent=2, sort_keys=True, default=str)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict:
    """Read a JSON file written by this package, with a clear error if it is missing or damaged."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise AgNewsError(f"{path} does not exist; is this a finished run folder?") from error
    except json.JSONDecodeError as error:
        raise AgNewsError(f"{path} is damaged ({error.msg}); rerun training for this run") from error


def json_or_none(path) -> dict | None:
    """A JSON file's content, or None when it is missing or cut off (a checkpoint's state, a lock's owner note)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_run_config(run_dir) -> RunConfig:
    """The RunConfig a run was trained with, from its config.json."""
    return RunConfig.from_json(json.dumps(read_json(Path(run_dir).expanduser() / CONFIG_FILE)))


def load_results(run_dir) -> dict:
    """The results.json of a finished run."""
    return read_json(Path(run_dir) / RESULTS_FILE)


def append_to_index(output_dir: Path, row: dict) -> None:
    """Add one finished run to the output folder's runs index (one JSON object per line)."""
    rows = [kept for kept in read_index(output_dir) if kept.get("run_name") != row["run_name"]]
    write_json_atomic(Path(output_dir) / INDEX_FILE, rows + [row], json_lines=True)


def read_index(output_dir) -> list:
    """The rows of the runs index, oldest first; [] when no run has finished. Damaged lines are skipped."""
    index = Path(output_dir).expanduser() / INDEX_FILE
    lines = index.read_text(encoding="utf-8").splitlines() if index.exists() else []
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            warnings.warn(f"{index} line {number} is damaged and was skipped", stacklevel=2)
    return rows


def runs_table(output_dir="runs"):
    """Every finished run under output_dir as a DataFrame, best test macro-F1 first."""
    import pandas as pd

    table = pd.DataFrame(read_index(output_dir))
    return table if table.empty else (  # an empty table has no column to sort by
        table.sort_values("test_macro_f1", ascending=False, na_position="last").reset_index(drop=True))
