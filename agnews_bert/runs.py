"""Run folders: where a run's model, config and results live, and the runs index.

A run folder (`<output_dir>/<run_name>/`) holds:
- `config.json`: the RunConfig, so the run can be repeated;
- `results.json`: validation and test metrics, timing, versions, hardware;
- `model/`: the fine-tuned weights and tokenizer, ready for `predict`;
- `checkpoints/`: the last and the best epoch while training (removed at the end).

A folder with `results.json` is finished and is never overwritten unless the
user asks. JSON files are written to a temporary file and renamed into place,
so a disconnect mid-write leaves the old file, never half a file.

Example:
    >>> run_dir = prepare_run_dir(RunConfig.preset("smoke", output_dir="/tmp/runs"))
    >>> run_dir.name
    'smoke_nall_lr3e-03_ep6_seed42'
"""

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from .config import RunConfig
from .errors import AgNewsError

RESULTS_FILE = "results.json"
CONFIG_FILE = "config.json"
MODEL_DIR = "model"
CHECKPOINTS_DIR = "checkpoints"
INDEX_FILE = "runs.jsonl"


def run_dir_for(config: RunConfig) -> Path:
    """The folder a config's run writes to. Example: runs/modernbert-base_n12000_lr5e-05_ep2_seed42"""
    return Path(config.output_dir).expanduser() / config.resolved_run_name


def is_finished(run_dir: Path) -> bool:
    """A run is finished once its results.json exists."""
    return (Path(run_dir) / RESULTS_FILE).exists()


def refuse_finished_run(config: RunConfig) -> None:
    """Raise AgNewsError if the config's run folder holds a finished run and overwrite is off."""
    run_dir = run_dir_for(config)
    if is_finished(run_dir) and not config.overwrite:
        raise AgNewsError(
            f"run folder {run_dir} already holds a finished run; pass --overwrite (overwrite=True) to "
            "replace it, or another --run-name (run_name=...) to keep both"
        )


def prepare_run_dir(config: RunConfig) -> Path:
    """Create the run folder and write its config.json.

    A finished run is replaced only with config.overwrite (and leaves the runs
    index); an unfinished one is resumed only if its settings are the same.
    """
    refuse_finished_run(config)
    run_dir = run_dir_for(config)
    if is_finished(run_dir):
        shutil.rmtree(run_dir)
        remove_from_index(run_dir.parent, run_dir.name)
    elif run_dir.exists() and not config.resume:
        shutil.rmtree(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise AgNewsError(f"cannot create the run folder {run_dir} ({error.strerror}); choose another --output-dir") from error
    refuse_other_settings(run_dir, config)
    write_json_atomic(run_dir / CONFIG_FILE, json.loads(config.to_json()))
    return run_dir


SETTINGS_THAT_MAY_CHANGE = ("resume", "overwrite", "output_dir", "checkpoint_dir", "preset")


def refuse_other_settings(run_dir: Path, config: RunConfig) -> None:
    """Raise AgNewsError if an unfinished run in run_dir was started with other settings."""
    if not (run_dir / CONFIG_FILE).exists():
        return
    earlier = load_run_config(run_dir)
    changed = [name for name in sorted(json.loads(config.to_json()))
               if name not in SETTINGS_THAT_MAY_CHANGE and getattr(earlier, name) != getattr(config, name)]
    if changed:
        raise AgNewsError(
            f"{run_dir} holds an unfinished run with other settings ({', '.join(changed)}); pass --no-resume "
            "(resume=False) to start it over, or another --run-name (run_name=...) to keep it"
        )


def write_json_atomic(path: Path, payload) -> None:
    """Write JSON to a temporary file beside `path`, then rename it into place."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
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


def load_run_config(run_dir) -> RunConfig:
    """The RunConfig a run was trained with, from its config.json."""
    return RunConfig.from_json(json.dumps(read_json(Path(run_dir).expanduser() / CONFIG_FILE)))


def load_results(run_dir) -> dict:
    """The results.json of a finished run."""
    return read_json(Path(run_dir) / RESULTS_FILE)


def append_to_index(output_dir: Path, row: dict) -> None:
    """Add one finished run to the output folder's runs index (one JSON object per line)."""
    rows = [kept for kept in read_index(output_dir) if kept.get("run_name") != row["run_name"]]
    _write_index(Path(output_dir), rows + [row])


def remove_from_index(output_dir: Path, run_name: str) -> None:
    """Drop a run's row from the runs index (its folder is being replaced)."""
    rows = read_index(output_dir)
    if any(row.get("run_name") == run_name for row in rows):
        _write_index(Path(output_dir), [row for row in rows if row.get("run_name") != run_name])


def read_index(output_dir) -> list:
    """The rows of the runs index, oldest first; [] when no run has finished. Damaged lines are skipped."""
    index = Path(output_dir).expanduser() / INDEX_FILE
    if not index.exists():
        return []
    rows = []
    for number, line in enumerate(index.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            warnings.warn(f"{index} line {number} is damaged and was skipped", stacklevel=2)
    return rows


def _write_index(output_dir: Path, rows: list) -> None:
    text = "".join(json.dumps(row, sort_keys=True, default=str) + "\n" for row in rows)
    handle, temporary = tempfile.mkstemp(dir=output_dir, prefix=f".{INDEX_FILE}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, output_dir / INDEX_FILE)


def runs_table(output_dir="runs"):
    """Every finished run under output_dir as a DataFrame, best test macro-F1 first."""
    import pandas as pd

    rows = read_index(output_dir)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.sort_values("test_macro_f1", ascending=False, na_position="last").reset_index(drop=True)
