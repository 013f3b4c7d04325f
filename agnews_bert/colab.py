"""Notebook set-up: smoke mode, Colab or not, where runs are saved, and what GPU we have.

The notebooks' set-up cells call these helpers, so the Colab-only parts stay
out of the notebooks and are tested here with a fake `google.colab` module.

- Colab is detected with the cheap test `"google.colab" in sys.modules`
  (the module is imported by every Colab kernel and by no other).
- On Colab, runs go to Google Drive, `/content/drive/MyDrive/agnews_bert/<run-name>`,
  so they outlive the runtime. Anywhere else, or when mounting Drive fails,
  runs go to a local `runs/` folder and the student is told so, because a
  Colab runtime's local disk is wiped when it disconnects.
- Smoke mode (`AGNEWS_BERT_SMOKE=1`, set by `notebooks/conftest.py` for CI)
  switches every notebook to the `smoke` preset: offline, CPU, seconds.
  `AGNEWS_BERT_RUNS_DIR` replaces the local `runs/` folder (CI points it at a
  temporary folder, so test runs leave nothing in the working tree).

Example:
    >>> output_dir(say=print)  # on a laptop
    Note: not on Colab, so runs are saved in the local folder runs/ (...).
    'runs'
"""

import os
import sys
from pathlib import Path

from .config import SMOKE, RunConfig
from .errors import AgNewsError
from .hardware import choose_attention, choose_precision, describe_choice, detect_hardware
from .runs import is_finished, runs_table

SMOKE_ENV = "AGNEWS_BERT_SMOKE"
RUNS_DIR_ENV = "AGNEWS_BERT_RUNS_DIR"
DRIVE_MOUNT_POINT = "/content/drive"
DRIVE_RUNS_DIR = "/content/drive/MyDrive/agnews_bert"
LOCAL_RUNS_DIR = "runs"
LOCAL_CHECKPOINTS_DIR = "/content/checkpoints"  # the Colab runtime's fast local disk
SWITCH_RUNTIME_HINT = "Runtime > Change runtime type > T4 GPU > Save, then run all cells again"


def in_colab() -> bool:
    """True inside a Google Colab kernel."""
    return "google.colab" in sys.modules


def smoke_mode() -> bool:
    """True when AGNEWS_BERT_SMOKE is set to anything but '' or '0' (CI runs the notebooks so)."""
    return os.environ.get(SMOKE_ENV, "").strip() not in ("", "0")


def notebook_preset(default: str = "colab") -> str:
    """The preset a notebook starts from: "smoke" in smoke mode, else `default`."""
    return SMOKE if smoke_mode() else default


def mount_drive(mount_point: str = DRIVE_MOUNT_POINT) -> None:
    """Mount Google Drive (Colab asks the student to allow access). Raises if it cannot."""
    from google.colab import drive

    drive.mount(mount_point)


def output_dir(local_dir: str | None = None, say=print) -> str:
    """The folder that run folders go in: Drive on Colab, else a local one, with a note saying which.

    The local folder is `local_dir`, else $AGNEWS_BERT_RUNS_DIR, else "runs".
    Example on Colab: "/content/drive/MyDrive/agnews_bert" (a run then lives in
    /content/drive/MyDrive/agnews_bert/<run-name>).
    """
    local_dir = local_dir or os.environ.get(RUNS_DIR_ENV) or LOCAL_RUNS_DIR
    if not in_colab():
        say(f"Note: not on Colab, so runs are saved in the local folder {local_dir}/ ({Path(local_dir).resolve()}).")
        return local_dir
    try:
        mount_drive()
    except Exception as error:  # Colab raises several types: refused access, timeout, quota
        say(
            f"Note: Google Drive could not be mounted ({error}). Runs are saved in {local_dir}/ on this "
            "runtime and are LOST when it disconnects: download them, or run this cell again to retry Drive."
        )
        return local_dir
    say(f"Google Drive is mounted: runs are saved in {DRIVE_RUNS_DIR}/<run-name>.")
    return DRIVE_RUNS_DIR


def runtime_report(hardware=None, precision: str = "auto", attention: str = "auto") -> str:
    """One line on the GPU and the precision training will use, or how to get a GPU.

    Example: "GPU found: Tesla T4 (cuda, compute 7.5): fp16 mixed precision, sdpa attention"
    """
    hardware = hardware or detect_hardware()
    choice = describe_choice(hardware, choose_precision(precision, hardware), choose_attention(attention, hardware, precision))
    if hardware.device == "cuda":
        return f"GPU found: {choice}"
    return (
        f"No GPU found, so training runs on the CPU: {choice}. That is fine for the smoke preset, "
        f"but far too slow for ModernBERT-base. On Colab: {SWITCH_RUNTIME_HINT}."
    )


def notebook_config(output_dir: str, preset: str = "colab", **overrides) -> RunConfig:
    """The RunConfig a notebook starts from: `preset` (or "smoke" in smoke mode), saving under output_dir.

    On Drive, checkpoints are written to the runtime's local disk and mirrored to
    Drive (see checkpoints.py). In smoke mode a finished run is overwritten, so
    the notebooks can run again and again in CI.
    Example (smoke mode): notebook_config("runs").model -> "smoke"
    """
    settings = {"output_dir": str(output_dir), "overwrite": smoke_mode() or None}
    if str(output_dir) == DRIVE_RUNS_DIR:
        settings["checkpoint_dir"] = LOCAL_CHECKPOINTS_DIR
    return RunConfig.preset(notebook_preset(preset), **{**settings, **overrides})


def find_run(output_dir: str, run_name: str = "") -> Path:
    """A finished run folder: `run_name` in output_dir, or the best run there (highest test macro-F1)."""
    if run_name:
        run_dir = Path(output_dir) / run_name
        if not is_finished(run_dir):
            raise AgNewsError(f"{run_dir} is not a finished run; pick a run_name from ab.runs_table({output_dir!r})")
        return run_dir
    table = runs_table(output_dir)
    if table.empty:
        raise AgNewsError(f"no finished run in {output_dir}/; train one with notebook 01 first")
    return Path(output_dir) / table["run_name"][0]
