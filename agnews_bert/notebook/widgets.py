"""RunForm: a form of core ipywidgets bound to a RunConfig, for notebook 01.

The form never waits for a click: it shows the config's values, the student
may change them, and the next cell reads `form.config()`, a validated
RunConfig. So "Run all" works without touching the form, and CI can set the
widgets' values from code. Only core widgets are used (Dropdown, Checkbox,
Button, FloatLogSlider, FloatSlider, IntSlider, IntText, HTML, VBox), which
exist in ipywidgets 7.7 (Colab) and 8.x; the one spelling that differs goes
through `_compat`.

The lab loop is: change a setting, run the cells below, compare. So the form
built by `settings_form` remembers the student's last values in
`<output_dir>/form_settings.json` (on Drive, a new runtime gets them back), and
rebuilding it, or Run all, shows them again; "back to defaults" resets it.
"train again" asks to retrain a run that is already finished with the same
settings (otherwise the notebook loads that run). Under the form: the run
folder, the detected precision, and an estimate of the run's length.

Changing the model resets the learning rate to that model family's usual
value (ModernBERT 5e-5, BERT 2e-5); move the slider afterwards to try others.

Example:
    >>> form = RunForm(RunConfig.preset("smoke"))
    >>> form.epochs.value = 2
    >>> form.config().epochs
    2.0
"""

import json
from dataclasses import replace
from pathlib import Path

import ipywidgets as widgets

from .. import _compat
from .colab import describe_estimate, keep_checkpoints, notebook_config
from ..config import SMOKE, RunConfig, default_learning_rate
from ..errors import AgNewsError
from ..hardware import choose_precision, detect_hardware
from ..runs import is_finished, run_dir_for, write_json_atomic

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
SETTINGS_FILE = "form_settings.json"
FORM_FIELDS = ("model", "lr", "epochs", "batch_size", "max_length", "train_size", "warmup_ratio", "seed", "overwrite")
LR_EXPONENTS = (-6, -2)  # the slider spans 1e-6 to 1e-2
WIDE_LABELS = {"description_width": "120px"}


def settings_form(output_dir, hardware=None) -> "RunForm":
    """Notebook 01's form: the notebook's starting config for this hardware, with the student's last values.

    Example: settings_form("runs").config().output_dir -> "runs"
    """
    hardware = hardware or detect_hardware()
    return RunForm(notebook_config(output_dir, hardware=hardware), hardware, remember=True)


class RunForm(widgets.VBox):
    """The run's knobs as widgets; `config()` returns the RunConfig they describe.

    With remember=True the values are kept in <output_dir>/form_settings.json after each change.
    """

    def __init__(self, config: RunConfig, hardware=None, remember: bool = False):
        self.base_config = config
        self.hardware = hardware or detect_hardware()
        self.settings_file = Path(config.output_dir).expanduser() / SETTINGS_FILE if remember else None
        start = self._remembered(config)
        self._build_controls(start)
        super().__init__(children=list(self.inputs) + [self.reset, self.summary])
        self.model.observe(self._use_model_default_lr, names="value")
        for control in self.inputs:
            control.observe(self._changed, names="value")
        self.reset.on_click(self.reset_to_defaults)
        self._refresh_summary()

    def _build_controls(self, start: RunConfig) -> None:
        label = {"style": WIDE_LABELS}
        self.model = widgets.Dropdown(options=_model_options(start.model), value=start.model, description="model",
                                      layout=widgets.Layout(width="420px"), **label,
                                      **_compat.tooltip_kwargs("The encoder to fine-tune"))
        self.lr = widgets.FloatLogSlider(value=start.learning_rate, base=10, min=LR_EXPONENTS[0], max=LR_EXPONENTS[1],
                                         step=0.1, readout_format=".1e", description="learning rate", **label)
        self.epochs = widgets.FloatSlider(value=start.epochs, min=0.5, max=10, step=0.5, readout_format=".1f",
                                          description="epochs", **label)
        self.batch_size = widgets.Dropdown(options=_with_current(BATCH_SIZE_CHOICES, start.batch_size),
                                           value=start.batch_size, description="batch size", **label)
        self.max_length = widgets.IntSlider(value=start.max_length, min=32, max=512, step=32, description="max length",
                                            **label, **_compat.tooltip_kwargs("Longest text, in tokens"))
        self.train_size = widgets.Dropdown(options=_train_size_options(start.train_size),
                                           value=start.train_size or ALL_ROWS, description="training rows", **label)
        self.warmup_ratio = widgets.FloatSlider(value=start.warmup_ratio, min=0.0, max=0.5, step=0.05,
                                                readout_format=".2f", description="warm-up share", **label,
                                                **_compat.tooltip_kwargs("Share of steps that ramp the lr up from 0"))
        self.seed = widgets.IntText(value=start.seed, description="seed", **label)
        self.overwrite = widgets.Checkbox(value=start.overwrite, description="train again (replace the finished run)",
                                          indent=False)
        self.reset = widgets.Button(description="back to defaults", **_compat.tooltip_kwargs("Forget your changes"))
        self.summary = widgets.HTML()
        self.inputs = (self.model, self.lr, self.epochs, self.batch_size, self.max_length, self.train_size,
                       self.warmup_ratio, self.seed, self.overwrite)

    def config(self) -> RunConfig:
        """The RunConfig the widgets show now: the base config with the form's fields replaced."""
        chosen = replace(
            self.base_config,
            model=self.model.value,
            # Sliders move in binary floating point: 3 typed in comes back as 3.0000000000000004.
            lr=float(f"{self.lr.value:.3g}"),
            epochs=round(float(self.epochs.value), 2),
            batch_size=int(self.batch_size.value),
            max_length=int(self.max_length.value),
            train_size=None if self.train_size.value == ALL_ROWS else int(self.train_size.value),
            warmup_ratio=round(float(self.warmup_ratio.value), 3),
            seed=int(self.seed.value),
            overwrite=bool(self.overwrite.value),
        ).validated()
        return keep_checkpoints(chosen, self.hardware)

    def precision(self) -> str:
        """The precision training will use on this machine, e.g. "fp16" on a T4."""
        return choose_precision(self.base_config.precision, self.hardware)

    def reset_to_defaults(self, _button=None) -> None:
        """Put every control back to the notebook's starting values (and remember that)."""
        self._set_controls(self.base_config)

    def _set_controls(self, config: RunConfig) -> None:
        self.model.value = config.model  # first: it resets the lr to the family's default
        self.lr.value = config.learning_rate
        self.epochs.value = config.epochs
        self.batch_size.options = _with_current(BATCH_SIZE_CHOICES, config.batch_size)
        self.batch_size.value = config.batch_size
        self.max_length.value = config.max_length
        self.train_size.options = _train_size_options(config.train_size)
        self.train_size.value = config.train_size or ALL_ROWS
        self.warmup_ratio.value = config.warmup_ratio
        self.seed.value = config.seed
        self.overwrite.value = config.overwrite

    def _remembered(self, config: RunConfig) -> RunConfig:
        """The base config with the values saved by the last form, if there are valid ones."""
        if self.settings_file is None or not self.settings_file.exists():
            return config
        try:
            saved = json.loads(self.settings_file.read_text(encoding="utf-8"))
            return config.with_changes(**{name: saved[name] for name in FORM_FIELDS if name in saved})
        except (OSError, ValueError, TypeError, AgNewsError):
            return config  # a damaged or outdated file: start from the defaults

    def _remember(self) -> None:
        if self.settings_file is None:
            return
        try:
            values = {name: getattr(self.config(), name) for name in FORM_FIELDS}
            self.settings_file.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.settings_file, values)
        except (OSError, AgNewsError):
            pass  # remembering is a convenience; an invalid value is shown under the form instead

    def _use_model_default_lr(self, change) -> None:
        self.lr.value = default_learning_rate(change["new"])

    def _changed(self, change=None) -> None:
        self._remember()
        self._refresh_summary()

    def _refresh_summary(self) -> None:
        try:
            config = self.config()
        except AgNewsError as error:  # say what to fix, right under the form
            where = f"<b>not a valid run:</b> {error}"
        else:
            where = f"run folder: <code>{run_dir_for(config)}</code>{_finished_note(config)}<br>" + \
                describe_estimate(config, self.hardware) + _checkpoints_note(config)
        self.summary.value = f"precision: <b>{self.precision()}</b> (detected for {self.hardware.name})<br>{where}"


def _finished_note(config: RunConfig) -> str:
    """What happens to a run that is already finished with these settings."""
    if not is_finished(run_dir_for(config)):
        return ""
    if config.overwrite:
        return " (<b>already trained</b>; 'train again' is ticked, so it will be trained again and replaced)"
    return (" (<b>already trained</b> with these settings: the cells below load it; change a setting for a new "
            "run, or tick 'train again')")


def _checkpoints_note(config: RunConfig) -> str:
    """On Drive: whether checkpoints are copied there (long runs) or stay on the runtime (short ones)."""
    if not config.checkpoint_dir:
        return ""
    if config.mirror_checkpoints:
        return "<br>checkpoints: copied to Drive after each epoch, so a new runtime can resume"
    return ("<br>checkpoints: kept on this runtime only (a run this short is cheaper to redo than to copy "
            "1.8 GB to Drive per epoch); the finished run is saved to Drive")


def _model_options(current: str) -> list:
    options = list(MODEL_CHOICES) + ([SMOKE_CHOICE] if current == SMOKE else [])
    return options if current in dict(options).values() else [(current, current)] + options


def _with_current(choices, current) -> list:
    return sorted(set(choices) | {current})


def _train_size_options(current) -> list:
    sizes = [size for size in _with_current(TRAIN_SIZE_CHOICES, current or ALL_ROWS) if size != ALL_ROWS]
    return [(f"{size:,}", size) for size in sizes] + [("all", ALL_ROWS)]
