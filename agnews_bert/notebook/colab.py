"""Notebook set-up: Colab or not, where runs are saved, and what GPU we have.

The notebooks' set-up cells call these helpers, so the Colab-only parts stay
out of the notebooks and are tested here with a fake `google.colab` module.

- Colab is detected with the cheap test `"google.colab" in sys.modules`
  (the module is imported by every Colab kernel and by no other).
- On Colab, runs go to Google Drive, `/content/drive/MyDrive/agnews_bert/<run-name>`,
  so they outlive the runtime. Anywhere else, or when mounting Drive fails,
  runs go to a local `runs/` folder and the student is told so, because a
  Colab runtime's local disk is wiped when it disconnects. Each way Drive is
  known to fail on Colab gets its own one-line advice (`drive_failure`), and
  `download_run` then offers a local run as a zip download.
- `environment_check` is what the set-up cells print: versions, the runtime,
  how to pin an earlier Colab runtime, and a warning with its fix for each
  known-bad combination (flash_attn on a T4, old transformers or datasets,
  ipywidgets 8 on Colab). `runtime_report` says what a runtime without a GPU
  (or a TPU runtime) trains, and how to get a GPU.
- Smoke mode (`AGNEWS_BERT_SMOKE=1`, set by `notebooks/conftest.py` for CI)
  switches every notebook to the `smoke` preset: offline, CPU, seconds.
  `AGNEWS_BERT_RUNS_DIR` replaces the local `runs/` folder (CI points it at a
  temporary folder, so test runs leave nothing in the working tree).

The run-length estimate and the starting config of the settings form are in
`widgets.py`, with the form that shows them; notebook 02's plan in `compare.py`.

Example:
    >>> output_dir("runs")  # on a laptop  # doctest: +ELLIPSIS
    Note: not on Colab, so runs are saved in the local folder runs/ (...).
    'runs'
"""

import logging
import os
import shutil
import sys
from importlib.metadata import PackageNotFoundError, requires, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from ..hardware import choose_attention, choose_precision, describe_choice, detect_hardware
from ..smoke import SMOKE_ENV, smoke_mode  # noqa: F401  (smoke mode is decided in smoke.py)

log = logging.getLogger(__name__)

RUNS_DIR_ENV = "AGNEWS_BERT_RUNS_DIR"
DRIVE_MOUNT_POINT = "/content/drive"
DRIVE_RUNS_DIR = "/content/drive/MyDrive/agnews_bert"
LOCAL_RUNS_DIR = "runs"
LOCAL_CHECKPOINTS_DIR = "/content/checkpoints"  # the Colab runtime's fast local disk (widgets.keep_checkpoints)
DOWNLOADS_DIR = "/content"  # where download_run writes its zip on Colab
SWITCH_RUNTIME_HINT = "Runtime > Change runtime type > T4 GPU > Save, then run all cells again"
CPU_PRESET = "cpu"
TPU_ENV_VARIABLES = ("COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE")



def in_colab() -> bool:
    """True inside a Google Colab kernel."""
    return "google.colab" in sys.modules


def output_dir(local_dir: str | None = None) -> str:
    """The folder that run folders go in: Drive on Colab, else a local one, with a note saying which.

    The local folder is `local_dir`, else $AGNEWS_BERT_RUNS_DIR, else "runs".
    Example on Colab: "/content/drive/MyDrive/agnews_bert" (a run then lives in
    /content/drive/MyDrive/agnews_bert/<run-name>).
    """
    local_dir = local_dir or os.environ.get(RUNS_DIR_ENV) or LOCAL_RUNS_DIR
    if not in_colab():
        log.info(f"Note: not on Colab, so runs are saved in the local folder {local_dir}/ ({Path(local_dir).resolve()}).")
        return local_dir
    try:
        from google.colab import drive

        drive.mount(DRIVE_MOUNT_POINT)  # Colab asks the student to allow access
    except Exception as error:  # Colab raises several types: refused access, timeout, quota
        log.info(f"Note: {drive_failure(error)} Until then runs are saved in {local_dir}/ on this runtime and are "
                 "LOST when it disconnects: the last cell of notebook 01 downloads a run as a zip.")
        return local_dir
    log.info(f"Google Drive is mounted: runs are saved in {DRIVE_RUNS_DIR}/<run-name>.")
    return DRIVE_RUNS_DIR


# How drive.mount fails on Colab (colabtools issues #5694 and #6063: credentials; #4897: large
# Drives time out): words its error carries, and what the student can do.
DRIVE_FAILURES = (
    (("credential propagation",), "Google Drive could not be mounted: Colab could not pass your sign-in to "
     "the runtime (\"credential propagation was unsuccessful\"). Run this cell again and allow access to all "
     "of Drive; if it fails again, sign in to Colab with the same Google account as Drive."),
    (("timeout", "timed out"), "Google Drive could not be mounted: it timed out (large Drives often do the "
     "first time). Run this cell again to retry."),
    (("already contain files",), f"Google Drive could not be mounted: {DRIVE_MOUNT_POINT} already holds files "
     "written before Drive was mounted. Runtime > Disconnect and delete runtime, then run all cells again."),
)


def drive_failure(error: Exception) -> str:
    """One line on why drive.mount failed and what to do.

    Example: ValueError("mount failed: timeout during initial read of root folder") ->
    "Google Drive could not be mounted: it timed out (...). Run this cell again to retry."
    """
    text = f"{type(error).__name__}: {error}".lower()
    return next((advice for words, advice in DRIVE_FAILURES if any(word in text for word in words)),
                f"Google Drive could not be mounted ({error}). Run this cell again to retry Drive.")


def download_run(run_dir, output_dir: str) -> Path | None:
    """On Colab with runs saved locally, zip the run folder and offer it as a download.

    A local run is lost when the runtime disconnects; the zip keeps the model. Returns the
    zip's path, or None where nothing needs downloading (on Drive, or off Colab).
    Example (Colab, Drive not mounted): download_run("runs/<run-name>", "runs") -> Path("/content/<run-name>.zip")
    """
    run_dir = Path(run_dir)
    if not in_colab() or output_dir == DRIVE_RUNS_DIR:
        where = "on Google Drive" if output_dir == DRIVE_RUNS_DIR else "on this machine"
        log.info(f"The run is kept {where}, in {run_dir}: nothing to download.")
        return None
    from google.colab import files

    archive = Path(shutil.make_archive(str(Path(DOWNLOADS_DIR) / run_dir.name), "zip", run_dir.parent, run_dir.name))
    log.info(f"Drive is not mounted, so this run lives only on this runtime: downloading {archive.name} "
             f"({archive.stat().st_size / 1e6:,.0f} MB). Unzip it and pass the folder to ab.predict to use the model.")
    files.download(str(archive))
    return archive


# The environment check (environment_check): packages it reports, by distribution name.
CHECKED_PACKAGES = ("agnews_bert", "transformers", "datasets", "torch", "ipywidgets", "flash-attn")
FLOOR_CHECKED = ("transformers", "datasets")
PAST_RUNTIME_HINT = ("If a new Colab runtime breaks this lab: Runtime > Change runtime type > Runtime version, "
                     "pick an earlier one (e.g. 2026.07), Save, then run all cells again.")


def environment_check(hardware=None, versions: dict | None = None, floors: dict | None = None) -> str:
    """Three lines for the set-up cell (versions, runtime, how to pin a past Colab runtime), then one per warning.

    versions: {distribution: version or None} (default: what is installed); floors:
    {distribution: lowest version} (default: agnews_bert's own requirements).
    Example: "Versions: agnews_bert 0.1.0, transformers 5.15.0, datasets 4.0.0, ..."
    """
    hardware = hardware or detect_hardware()
    versions = installed_versions() if versions is None else versions
    floors = requirement_floors() if floors is None else floors
    # The warnings: known-bad combinations, each with its fix. No GPU is not warned about here:
    # runtime_report says what that changes, and how to get one.
    warnings = [f"{name} {versions[name]} is below the {floor} this lab needs{FLOOR_REASONS.get(name, '')}: run "
                f"!pip install -q \"{name}>={floor}\", then Runtime > Restart session"
                for name, floor in floors.items()
                if name in FLOOR_CHECKED and versions.get(name) and Version(versions[name]) < Version(floor)]
    if versions.get("flash-attn") and hardware.device == "cuda" and not hardware.has_bf16:
        warnings.append(f"flash_attn is installed, but the {hardware.name} is older than Ampere and cannot run it; "
                        "training uses SDPA attention. If importing transformers fails, !pip uninstall -y flash-attn")
    if in_colab() and int((versions.get("ipywidgets") or "0").split(".")[0]) >= 8:
        warnings.append(f"ipywidgets {versions['ipywidgets']} under Colab's front end can leave the settings form "
                        "blank: !pip install -q \"ipywidgets==7.7.1\" (Colab's own), then Runtime > Restart session")
    listed = ", ".join(f"{name} {version}" for name, version in versions.items() if version and name != "flash-attn")
    lines = [f"Versions: {listed}", f"Runtime: {_training_choice(hardware)}", PAST_RUNTIME_HINT]
    return "\n".join(lines + [f"Warning: {warning}" for warning in warnings])


FLOOR_REASONS = {"datasets": " (older ones fail with NumPy 2)"}


def installed_versions() -> dict:
    """{distribution: version or None} for CHECKED_PACKAGES. Example: {"transformers": "5.15.0", "flash-attn": None, ...}"""
    def installed(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {name: installed(name) for name in CHECKED_PACKAGES}


def requirement_floors() -> dict:
    """The lower bounds agnews_bert's install requires. Example: {"transformers": "4.48", "datasets": "2.21", ...}"""
    try:
        requirements = [Requirement(line) for line in requires("agnews_bert") or []]
    except PackageNotFoundError:  # run from a source folder that was never installed
        return {}
    return {requirement.name: spec.version for requirement in requirements if not requirement.marker
            for spec in requirement.specifier if spec.operator == ">="}


def tpu_runtime() -> bool:
    """True on a TPU runtime (Colab offers one on the free tier); a cheap check of the environment.

    This package trains on CUDA GPUs or the CPU, never on a TPU.
    """
    return any(os.environ.get(name) for name in TPU_ENV_VARIABLES) or any(Path("/dev").glob("accel[0-9]*"))


def runtime_report(hardware=None, precision: str = "auto", attention: str = "auto") -> str:
    """What this runtime trains on, and, without a GPU, why the form starts small and how to get one.

    Example: "GPU found: Tesla T4 (cuda, compute 7.5): fp16 mixed precision, sdpa attention"
    """
    hardware = hardware or detect_hardware()
    choice = _training_choice(hardware, precision, attention)
    if hardware.device == "cuda":
        return f"GPU found: {choice}"
    if smoke_mode():
        return f"No GPU: {choice}. The tiny offline model trains in seconds on it."
    why = ("This is a TPU runtime, and agnews_bert does not use TPUs, so training would run on the CPU"
           if tpu_runtime() else "No GPU found, so training would run on the CPU")
    return (f"{why}: {choice}. ModernBERT-base would take hours there, so the settings form starts from the "
            f"'{CPU_PRESET}' preset instead: a small BERT (BERT-mini) on 2,000 rows, a few minutes on 2 CPU cores. "
            f"To train ModernBERT, get a GPU: {SWITCH_RUNTIME_HINT}. Free-tier GPUs are not always available "
            "(\"usage limits\"); then keep the CPU settings, or try again later.")


def _training_choice(hardware, precision: str = "auto", attention: str = "auto") -> str:
    """Example: "Tesla T4 (cuda, compute 7.5): fp16 mixed precision, sdpa attention" """
    chosen = choose_precision(precision, hardware), choose_attention(attention, hardware, precision)
    return describe_choice(hardware, *chosen)
