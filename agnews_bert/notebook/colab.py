"""Notebook set-up: smoke mode, Colab or not, where runs are saved, and what GPU we have.

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
  known-bad combination (flash_attn on a T4, old transformers or evaluate,
  ipywidgets 8 on Colab, no GPU).
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
import shutil
import sys
from dataclasses import replace
from pathlib import Path

from ..config import SMOKE, RunConfig
from ..errors import AgNewsError
from ..hardware import choose_attention, choose_precision, describe_choice, detect_hardware
from ..lab.folders import is_finished, runs_table
from ..smoke import SMOKE_ENV, smoke_mode  # noqa: F401  (smoke mode is decided in smoke.py)
from .class_defaults import class_defaults

RUNS_DIR_ENV = "AGNEWS_BERT_RUNS_DIR"
DRIVE_MOUNT_POINT = "/content/drive"
DRIVE_RUNS_DIR = "/content/drive/MyDrive/agnews_bert"
LOCAL_RUNS_DIR = "runs"
LOCAL_CHECKPOINTS_DIR = "/content/checkpoints"  # the Colab runtime's fast local disk
DOWNLOADS_DIR = "/content"  # where download_run writes its zip on Colab
SWITCH_RUNTIME_HINT = "Runtime > Change runtime type > T4 GPU > Save, then run all cells again"
CPU_PRESET = "cpu"
CPU_PRESET_SUMMARY = "a small BERT (BERT-mini) on 2,000 rows"
TPU_ENV_VARIABLES = ("COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE")

# The run-length estimate (estimated_minutes). Assumed speeds, not measurements: a
# fraction of each device's dense 16-bit peak (fp32 on a CPU) that small fine-tuning
# batches reach, e.g. 8 of a T4's 65 TFLOP/s; 30 GFLOP/s for Colab's 2 CPU cores.
EFFECTIVE_FLOPS = {"t4": 8e12, "l4": 25e12, "a100": 80e12, "h100": 200e12, "gpu": 8e12, "cpu": 3e10}
NON_EMBEDDING_PARAMETERS = {"modernbert-base": 111e6, "modernbert-large": 353e6, "distilbert": 43e6,
                            "bert_uncased_l-4_h-256": 3.2e6, "bert-base": 86e6, "bert-large": 303e6, SMOKE: 0.1e6}
DEFAULT_PARAMETERS = 110e6
AG_NEWS_TOKENS_PER_TEXT = 55  # about the mean of AG News texts for BERT-family tokenizers
AG_NEWS_TRAIN_ROWS, AG_NEWS_TEST_ROWS = 120_000, 7_600
SMOKE_POOL_ROWS, SMOKE_TEST_ROWS = 480, 160
# Training work per non-embedding parameter and token, by method: a forward pass is 2, the backward
# pass 2 for the activations' gradients and 2 for the weights'. LoRA skips the frozen weights'
# gradients; a linear probe needs no backward pass through the frozen encoder at all.
TRAINING_FLOPS_PER_PARAMETER = {"full": 6, "lora": 4, "linear-probe": 2}
GPU_SECONDS_PER_STEP = 0.03  # launch and optimizer overhead that does not shrink with the batch
ONE_OFF_MINUTES = 1.0  # loading the model, tokenizing, saving
LONG_RUN_MINUTES = 30
MIRROR_MIN_MINUTES = 30


def in_colab() -> bool:
    """True inside a Google Colab kernel."""
    return "google.colab" in sys.modules


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
        say(f"Note: {drive_failure(error)} Until then runs are saved in {local_dir}/ on this runtime and are LOST "
            "when it disconnects: the last cell of notebook 01 downloads a run as a zip.")
        return local_dir
    say(f"Google Drive is mounted: runs are saved in {DRIVE_RUNS_DIR}/<run-name>.")
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


def download_run(run_dir, output_dir: str, say=print) -> Path | None:
    """On Colab with runs saved locally, zip the run folder and offer it as a download.

    A local run is lost when the runtime disconnects; the zip keeps the model. Returns the
    zip's path, or None where nothing needs downloading (on Drive, or off Colab).
    Example (Colab, Drive not mounted): download_run("runs/<run-name>", "runs") -> Path("/content/<run-name>.zip")
    """
    run_dir = Path(run_dir)
    if not in_colab() or output_dir == DRIVE_RUNS_DIR:
        where = "on Google Drive" if output_dir == DRIVE_RUNS_DIR else "on this machine"
        say(f"The run is kept {where}, in {run_dir}: nothing to download.")
        return None
    from google.colab import files

    archive = Path(shutil.make_archive(str(Path(DOWNLOADS_DIR) / run_dir.name), "zip", run_dir.parent, run_dir.name))
    say(f"Drive is not mounted, so this run lives only on this runtime: downloading {archive.name} "
        f"({archive.stat().st_size / 1e6:,.0f} MB). Unzip it and pass the folder to ab.predict to use the model.")
    files.download(str(archive))
    return archive


# The environment check (environment_check): packages it reports, by distribution name.
CHECKED_PACKAGES = ("agnews_bert", "transformers", "evaluate", "datasets", "torch", "ipywidgets", "flash-attn")
FLOOR_CHECKED = ("transformers", "evaluate")
PAST_RUNTIME_HINT = ("If a new Colab runtime breaks this lab: Runtime > Change runtime type > Runtime version, "
                     "pick an earlier one (e.g. 2026.07), Save, then run all cells again.")


def environment_check(hardware=None, versions: dict | None = None, floors: dict | None = None) -> str:
    """Three lines for the set-up cell (versions, runtime, how to pin a past Colab runtime), then one per warning.

    versions: {distribution: version or None} (default: what is installed); floors:
    {distribution: lowest version} (default: agnews_bert's own requirements).
    Example: "Versions: agnews_bert 0.1.0, transformers 5.15.0, evaluate 0.4.6, ..."
    """
    hardware = hardware or detect_hardware()
    versions = installed_versions() if versions is None else versions
    floors = requirement_floors() if floors is None else floors
    listed = ", ".join(f"{name} {version}" for name, version in versions.items() if version and name != "flash-attn")
    runtime = describe_choice(hardware, choose_precision("auto", hardware), choose_attention("auto", hardware))
    lines = [f"Versions: {listed}", f"Runtime: {runtime}", PAST_RUNTIME_HINT]
    return "\n".join(lines + [f"Warning: {warning}" for warning in environment_warnings(hardware, versions, floors)])


def environment_warnings(hardware, versions: dict, floors: dict) -> list:
    """Known-bad combinations, each with its fix. Example: ["evaluate 0.4.5 is below 0.4.6, ..."]"""
    from packaging.version import Version

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
    if hardware.device != "cuda":
        kind = "a TPU runtime (agnews_bert does not use TPUs)" if tpu_runtime() else "no GPU"
        warnings.append(f"{kind}: training runs on the CPU, with a small model. For ModernBERT: {SWITCH_RUNTIME_HINT}")
    return warnings


FLOOR_REASONS = {"evaluate": " (older ones import HfFolder, which huggingface_hub 1.x removed)"}


def installed_versions() -> dict:
    """{distribution: version or None} for CHECKED_PACKAGES. Example: {"transformers": "5.15.0", "flash-attn": None, ...}"""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {name: installed(name) for name in CHECKED_PACKAGES}


def requirement_floors() -> dict:
    """The lower bounds agnews_bert's install requires. Example: {"transformers": "4.48", "evaluate": "0.4.6", ...}"""
    from importlib.metadata import PackageNotFoundError, requires

    from packaging.requirements import Requirement

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
    if any(os.environ.get(name) for name in TPU_ENV_VARIABLES):
        return True
    return any(Path("/dev").glob("accel[0-9]*"))


def runtime_report(hardware=None, precision: str = "auto", attention: str = "auto") -> str:
    """What this runtime trains on, and, without a GPU, why the form starts small and how to get one.

    Example: "GPU found: Tesla T4 (cuda, compute 7.5): fp16 mixed precision, sdpa attention"
    """
    hardware = hardware or detect_hardware()
    choice = describe_choice(hardware, choose_precision(precision, hardware), choose_attention(attention, hardware, precision))
    if hardware.device == "cuda":
        return f"GPU found: {choice}"
    if smoke_mode():
        return f"No GPU: {choice}. The tiny offline model trains in seconds on it."
    why = ("This is a TPU runtime, and agnews_bert does not use TPUs, so training would run on the CPU"
           if tpu_runtime() else "No GPU found, so training would run on the CPU")
    return (
        f"{why}: {choice}. ModernBERT-base would take hours there, so the settings form starts from the "
        f"'{CPU_PRESET}' preset instead: {CPU_PRESET_SUMMARY}, a few minutes on 2 CPU cores. To train ModernBERT, "
        f"get a GPU: {SWITCH_RUNTIME_HINT}. Free-tier GPUs are not always available (\"usage limits\"); "
        "then keep the CPU settings, or try again later."
    )


def notebook_config(output_dir: str, preset: str | None = None, hardware=None, **overrides) -> RunConfig:
    """The RunConfig a notebook starts from, saving under output_dir.

    The preset is `preset` if given, else "smoke" in smoke mode, "colab" (ModernBERT-base)
    with a CUDA GPU, and "cpu" (a small BERT) without one. On Drive, checkpoints are
    written to the runtime's local disk (see `keep_checkpoints`).
    Example (smoke mode): notebook_config("runs").model -> "smoke"
    """
    hardware = hardware or detect_hardware()
    if preset is None:
        preset = notebook_preset("colab" if hardware.device == "cuda" else CPU_PRESET)
    starting = {**class_defaults(preset), **overrides}  # the teacher's fields (class_defaults.py), then the cell's
    config = RunConfig.from_preset(preset, output_dir=str(output_dir), **starting)
    return keep_checkpoints(config, hardware)


def keep_checkpoints(config: RunConfig, hardware=None) -> RunConfig:
    """Where a notebook run keeps its checkpoints: on Drive runs, on the runtime's fast local disk.

    Copying each checkpoint to Drive lets a new runtime resume, but costs about 1.8 GB
    of Drive writes per epoch for ModernBERT-base (README, "Drive"). That pays only for
    long runs: below MIRROR_MIN_MINUTES of estimated training a lost run is cheaper to redo.
    Example: a 5-minute T4 run on Drive -> checkpoint_dir="/content/checkpoints", mirror_checkpoints=False
    """
    if config.output_dir != DRIVE_RUNS_DIR:
        return config
    long_run = estimated_minutes(config, hardware or detect_hardware())["train"] >= MIRROR_MIN_MINUTES
    return replace(config, checkpoint_dir=LOCAL_CHECKPOINTS_DIR, mirror_checkpoints=long_run).validated()


def estimated_minutes(config: RunConfig, hardware) -> dict:
    """An estimate (not a measurement) of a run's minutes on this hardware: training, and in all.

    Work is counted as 6 x non-embedding parameters x tokens for training (4 with LoRA, 2 for a
    linear probe: TRAINING_FLOPS_PER_PARAMETER) and
    2 x ... for scoring, with about AG_NEWS_TOKENS_PER_TEXT tokens a text, and divided by a
    speed assumed for the device (EFFECTIVE_FLOPS: a fraction of its peak, which
    small batches never reach); a GPU also pays a fixed cost per step, and every run
    ONE_OFF_MINUTES for loading and saving.
    Example: the colab preset on a T4 -> {"train": 2.2, "total": 3.5}
    """
    tokens = min(config.max_length, AG_NEWS_TOKENS_PER_TEXT)
    train_rows, validation_rows, test_rows = _planned_rows(config)
    parameters = _non_embedding_parameters(config.model)
    speed = _effective_flops(hardware)
    train_seconds = TRAINING_FLOPS_PER_PARAMETER[config.method] * parameters * tokens * train_rows * config.epochs / speed
    if hardware.device == "cuda":
        train_seconds += GPU_SECONDS_PER_STEP * train_rows * config.epochs / config.batch_size
    score_seconds = 2 * parameters * tokens * (validation_rows * config.epochs + test_rows) / speed
    one_off = 0.1 if config.model == SMOKE else ONE_OFF_MINUTES
    train = train_seconds / 60
    return {"train": round(train, 1), "total": round(train + score_seconds / 60 + one_off, 1)}


def describe_estimate(config: RunConfig, hardware) -> str:
    """One line for the form, with a warning above LONG_RUN_MINUTES.

    Example: "estimated time on Tesla T4: about 3 minutes"
    """
    minutes = estimated_minutes(config, hardware)["total"]
    when = "under a minute" if minutes < 1 else f"about {minutes:.0f} minutes" if minutes < 120 else f"about {minutes / 60:.1f} hours"
    line = f"estimated time on {hardware.name}: {when}"
    if minutes > LONG_RUN_MINUTES:
        fix = "fewer training rows, fewer epochs or a smaller model" if hardware.device == "cuda" else \
            f"a GPU ({SWITCH_RUNTIME_HINT}), or the CPU-sized model and fewer rows"
        line += f". That is over {LONG_RUN_MINUTES} minutes: a Colab session may end first. Try {fix}."
    return line


def _planned_rows(config: RunConfig) -> tuple:
    """(train, validation, test) rows the run will use, for the estimate (AG News sizes when unknown)."""
    pool = SMOKE_POOL_ROWS if config.data == SMOKE else AG_NEWS_TRAIN_ROWS
    validation = config.validation_size * pool if config.validation_size < 1 else config.validation_size
    train = config.train_size or pool - validation
    train = train * pool if train < 1 else train
    test = config.test_size or (SMOKE_TEST_ROWS if config.data == SMOKE else AG_NEWS_TEST_ROWS)
    return train, validation, test * AG_NEWS_TEST_ROWS if test < 1 else test


def _non_embedding_parameters(model: str) -> float:
    name = model.lower().rstrip("/").split("/")[-1]
    return next((count for key, count in NON_EMBEDDING_PARAMETERS.items() if key in name), DEFAULT_PARAMETERS)


def _effective_flops(hardware) -> float:
    if hardware.device != "cuda":
        return EFFECTIVE_FLOPS["cpu"]
    return next((flops for key, flops in EFFECTIVE_FLOPS.items() if key in hardware.name.lower()), EFFECTIVE_FLOPS["gpu"])


def find_run(output_dir: str, run_name: str = "") -> Path:
    """A finished run folder: `run_name` in output_dir, or the best run there (highest test macro-F1)."""
    if run_name:
        run_dir = Path(output_dir) / run_name
        if not is_finished(run_dir):
            raise AgNewsError(f"{run_dir} is not a finished run; pick a run_name from ab.lab.runs_table({output_dir!r})")
        return run_dir
    table = runs_table(output_dir)
    if table.empty:
        raise AgNewsError(f"no finished run in {output_dir}/; train one with notebook 01 first")
    return Path(output_dir) / table["run_name"][0]


# Notebooks 02 and 03: what smoke mode and a CPU runtime change for them.
CPU_COMPARISON_MODELS = (
    "google/bert_uncased_L-2_H-128_A-2",  # BERT-tiny
    "google/bert_uncased_L-4_H-256_A-4",  # BERT-mini, the cpu preset's model
    "google/bert_uncased_L-4_H-512_A-8",  # BERT-small
)


def comparison_plan(models, output_dir: str, hardware=None, say=print, **overrides) -> tuple:
    """(models, base_config) for notebook 02 on this runtime; one epoch each unless overrides say otherwise.

    With a GPU: `models` on the notebook's starting config. Without one: three small
    BERTs (CPU_COMPARISON_MODELS) on the `cpu` preset, since the big encoders would
    take hours; say() tells why. In smoke mode: the tiny offline model.
    Example (T4): comparison_plan(["bert-base-uncased"], "runs") -> (["bert-base-uncased"], RunConfig(epochs=1, ...))
    """
    hardware = hardware or detect_hardware()
    config = notebook_config(output_dir, hardware=hardware, **{"epochs": 1, **overrides})
    if smoke_mode():
        return [SMOKE], config
    if hardware.device == "cuda":
        return list(models), config
    say(f"No GPU, so this comparison uses three small BERTs instead ({', '.join(CPU_COMPARISON_MODELS)}), each "
        f"on {config.train_size or 'all'} training rows at lr {config.learning_rate:g}: the encoders above would "
        f"take hours on a CPU. To compare them, get a GPU: {SWITCH_RUNTIME_HINT}.")
    return list(CPU_COMPARISON_MODELS), config


def pick_run(output_dir: str, run_name: str = "", say=print) -> Path:
    """`find_run` for notebook 03; in smoke mode with no finished run yet, trains the tiny one first.

    So CI can run notebook 03 on its own; a student's empty folder still gets find_run's advice.
    """
    if smoke_mode() and not run_name and runs_table(output_dir).empty:
        from ..training import train

        say("No finished run in the output folder yet: training the tiny offline model first (seconds).")
        train(notebook_config(output_dir))
    return find_run(output_dir, run_name)
