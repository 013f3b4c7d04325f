"""Checkpoints you can trust after a crash, and a copy of them that outlives the runtime.

The Trainer writes `checkpoint-<step>/` folders; a disconnect or a kill can cut
one off mid-write. `latest_checkpoint` only returns a folder whose trainer
state parses and whose weight and optimizer files are whole (`safetensors.safe_open`
rejects a cut-off weights file), and it removes the broken ones so the Trainer
never sees them. It walks the folders itself: transformers' `get_last_checkpoint`
returns the newest folder even when it is cut off (tests/test_training.py shows it).

On Colab the run folder lives on Google Drive: a slow network disk with a
quota, where every deleted file goes to the trash. So checkpoints are written
to fast local disk (`checkpoint_dir`), and, for runs long enough to be worth it
(`notebook.widgets.keep_checkpoints`), `CheckpointMirror` copies each new checkpoint to
Drive once, into `checkpoints/checkpoint-<step>/`, and then empties and removes
the mirrored ones that are neither the newest nor the best: one checkpoint of
writes per save, at most two on Drive. A marker file, written last, says a
copy is complete. A full or failing Drive stops the mirror with a warning;
training goes on locally.

`train_resumably` is `trainer.train()` with all of it: resume from the newest
complete checkpoint (local, else the mirror), a stop that saves first, and the
mirror.

A run that early stopping ended, killed before its results were written, must
not train on when it is resumed. transformers (4.48 to 5.x alike) records each
stateful callback in the checkpoint's trainer_state.json ("stateful_callbacks"),
EarlyStoppingCallback's count of epochs without a better score included, but a
resumed `trainer.train()` clears the stop it had asked for and trains the
remaining epochs. So `saving_on_stop` reads that record and, where the count had
reached the patience, ends training at the checkpoint's step: the Trainer then
only loads the best epoch, as at the end of any run. A notebook shows the same steps as `resume_checkpoint`,
`saving_on_stop` and `trainer.train`; `load_finished_run` instead loads a run
that is already finished with the same settings.

Example:
    >>> checkpoint_step(Path("runs/my-run/checkpoints/checkpoint-26"))
    26
    >>> latest_checkpoint(Path("runs/no-such-run/checkpoints")) is None
    True
"""

import contextlib
import logging
import math
import shutil
import zipfile
from pathlib import Path

import transformers

from ..errors import TrainingInterrupted, setting
from .resilience import StopAndSave, TrainingClock, first_interrupt_saves
from .folders import CHECKPOINTS_DIR, is_main_process, json_or_none, load_results

CHECKPOINT_PREFIX = "checkpoint-"
MIRROR_MARKER = "MIRROR_COMPLETE"
log = logging.getLogger(__name__)


def train_resumably(trainer, config, run_dir):
    """`trainer.train()` that resumes, saves on a stop, and mirrors checkpoints to the run folder.

    Rerunning it (the same notebook cell, or the same command) continues from the
    last complete checkpoint. Returns (train_output, resumed_from), a Path or None.
    """
    checkpoint = resume_checkpoint(config, run_dir)
    with saving_on_stop(trainer, config, run_dir):
        train_output = trainer.train(resume_from_checkpoint=checkpoint)
    return train_output, Path(checkpoint) if checkpoint else None


def resume_checkpoint(config, run_dir) -> str | None:
    """The checkpoint to continue from: the newest complete one, locally or in the Drive mirror; else None.

    With config.resume off, the old checkpoints are removed and training starts over.
    Example: resume_checkpoint(config, run_dir) -> "runs/<run>/checkpoints/checkpoint-26"
    """
    local = checkpoints_dir_for(config, run_dir)
    if not config.resume:
        shutil.rmtree(local, ignore_errors=True)
        return None
    checkpoint = latest_checkpoint(local, remove_broken=is_main_process())
    if checkpoint is None and (mirror := mirror_dir_for(config, run_dir)) is not None and is_main_process():
        checkpoint = restore_from_mirror(mirror, local)
    if checkpoint is None:
        return None
    log.info(f"Resuming from {checkpoint.name} in {checkpoint.parent} ({setting('resume', False)} starts over)")
    return str(checkpoint)


@contextlib.contextmanager
def saving_on_stop(trainer, config, run_dir):
    """While inside, a first stop (Ctrl-C, the notebook's stop button) saves a checkpoint after the step.

    Also attaches the Drive mirror when the config asks for one. Leaving after such
    a stop raises TrainingInterrupted, which says how to resume.
    """
    for stale in (StopAndSave, TrainingClock, CheckpointMirror):  # left by an earlier run of the same cell
        while trainer.pop_callback(stale):
            pass
    checkpoint = latest_checkpoint(checkpoints_dir_for(config, run_dir), remove_broken=False) if config.resume else None
    if checkpoint is not None and stopped_early_at(checkpoint):
        trainer.args.max_steps = checkpoint_step(checkpoint)  # the Trainer's loop ends where the stop was
        log.info(f"Early stopping had already ended this run at {checkpoint.name}; loading its best epoch without "
                 "training further")
    stopper = StopAndSave()
    trainer.add_callback(stopper)
    trainer.add_callback(TrainingClock())  # before the mirror, so the mirror copies the clock too
    if (mirror := mirror_dir_for(config, run_dir)) is not None:
        trainer.add_callback(CheckpointMirror(mirror))
    with first_interrupt_saves(stopper):
        yield
    if stopper.requested:
        raise TrainingInterrupted(
            f"training stopped at step {trainer.state.global_step} after saving a checkpoint in "
            f"{checkpoints_dir_for(config, run_dir)}; run the same command or cells again to resume"
        )


def stopped_early_at(checkpoint: Path) -> bool:
    """True when the checkpoint's trainer state says early stopping had run out of patience there.

    Example: {"stateful_callbacks": {"EarlyStoppingCallback": {"args": {"early_stopping_patience": 2},
              "attributes": {"early_stopping_patience_counter": 2}}}} -> True
    """
    stored = ((trainer_state(checkpoint) or {}).get("stateful_callbacks") or {}).get("EarlyStoppingCallback") or []
    return any(record.get("attributes", {}).get("early_stopping_patience_counter", 0)
               >= record.get("args", {}).get("early_stopping_patience", math.inf)
               for record in (stored if isinstance(stored, list) else [stored]))  # a list when several were attached


def load_finished_run(trainer, run_dir):
    """Put a finished run's saved model and training history into `trainer`, instead of training again.

    Returns a TrainOutput like `trainer.train()`'s, so the cells after training work as after a real run.
    """
    from ..scoring import load_run  # a LoRA run's model/ is an adapter: rebuilt on its base model there

    results = load_results(run_dir)
    trainer.model.load_state_dict(load_run(run_dir).model.state_dict())
    trainer.state.log_history = list(results["log_history"])
    trainer.state.global_step = max((row.get("step", 0) for row in results["log_history"]), default=0)
    train_loss = next((row["train_loss"] for row in reversed(results["log_history"]) if "train_loss" in row), None)
    log.info(f"Loaded the finished run {Path(run_dir).name}: its model and training history, "
             f"test macro-F1 {results['test']['macro_f1']:.3f}.")
    metrics = {"train_runtime": results["timing"]["train_seconds"],
               "train_samples_per_second": results["timing"].get("train_samples_per_second")}
    return transformers.trainer_utils.TrainOutput(trainer.state.global_step, train_loss, metrics)


def latest_checkpoint(checkpoints_dir, remove_broken: bool = True) -> Path | None:
    """The newest complete checkpoint folder, or None; broken ones are removed (or just skipped)."""
    # glob finds nothing in a folder that does not exist
    for checkpoint in sorted(_checkpoint_folders(Path(checkpoints_dir)), key=checkpoint_step, reverse=True):
        if is_complete_checkpoint(checkpoint):
            return checkpoint
        if remove_broken:
            shutil.rmtree(checkpoint, ignore_errors=True)
    return None


def checkpoint_step(checkpoint: Path) -> int:
    """The global step in a checkpoint folder's name. Example: checkpoint-26 -> 26"""
    return int(Path(checkpoint).name.removeprefix(CHECKPOINT_PREFIX))


def is_complete_checkpoint(checkpoint: Path) -> bool:
    """True when trainer state, weights and (if present) optimizer state are all whole."""
    checkpoint = Path(checkpoint)
    weights = sorted(checkpoint.glob("*.safetensors")) or sorted(checkpoint.glob("pytorch_model*.bin"))
    torch_files = [path for path in checkpoint.glob("*.pt") if path.name != "rng_state.pt"]
    return trainer_state(checkpoint) is not None and bool(weights) and all(map(_is_whole_file, weights + torch_files))


def trainer_state(checkpoint: Path) -> dict | None:
    """A checkpoint's trainer_state.json, or None when it is missing or cut off."""
    return json_or_none(Path(checkpoint) / "trainer_state.json")


def restore_from_mirror(mirror_dir: Path, checkpoints_dir: Path) -> Path | None:
    """Copy the complete mirrored checkpoints back to local disk (a new runtime); the newest, or None.

    The best one comes back too, under the folder name the trainer state
    remembers, so the best epoch can still be loaded at the end.
    """
    restored = None
    for mirrored in sorted(_mirrored_checkpoints(Path(mirror_dir)), key=checkpoint_step):
        local = Path(checkpoints_dir) / mirrored.name
        if not is_complete_checkpoint(local):
            shutil.rmtree(local, ignore_errors=True)
            shutil.copytree(mirrored, local, ignore=shutil.ignore_patterns(MIRROR_MARKER))
        restored = local
    return restored


class CheckpointMirror(transformers.TrainerCallback):
    """After each checkpoint save, copy it once to mirror_dir; keep only the newest and the best there.

    `bytes_written` counts what went to the mirror. An OSError (a full Drive:
    ENOSPC, or a lost connection) turns the mirror off with one warning, and
    training goes on with its local checkpoints.
    """

    def __init__(self, mirror_dir):
        self.mirror_dir = Path(mirror_dir)
        self.bytes_written = 0
        self.failure = None

    def on_save(self, args, state, control, **kwargs):
        if not state.is_world_process_zero or self.failure is not None:
            return
        newest = Path(args.output_dir) / f"{CHECKPOINT_PREFIX}{state.global_step}"
        keep = {newest.name, Path(state.best_model_checkpoint or newest).name}
        try:
            self.bytes_written += mirror_checkpoint(newest, self.mirror_dir / newest.name)
            for old in _mirrored_checkpoints(self.mirror_dir, complete_only=False):
                if old.name not in keep:
                    remove_without_trash(old)
        except OSError as error:
            self.failure = error
            remove_without_trash(self.mirror_dir / newest.name)  # a half copy only takes space
            log.warning(
                f"Warning: could not copy {newest.name} to {self.mirror_dir} ({error.strerror or error}); is Google "
                f"Drive full? Training goes on, with checkpoints on this runtime only, in {args.output_dir}. Free "
                "space on Drive (and empty its trash) so the finished model can be saved there."
            )


def mirror_checkpoint(source: Path, copy: Path) -> int:
    """Copy a checkpoint folder to `copy`, then mark the copy complete; the bytes written."""
    (copy / MIRROR_MARKER).unlink(missing_ok=True)
    shutil.copytree(source, copy, dirs_exist_ok=True)
    (copy / MIRROR_MARKER).write_text(f"{checkpoint_step(source)}\n", encoding="utf-8")
    return sum(file.stat().st_size for file in Path(source).rglob("*") if file.is_file())


def checkpoints_dir_for(config, run_dir: Path) -> Path:
    """Where the Trainer writes checkpoints: config.checkpoint_dir/<run> if set, else run_dir/checkpoints."""
    if config.checkpoint_dir:
        return Path(config.checkpoint_dir).expanduser() / Path(run_dir).name
    return Path(run_dir) / CHECKPOINTS_DIR


def mirror_dir_for(config, run_dir: Path) -> Path | None:
    """Where checkpoints are mirrored: run_dir/checkpoints, when they are written elsewhere and mirroring is on."""
    return Path(run_dir) / CHECKPOINTS_DIR if config.checkpoint_dir and config.mirror_checkpoints else None


def remove_without_trash(folder: Path) -> None:
    """Delete a folder, emptying each file first: on Google Drive a deleted file goes to the
    trash and still counts against the quota, an emptied one costs nothing."""
    for file in Path(folder).rglob("*"):  # nothing when the folder does not exist
        if file.is_file():
            file.write_bytes(b"")
    shutil.rmtree(folder, ignore_errors=True)


def _mirrored_checkpoints(mirror_dir: Path, complete_only: bool = True) -> list:
    """The checkpoint copies in a mirror folder (only those whose marker says they are whole)."""
    return [copy for copy in _checkpoint_folders(Path(mirror_dir))
            if not complete_only or json_or_none(copy / MIRROR_MARKER) == checkpoint_step(copy)]


def _checkpoint_folders(folder: Path) -> list:
    return [path for path in folder.glob(f"{CHECKPOINT_PREFIX}*")
            if path.is_dir() and path.name.removeprefix(CHECKPOINT_PREFIX).isdigit()]


def _is_whole_file(path: Path) -> bool:
    """safe_open checks a .safetensors file's length against the tensors its header declares; torch.save writes
    a zip archive, and a cut-off one has no central directory at its end."""
    from safetensors import SafetensorError, safe_open

    try:
        if path.suffix == ".safetensors":
            with safe_open(str(path), framework="numpy"):
                return True
        with zipfile.ZipFile(path):
            return True
    except (OSError, SafetensorError, zipfile.BadZipFile):
        return False
