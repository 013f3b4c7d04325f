"""What the notebooks show: the TrainingArguments that matter, whole texts, and runs side by side.

Small display helpers, so the notebook cells stay one call per idea:

- `training_args_table` reads a real `transformers.TrainingArguments` (the one
  `build_training_args` made) and lists the fields that decide the run, each
  with one line on why it is set so. It lists only the fields this
  transformers version has (warm-up is `warmup_ratio` in 4.x and a fractional
  `warmup_steps` in 5.x; length grouping is `group_by_length` or
  `train_sampling_strategy`), so it never has to branch on the version.
- `whole_texts` shows a table without pandas' 50-character cut, for the cells
  whose prose asks students to read the texts (the data preview, the most
  confident mistakes). Taught in notebooks 01 and 03.
- `runs_view` is the runs table cut down for comparing (notebooks 01 and 03,
  `agnews-bert runs`): the run name, then the scores, then only the settings
  that differ between the listed runs, whole numbers shown as whole numbers.
  The scores come before the settings so that a line stays readable however
  many settings differ (the test macro-F1 is within its first 100 characters).
  `runs_table` keeps every column. Pandas only, so the CLI starts without torch.

Example:
    >>> from transformers import TrainingArguments
    >>> training_args_table(TrainingArguments("runs/example", num_train_epochs=2))["value"].tolist()[:2]
    [2, 5e-05]
    >>> lr_label(0.00025)
    '2.5e-4'
"""

import logging
from pathlib import Path

import pandas as pd

from ..errors import setting
from ..lab.folders import load_results, runs_table

log = logging.getLogger(__name__)

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
    values = training_args.to_dict()  # transformers' own view of the fields: an enum as its value ("epoch")
    rows = [(field, values[field], why) for field, why in TRAINING_ARGS_WHY if field in values]
    return whole_texts(pd.DataFrame(rows, columns=["field", "value", "why"]))


class WholeTexts(pd.DataFrame):
    """A DataFrame that displays every character of its cells, in a notebook and as text.

    `.frame` is it as a plain DataFrame. Example: whole_texts(pd.DataFrame({"text": ["a" * 300]})) shows all 300.
    """

    def _repr_html_(self) -> str:
        with pd.option_context("display.max_colwidth", None, "display.max_columns", None):
            return super()._repr_html_()

    def __repr__(self) -> str:
        with pd.option_context("display.max_colwidth", None, "display.max_columns", None, "display.width", 10_000):
            return super().__repr__()

    @property
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self)


whole_texts = WholeTexts  # notebooks 01 and 03: a table of texts to read, without pandas' 50-character cut


# The runs index's columns a comparison shows: scores always, settings only where the listed runs differ.
SCORE_COLUMNS = ("test_macro_f1", "test_accuracy", "validation_macro_f1")
SETTING_COLUMNS = ("model", "train_rows", "epochs", "lr", "batch_size", "gradient_accumulation_steps", "max_length",
                   "warmup_ratio", "weight_decay", "seed", "precision", "validation_rows", "test_rows")
ONE_RUN_SETTINGS = ("model", "train_rows", "epochs", "lr")  # what a single run is shown with


def runs_view(output_dir="runs", also=()) -> WholeTexts:
    """The finished runs, best test macro-F1 first, made for comparing: run_name, scores, the settings that differ.

    `also` adds columns of the runs table at the end, e.g. also=["train_seconds"].
    Example: two runs that differ only in batch size -> columns run_name, test_macro_f1, test_accuracy,
    validation_macro_f1, batch_size. Every column: `runs_table(output_dir)`.
    """
    table = runs_table(output_dir)
    if table.empty:
        return whole_texts(table)
    settings = differing_settings(table) if len(table) > 1 else [c for c in ONE_RUN_SETTINGS if c in table]
    columns = dict.fromkeys(["run_name", *SCORE_COLUMNS, *settings, *also])  # in order, each once
    shown = table[[column for column in columns if column in table]]
    return whole_texts(shown.assign(**{name: _readable(shown[name], name) for name in shown.columns[1:]}))


def differing_settings(table: pd.DataFrame) -> list:
    """The setting columns whose value is not the same in every row. Example: lr 5e-5 and 1e-4 -> ["lr"]"""
    return [column for column in SETTING_COLUMNS if column in table and table[column].map(repr).nunique() > 1]


def run_labels(table: pd.DataFrame) -> list:
    """A short label for each run of a runs table: the settings in which it differs from the others.

    Example: two runs with batch sizes 16 and 32 -> ["batch_size 16", "batch_size 32"]; the run
    name where that says nothing (one run, or two runs the same in every listed setting).
    """
    settings = differing_settings(table)
    labels = [", ".join(f"{column} {_label_value(row[column], column)}" for column in settings) or row["run_name"]
              for _, row in table.iterrows()]
    repeated = {label for label in labels if labels.count(label) > 1}
    return [f"{label} ({name})" if label in repeated else label for label, name in zip(labels, table["run_name"])]


def loss_histories(output_dir="runs") -> dict:
    """The log history of every finished run, keyed by `run_labels`: one curve each for plot_training_loss.

    Taught in notebook 01's exercise 1. Example: {"lr 1e-3": [...], "lr 1e-6": [...]}
    """
    table = runs_table(output_dir)
    return {} if table.empty else _histories(output_dir, table)


def first_losses(output_dir="runs", steps: int = 5, **settings) -> pd.DataFrame:
    """The first `steps` logged training losses of each finished run with these settings, one column per run.

    Columns are labelled by what differs between the runs (`run_labels`); rows are training steps.
    Says which runs to train when fewer than two match. Notebook 01's exercise 6.
    Example: first_losses("runs", lr=1e-4) -> columns "warmup_ratio 0.0", "warmup_ratio 0.1"
    """
    table = runs_table(output_dir)
    for name, value in settings.items():
        table = table[table[name] == value] if name in table else table.iloc[0:0]
    if len(table) < 2:
        log.info(f"{len(table)} finished run(s) with {', '.join(setting(*item) for item in settings.items())}: "
                 "train the runs the exercise asks for, then run this cell again")
    columns = {run: pd.Series({row["step"]: round(row["loss"], 3) for row in rows if "loss" in row}).head(steps)
               for run, rows in _histories(output_dir, table).items()}
    return pd.DataFrame(columns).rename_axis("step")


def _histories(output_dir, table: pd.DataFrame) -> dict:
    """The log history of each run in a runs table, keyed by `run_labels`."""
    return {label: load_results(Path(output_dir).expanduser() / name)["log_history"]
            for label, name in zip(run_labels(table), table["run_name"])}


def prediction_table(predictions: list) -> pd.DataFrame:
    """`predict`'s rows as a small table: text, predicted label, its probability (3 digits).

    Example: [{"text": "Stocks fell", "label": "Business", "probabilities": {"Business": 0.912, ...}}]
             -> one row: "Stocks fell", "Business", 0.912
    """
    rows = [{"text": row["text"], "label": row["label"], "probability": round(row["probabilities"][row["label"]], 3)}
            for row in predictions]
    return pd.DataFrame(rows, columns=["text", "label", "probability"])


def _label_value(value, column: str) -> str:
    return lr_label(value) if column == "lr" else f"{value:g}" if isinstance(value, float) else str(value)


def _readable(column: pd.Series, name: str) -> pd.Series:
    """Scores rounded to 4 digits, learning rates as 5e-05, whole numbers (6.0 epochs) as 6."""
    if name in SCORE_COLUMNS:
        return column.astype(float).round(4)
    if name == "lr":
        return column.map(lambda value: lr_label(value) if value == value and value is not None else "-")
    numbers = pd.to_numeric(column, errors="coerce")
    whole = numbers.notna().all() and (numbers % 1 == 0).all()
    return numbers.astype("Int64") if whole and column.dtype != object else column


def lr_label(value: float) -> str:
    """A learning rate as a student writes it. Example: 5e-05 -> "5e-5", 0.00025 -> "2.5e-4" """
    mantissa, exponent = f"{value:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
