"""Checkpoints you can trust after a crash, and a copy of them that outlives the runtime.

The Trainer writes `checkpoint-<step>/` folders; a disconnect or a kill can cut
one off mid-write. `latest_checkpoint` only returns a folder whose trainer
state parses and whose weight and optimizer files are whole (a safetensors
file is checked against the sizes its own header declares), and it removes
the broken ones so the Trainer never sees them.

On Colab the run folder lives on Google Drive: a slow network disk with a
quota, where every deleted file goes to the trash. So checkpoints are written
to fast local disk (`checkpoint_dir`), and after each save `CheckpointMirror`
copies the newest and the best into two fixed folders on Drive, `last/` and
`best/`, overwriting files in place: nothing is deleted there, so the trash
stays empty, and at most one epoch is lost to a disconnect. A marker file
says whether a mirror is complete; it is written last.

Example:
    >>> latest_checkpoint(Path("/tmp/run/checkpoints"))  # doctest: +SKIP
    PosixPath('/tmp/run/checkpoints/checkpoint-26')
"""

import json
import shutil
import struct
import zipfile
from pathlib import Path

import transformers

from .runs import CHECKPOINTS_DIR

CHECKPOINT_PREFIX = "checkpoint-"
TRAINER_STATE_FILE = "trainer_state.json"
MIRROR_MARKER = "MIRROR_COMPLETE"
MIRROR_SLOTS = ("last", "best")


def latest_checkpoint(checkpoints_dir, remove_broken: bool = True) -> Path | None:
    """The newest complete checkpoint folder, or None; broken ones are removed (or just skipped)."""
    folder = Path(checkpoints_dir)
    if not folder.is_dir():
        return None
    for checkpoint in sorted(_checkpoint_folders(folder), key=checkpoint_step, reverse=True):
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
    try:
        json.loads((checkpoint / TRAINER_STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    weights = sorted(checkpoint.glob("*.safetensors")) or sorted(checkpoint.glob("pytorch_model*.bin"))
    torch_files = [path for path in checkpoint.glob("*.pt") if path.name != "rng_state.pt"]
    return bool(weights) and all(map(_is_whole_weights_file, weights)) and all(map(_is_whole_torch_file, torch_files))


def restore_from_mirror(mirror_dir: Path, checkpoints_dir: Path) -> Path | None:
    """Copy the mirrored checkpoints back to local disk after a new runtime; the `last` one, or None.

    The `best` one comes back too, to the folder name the trainer state remembers,
    so the best epoch can still be loaded at the end.
    """
    restored = {slot: _restore_slot(Path(mirror_dir) / slot, Path(checkpoints_dir)) for slot in MIRROR_SLOTS}
    return restored["last"]


def _restore_slot(slot: Path, checkpoints_dir: Path) -> Path | None:
    step = _mirrored_step(slot)
    if step is None:
        return None
    restored = checkpoints_dir / f"{CHECKPOINT_PREFIX}{step}"
    if not is_complete_checkpoint(restored):
        shutil.rmtree(restored, ignore_errors=True)
        shutil.copytree(slot, restored, ignore=shutil.ignore_patterns(MIRROR_MARKER))
    return restored


class CheckpointMirror(transformers.TrainerCallback):
    """After each checkpoint save, copy the newest (and the best) checkpoint to mirror_dir."""

    def __init__(self, mirror_dir):
        self.mirror_dir = Path(mirror_dir)

    def on_save(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        newest = Path(args.output_dir) / f"{CHECKPOINT_PREFIX}{state.global_step}"
        mirror_checkpoint(newest, self.mirror_dir / "last")
        best = state.best_model_checkpoint
        if best and Path(best).is_dir() and _mirrored_step(self.mirror_dir / "best") != checkpoint_step(Path(best)):
            mirror_checkpoint(Path(best), self.mirror_dir / "best")


def mirror_checkpoint(source: Path, slot: Path) -> None:
    """Copy a checkpoint's files over the slot's files in place, then mark the slot complete."""
    slot.mkdir(parents=True, exist_ok=True)
    marker = slot / MIRROR_MARKER
    marker.write_text("incomplete\n", encoding="utf-8")
    for file in sorted(Path(source).iterdir()):
        if file.is_file():
            shutil.copyfile(file, slot / file.name)
    marker.write_text(f"{checkpoint_step(source)}\n", encoding="utf-8")


def checkpoints_dir_for(config, run_dir: Path) -> Path:
    """Where the Trainer writes checkpoints: config.checkpoint_dir/<run> if set, else run_dir/checkpoints."""
    if config.checkpoint_dir:
        return Path(config.checkpoint_dir).expanduser() / Path(run_dir).name
    return Path(run_dir) / CHECKPOINTS_DIR


def mirror_dir_for(config, run_dir: Path) -> Path | None:
    """Where checkpoints are mirrored: run_dir/checkpoints when they are written elsewhere."""
    return Path(run_dir) / CHECKPOINTS_DIR if config.checkpoint_dir else None


def remove_without_trash(folder: Path) -> None:
    """Delete a folder, emptying each file first: on Google Drive a deleted file goes to the
    trash and still counts against the quota, an emptied one costs nothing."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for file in folder.rglob("*"):
        if file.is_file():
            file.write_bytes(b"")
    shutil.rmtree(folder, ignore_errors=True)


def _mirrored_step(slot: Path) -> int | None:
    try:
        text = (slot / MIRROR_MARKER).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _checkpoint_folders(folder: Path) -> list:
    return [
        path for path in folder.glob(f"{CHECKPOINT_PREFIX}*")
        if path.is_dir() and path.name.removeprefix(CHECKPOINT_PREFIX).isdigit()
    ]


def _is_whole_weights_file(path: Path) -> bool:
    if path.suffix == ".bin":
        return _is_whole_torch_file(path)
    try:
        with open(path, "rb") as stream:
            header_size = struct.unpack("<Q", stream.read(8))[0]
            header = json.loads(stream.read(header_size))
    except (OSError, ValueError, struct.error):
        return False
    data_end = max((entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"), default=0)
    return path.stat().st_size == 8 + header_size + data_end


def _is_whole_torch_file(path: Path) -> bool:
    """torch.save writes a zip archive; a cut-off one has no central directory at its end."""
    try:
        with zipfile.ZipFile(path):
            return True
    except (OSError, zipfile.BadZipFile):
        return False
