"""RunForm: a form of core ipywidgets bound to a RunConfig, for notebook 01.

The form never waits for a click: it shows the config's values, the student
may change them, and the next cell reads `form.config()`, a validated
RunConfig. So "Run all" works without touching the form, and CI can set the
widgets' values from code. Only core widgets are used (Dropdown,
FloatLogSlider, FloatSlider, IntSlider, IntText, HTML, VBox), which exist in
ipywidgets 7.7 (Colab) and 8.x; the one spelling that differs goes through
`_compat`.

Changing the model resets the learning rate to that model family's usual
value (ModernBERT 5e-5, BERT 2e-5); move the slider afterwards to try others.
Precision is not a choice here: it is detected from the GPU and shown.

Example:
    >>> form = RunForm(RunConfig.preset("smoke"))
    >>> form.epochs.value = 2
    >>> form.config().epochs
    2.0
"""

from dataclasses import replace

import ipywidgets as widgets

from . import _compat
from .config import SMOKE, RunConfig, default_learning_rate
from .hardware import choose_precision, detect_hardware
from .runs import is_finished, run_dir_for

MODEL_CHOICES = (
    ("ModernBERT-base", "answerdotai/ModernBERT-base"),
    ("BERT-base (uncased)", "bert-base-uncased"),
    ("DistilBERT-base (uncased)", "distilbert-base-uncased"),
    ("BERT-mini (fast, for a CPU)", "google/bert_uncased_L-4_H-256_A-4"),
)
SMOKE_CHOICE = ("smoke (tiny, offline)", SMOKE)
ALL_ROWS = 0  # the train-size dropdown's value for "every training row" (train_size=None)
TRAIN_SIZE_CHOICES = (1_000, 2_000, 4_000, 12_000, 30_000, 60_000, ALL_ROWS)
BATCH_SIZE_CHOICES = (8, 16, 32, 64, 128)
LR_EXPONENTS = (-6, -2)  # the slider spans 1e-6 to 1e-2
WIDE_LABELS = {"description_width": "120px"}


class RunForm(widgets.VBox):
    """The run's knobs as widgets; `config()` returns the RunConfig they describe."""

    def __init__(self, config: RunConfig, hardware=None):
        self.base_config = config
        self.hardware = hardware or detect_hardware()
        self.model = widgets.Dropdown(options=_model_options(config.model), value=config.model, description="model",
                                      style=WIDE_LABELS, layout=widgets.Layout(width="420px"),
                                      **_compat.tooltip_kwargs("The encoder to fine-tune"))
        self.lr = widgets.FloatLogSlider(value=config.learning_rate, base=10, min=LR_EXPONENTS[0], max=LR_EXPONENTS[1],
                                         step=0.1, readout_format=".1e", description="learning rate", style=WIDE_LABELS)
        self.epochs = widgets.FloatSlider(value=config.epochs, min=0.5, max=10, step=0.5, readout_format=".1f",
                                          description="epochs", style=WIDE_LABELS)
        self.batch_size = widgets.Dropdown(options=_with_current(BATCH_SIZE_CHOICES, config.batch_size),
                                           value=config.batch_size, description="batch size", style=WIDE_LABELS)
        self.max_length = widgets.IntSlider(value=config.max_length, min=32, max=512, step=32, description="max length",
                                            style=WIDE_LABELS, **_compat.tooltip_kwargs("Longest text, in tokens"))
        self.train_size = widgets.Dropdown(options=_train_size_options(config.train_size),
                                           value=config.train_size or ALL_ROWS, description="training rows",
                                           style=WIDE_LABELS)
        self.seed = widgets.IntText(value=config.seed, description="seed", style=WIDE_LABELS)
        self.summary = widgets.HTML()
        self.inputs = (self.model, self.lr, self.epochs, self.batch_size, self.max_length, self.train_size, self.seed)
        super().__init__(children=list(self.inputs) + [self.summary])
        self.model.observe(self._use_model_default_lr, names="value")
        for control in self.inputs:
            control.observe(self._refresh_summary, names="value")
        self._refresh_summary()

    def config(self) -> RunConfig:
        """The RunConfig the widgets show now: the base config with the form's fields replaced."""
        return replace(
            self.base_config,
            model=self.model.value,
            # Sliders move in binary floating point: 3 typed in comes back as 3.0000000000000004.
            lr=float(f"{self.lr.value:.3g}"),
            epochs=round(float(self.epochs.value), 2),
            batch_size=int(self.batch_size.value),
            max_length=int(self.max_length.value),
            train_size=None if self.train_size.value == ALL_ROWS else int(self.train_size.value),
            seed=int(self.seed.value),
        ).validated()

    def precision(self) -> str:
        """The precision training will use on this machine, e.g. "fp16" on a T4."""
        return choose_precision(self.base_config.precision, self.hardware)

    def _use_model_default_lr(self, change) -> None:
        self.lr.value = default_learning_rate(change["new"])

    def _refresh_summary(self, change=None) -> None:
        try:
            config = self.config()
        except ValueError as error:  # AgNewsError: say what to fix, right under the form
            where = f"<b>not a valid run:</b> {error}"
        else:
            where = f"run folder: <code>{run_dir_for(config)}</code>{_finished_note(config)}"
        self.summary.value = f"precision: <b>{self.precision()}</b> (detected for {self.hardware.name})<br>{where}"


def _finished_note(config: RunConfig) -> str:
    """A warning when these settings were already trained: saving again would replace or refuse that run."""
    if not is_finished(run_dir_for(config)):
        return ""
    if config.overwrite:
        return " (<b>already trained</b>; it will be replaced)"
    return " (<b>already trained</b> with these settings: change one, e.g. the seed, to start a new run)"


def _model_options(current: str) -> list:
    options = list(MODEL_CHOICES) + ([SMOKE_CHOICE] if current == SMOKE else [])
    return options if current in dict(options).values() else [(current, current)] + options


def _with_current(choices, current) -> list:
    return sorted(set(choices) | {current})


def _train_size_options(current) -> list:
    sizes = [size for size in _with_current(TRAIN_SIZE_CHOICES, current or ALL_ROWS) if size != ALL_ROWS]
    return [(f"{size:,}", size) for size in sizes] + [("all", ALL_ROWS)]
