"""Keeping a run alive: a stop that saves first, and a retry with a smaller batch on out-of-memory.

- Pressing Ctrl-C in a terminal, or the stop button of a notebook cell, sends
  SIGINT. While training, the first one asks the Trainer to save a checkpoint
  after the current step and stop (bounded by one step); a second one stops at
  once. The run then raises `TrainingInterrupted`, whose message says how to
  resume.
- A CUDA out-of-memory error retries the run with half the per-device batch
  and twice the gradient accumulation, so the effective batch (and so the
  learning dynamics and steps per epoch) stays the same. Spotting the error
  and freeing the memory are accelerate's (`accelerate.utils.memory`).

Example:
    >>> smaller_batch(RunConfig.from_preset("smoke", batch_size=32)).batch_size
    16
"""

import contextlib
import dataclasses
import logging
import signal
import threading
import time
from pathlib import Path

import transformers
# For training and notebook.compare: is_out_of_memory(error) is True for an error a smaller batch can cure (CUDA out
# of memory, its cuDNN and CPU kin); release_gpu_memory() collects garbage and hands the GPU's cached blocks back.
from accelerate.utils.memory import release_memory as release_gpu_memory  # noqa: F401
from accelerate.utils.memory import should_reduce_batch_size as is_out_of_memory  # noqa: F401

from ..config import RunConfig
from ..errors import AgNewsError, setting
from .folders import json_or_none, write_json_atomic

log = logging.getLogger(__name__)


class StopAndSave(transformers.TrainerCallback):
    """Once `requested` is set, save a checkpoint at the end of the current step and stop."""

    requested = False  # until the first stop

    def on_step_end(self, args, state, control, **kwargs):
        if self.requested:
            control.should_save = True
            control.should_training_stop = True

    def on_epoch_end(self, args, state, control, **kwargs):
        # The Trainer ends the cut-short epoch as if it were whole: it would score validation at, say,
        # epoch 0.45 and save the same step again. Only a real epoch end keeps its validation point.
        if self.requested and not float(state.epoch).is_integer():
            control.should_evaluate = False
            control.should_save = False


class TrainingClock(transformers.TrainerCallback):
    """Seconds of training so far, written into each checkpoint, so a resumed run reports its whole time.

    `previous_seconds` is what the checkpoint that training resumed from had trained (0 for a fresh start).
    Example: 40 s, killed, resumed from the checkpoint at 30 s, 50 s more -> train_seconds 80
    """

    FILE = "agnews_bert_clock.json"
    previous_seconds = 0.0  # until training begins

    def on_train_begin(self, args, state, control, **kwargs):
        self.began = time.perf_counter()
        self.previous_seconds = self.seconds_in(Path(args.output_dir) / f"checkpoint-{state.global_step}")

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            seconds = self.previous_seconds + time.perf_counter() - self.began
            checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            write_json_atomic(checkpoint / self.FILE, {"train_seconds": round(seconds, 3)})

    @classmethod
    def seconds_in(cls, checkpoint: Path) -> float:
        """The seconds trained up to a checkpoint; 0 when it records none (or there is no checkpoint)."""
        return float((json_or_none(Path(checkpoint) / cls.FILE) or {}).get("train_seconds", 0.0))


@contextlib.contextmanager
def first_interrupt_saves(stopper: StopAndSave):
    """While inside, the first SIGINT asks `stopper` to save and stop; the second one interrupts."""
    def request_stop(signum, frame):
        if stopper.requested:
            raise KeyboardInterrupt
        stopper.requested = True
        log.warning("\nStopping after this step and saving a checkpoint (interrupt again to stop at once)...")

    main = threading.current_thread() is threading.main_thread()  # only the main thread may set a handler
    previous = signal.signal(signal.SIGINT, request_stop) if main else None
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


def smaller_batch(config: RunConfig) -> RunConfig:
    """The same effective batch with half the rows per device step; AgNewsError below 1 row."""
    if config.batch_size <= 1:
        raise AgNewsError(
            f"the GPU ran out of memory even with {setting('batch_size', 1)}; lower {setting('max_length')}, "
            f"choose a smaller {setting('model')}, or use a GPU with more memory", field="batch_size")
    return dataclasses.replace(
        config,
        batch_size=config.batch_size // 2,
        gradient_accumulation_steps=config.gradient_accumulation_steps * 2,
        eval_batch_size=max(1, config.per_device_eval_batch_size // 2),
    )
