"""What the notebooks show about the Hugging Face objects: the TrainingArguments that matter, and whole texts.

Two small display helpers, so the notebook cells stay one call per idea:

- `training_args_table` reads a real `transformers.TrainingArguments` (the one
  `build_training_args` made) and lists the fields that decide the run, each
  with one line on why it is set so. It lists only the fields this
  transformers version has (warm-up is `warmup_ratio` in 4.x and a fractional
  `warmup_steps` in 5.x; length grouping is `group_by_length` or
  `train_sampling_strategy`), so it never has to branch on the version.
- `whole_texts` shows a table without pandas' 50-character cut, for the cells
  whose prose asks students to read the texts (the data preview, the most
  confident mistakes). Taught in notebooks 01 and 03.

Example:
    >>> training_args_table(build_training_args(config, run_dir, 12_000))["field"].tolist()[:2]
    ['num_train_epochs', 'learning_rate']
"""

from enum import Enum

import pandas as pd

# (field, why) in the order a student reads them; a field this transformers version lacks is left out.
TRAINING_ARGS_WHY = (
    ("num_train_epochs", "passes over the training rows"),
    ("learning_rate", "the peak step size; pretrained weights need small steps (ModernBERT ~5e-5, BERT ~2e-5)"),
    ("lr_scheduler_type", "after the warm-up the rate falls linearly to zero, so the last updates are gentle"),
    ("warmup_ratio", "share of steps that ramp the rate up from 0: Adam's first updates rest on few gradients "
                     "and are noisy and large, which could wreck pretrained weights"),
    ("warmup_steps", "below 1 a share of all steps (as here), else a count: the rate ramps up from 0 because "
                     "Adam's first updates rest on few gradients and are noisy and large"),
    ("weight_decay", "pulls weights slightly towards 0 each step, a mild guard against overfitting"),
    ("per_device_train_batch_size", "rows per step on each device; lower it if the GPU runs out of memory"),
    ("gradient_accumulation_steps", "steps whose gradients are summed before one update (effective batch = "
                                    "batch size x this)"),
    ("eval_strategy", "score the validation split after every epoch"),
    ("save_strategy", "save a checkpoint after every epoch, so a stopped run can resume"),
    ("save_total_limit", "keep at most this many checkpoints on disk"),
    ("load_best_model_at_end", "after training, go back to the epoch with the best validation score"),
    ("metric_for_best_model", "the validation score that picks that epoch (never test: that would make the "
                              "test score optimistic)"),
    ("bf16", "16-bit bfloat mixed precision (newer GPUs): faster, same range as 32-bit"),
    ("fp16", "16-bit float mixed precision (T4): faster; the loss is scaled to protect small gradients"),
    ("group_by_length", "batches of texts of similar length, so little padding is computed"),
    ("train_sampling_strategy", "group_by_length: batches of texts of similar length, so little padding is computed"),
    ("logging_steps", "log the training loss every this many steps (about 20 points per run)"),
    ("seed", "the same seed gives the same shuffling and the same new classifier layer"),
)


def training_args_table(training_args) -> pd.DataFrame:
    """The TrainingArguments fields that decide a run: field, value, why.

    Example row: {"field": "learning_rate", "value": 5e-05, "why": "the peak step size; ..."}
    """
    rows = [{"field": field, "value": _plain(getattr(training_args, field)), "why": why}
            for field, why in TRAINING_ARGS_WHY if hasattr(training_args, field)]
    return whole_texts(pd.DataFrame(rows, columns=["field", "value", "why"]))


def _plain(value):
    """An enum's value ("epoch"), anything else as it is."""
    return value.value if isinstance(value, Enum) else value


class WholeTexts:
    """A DataFrame that displays every character of its cells, in a notebook and as text.

    `.frame` is the DataFrame itself; indexing and column access go to it.
    Example: whole_texts(pd.DataFrame({"text": ["a" * 300]})) shows all 300 characters.
    """

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame

    def _repr_html_(self) -> str:
        with pd.option_context("display.max_colwidth", None):
            return self.frame._repr_html_()

    def __repr__(self) -> str:
        with pd.option_context("display.max_colwidth", None, "display.width", 10_000):
            return repr(self.frame)

    def __getitem__(self, key):
        return self.frame[key]

    def __getattr__(self, name):
        if name == "frame":  # not set yet (while unpickling): avoid endless recursion
            raise AttributeError(name)
        return getattr(self.frame, name)

    def __len__(self) -> int:
        return len(self.frame)


def whole_texts(frame: pd.DataFrame) -> WholeTexts:
    """Show a table without pandas' 50-character cut (display.max_colwidth), for tables of texts to read."""
    return WholeTexts(frame)
