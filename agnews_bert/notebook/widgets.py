"""RunForm: a form of core ipywidgets bound to a RunConfig, for notebook 01.

The form never waits for a click: it shows the config's values, the student
may change them, and the next cell reads `form.config()`, a validated
RunConfig. So "Run all" works without touching the form, and CI can set the
widgets' values from code. Only core widgets are used (Dropdown, Checkbox,
Button, SelectionSlider, IntText, HTML, VBox), which exist in ipywidgets 7.7
(Colab) and 8.x; the one spelling that differs goes through `_compat`.

Every slider is a SelectionSlider over named values, never a float slider:
the browser moves a float slider to its grid (a FloatLogSlider with step 0.1
turns 5e-5 into 5.0119e-5) and sends that back, so an untouched form would
change the run. A SelectionSlider sends back the index of one of its own
values, and the form adds the config's value to the list when it is not on it.

The lab loop is: change a setting, run the cells below, compare. So the form
built by `settings_form` remembers the student's last values in
`<output_dir>/form_settings.json` (on Drive, a new runtime gets them back), and
rebuilding it, or Run all, shows them again; "back to defaults" resets it.
"train again" asks to retrain a run that is already finished with the same
settings (otherwise the notebook loads that run). Under the form: the run
folder, the detected precision, and an estimate of the run's length.

Changing the model or the method resets the learning rate to the usual value
for that model family and method (ModernBERT 5e-5, BERT 2e-5; LoRA 5e-4, the
linear probe 1e-3); move the slider afterwards to try others. LoRA's rank,
alpha and dropout are shown only while the method is LoRA: for the other
methods they change nothing, and the run folder does not change with them.

Example:
    >>> form = RunForm(RunConfig.from_preset("smoke"))
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
from .lessons import lr_label
from ..config import METHODS, SMOKE, RunConfig, default_learning_rate
from ..errors import AgNewsError
from ..hardware import choose_precision, detect_hardware
from ..lab.folders import is_finished, run_dir_for, write_json_atomic

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
FORM_FIELDS = ("model", "method", "lora_r", "lora_alpha", "lora_dropout", "lr", "epochs", "batch_size", "max_length",
               "train_size", "warmup_ratio", "early_stopping_patience", "seed", "overwrite")
METHOD_LABELS = {"full": "full fine-tuning (every weight)", "lora": "LoRA (low-rank adapters + the head)",
                 "linear-probe": "linear probe (frozen encoder, head only)"}
LORA_R_CHOICES = (1, 2, 4, 8, 16, 32, 64)
LORA_ALPHA_CHOICES = (1, 2, 4, 8, 16, 32, 64, 128)
LORA_DROPOUT_CHOICES = (0.0, 0.05, 0.1, 0.2, 0.3)
NO_EARLY_STOPPING = 0  # the patience dropdown's value for "off" (early_stopping_patience=None)
PATIENCE_CHOICES = (1, 2, 3)
LR_CHOICES = (1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 3e-5, 5e-5, 1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 3e-3, 1e-2)
EPOCH_CHOICES = tuple(half / 2 for half in range(1, 21))  # 0.5 to 10
MAX_LENGTH_CHOICES = tuple(range(32, 513, 32))
WARMUP_CHOICES = tuple(round(step * 0.05, 2) for step in range(11))  # 0 to 0.5
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
        self._build_method_controls(start)
        self.inputs = (self.model, self.method, self.lora_r, self.lora_alpha, self.lora_dropout, self.lr, self.epochs,
                       self.batch_size, self.max_length, self.train_size, self.warmup_ratio,
                       self.early_stopping_patience, self.seed, self.overwrite)
        super().__init__(children=[self.model, self.method, self.lora_controls, self.lr, self.epochs, self.batch_size,
                                   self.max_length, self.train_size, self.warmup_ratio, self.early_stopping_patience,
                                   self.seed, self.overwrite, self.reset, self.summary])
        for control in (self.model, self.method):  # first, so the summary below sees the new lr
            control.observe(self._use_usual_lr, names="value")
        self.method.observe(self._show_lora_controls, names="value")
        for control in self.inputs:
            control.observe(self._changed, names="value")
        self.reset.on_click(self.reset_to_defaults)
        self._show_lora_controls()
        self._refresh_summary()

    def _build_controls(self, start: RunConfig) -> None:
        label = {"style": WIDE_LABELS}
        self.model = widgets.Dropdown(options=_model_options(start.model), value=start.model, description="model",
                                      layout=widgets.Layout(width="420px"), **label,
                                      **_compat.tooltip_kwargs("The encoder to fine-tune"))
        self.lr = _choice_slider("learning rate", LR_CHOICES, start.learning_rate, lr_label)
        self.epochs = _choice_slider("epochs", EPOCH_CHOICES, start.epochs, _epochs_label)
        self.batch_size = widgets.Dropdown(options=_with_current(BATCH_SIZE_CHOICES, start.batch_size),
                                           value=start.batch_size, description="batch size", **label)
        self.max_length = _choice_slider("max length", MAX_LENGTH_CHOICES, start.max_length, str,
                                         **_compat.tooltip_kwargs("Longest text, in tokens"))
        self.train_size = widgets.Dropdown(options=_train_size_options(start.train_size),
                                           value=start.train_size or ALL_ROWS, description="training rows", **label)
        self.warmup_ratio = _choice_slider("warm-up share", WARMUP_CHOICES, start.warmup_ratio, _share_label,
                                           **_compat.tooltip_kwargs("Share of steps that ramp the lr up from 0"))
        self.seed = widgets.IntText(value=start.seed, description="seed", **label)
        self.overwrite = widgets.Checkbox(value=start.overwrite, description="train again (replace the finished run)",
                                          indent=False)
        self.reset = widgets.Button(description="back to defaults", **_compat.tooltip_kwargs("Forget your changes"))
        self.summary = widgets.HTML()

    def _build_method_controls(self, start: RunConfig) -> None:
        """What is trained (the method, LoRA's three knobs) and when to stop (early-stopping patience)."""
        label = {"style": WIDE_LABELS}
        self.method = widgets.Dropdown(options=[(METHOD_LABELS[method], method) for method in METHODS],
                                       value=start.method, description="method", layout=widgets.Layout(width="420px"),
                                       **label, **_compat.tooltip_kwargs("Which weights training changes"))
        self.lora_r = _choice_dropdown("LoRA rank r", LORA_R_CHOICES, start.lora_r, str)
        self.lora_alpha = _choice_dropdown("LoRA alpha", LORA_ALPHA_CHOICES, start.lora_alpha, str,
                                           **_compat.tooltip_kwargs("The adapters' updates are scaled by alpha / r"))
        self.lora_dropout = _choice_dropdown("LoRA dropout", LORA_DROPOUT_CHOICES, start.lora_dropout, _share_label)
        self.lora_controls = widgets.VBox([self.lora_r, self.lora_alpha, self.lora_dropout])
        self.early_stopping_patience = widgets.Dropdown(
            options=_patience_options(start.early_stopping_patience),
            value=start.early_stopping_patience or NO_EARLY_STOPPING, description="early stopping", **label,
            **_compat.tooltip_kwargs("Stop after this many epochs without a better validation macro-F1"))

    def config(self) -> RunConfig:
        """The RunConfig the widgets show now: the base config with the form's fields replaced."""
        chosen = replace(
            self.base_config,
            model=self.model.value,
            method=self.method.value,
            lora_r=int(self.lora_r.value),
            lora_alpha=int(self.lora_alpha.value),
            lora_dropout=float(self.lora_dropout.value),
            lr=float(self.lr.value),
            epochs=float(self.epochs.value),
            batch_size=int(self.batch_size.value),
            max_length=int(self.max_length.value),
            train_size=None if self.train_size.value == ALL_ROWS else int(self.train_size.value),
            warmup_ratio=float(self.warmup_ratio.value),
            early_stopping_patience=int(self.early_stopping_patience.value) or None,
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
        self.model.value = config.model  # first, with the method: they reset the lr to its usual value
        self.method.value = config.method
        _choose(self.lora_r, config.lora_r, str)
        _choose(self.lora_alpha, config.lora_alpha, str)
        _choose(self.lora_dropout, config.lora_dropout, _share_label)
        _choose(self.lr, config.learning_rate, lr_label)
        _choose(self.epochs, config.epochs, _epochs_label)
        self.batch_size.options = _with_current(BATCH_SIZE_CHOICES, config.batch_size)
        self.batch_size.value = config.batch_size
        _choose(self.max_length, config.max_length, str)
        self.train_size.options = _train_size_options(config.train_size)
        self.train_size.value = config.train_size or ALL_ROWS
        _choose(self.warmup_ratio, config.warmup_ratio, _share_label)
        self.early_stopping_patience.options = _patience_options(config.early_stopping_patience)
        self.early_stopping_patience.value = config.early_stopping_patience or NO_EARLY_STOPPING
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

    def _use_usual_lr(self, _change=None) -> None:
        _choose(self.lr, default_learning_rate(self.model.value, self.method.value), lr_label)

    def _show_lora_controls(self, _change=None) -> None:
        """LoRA's knobs only while the method is LoRA: for the others they change nothing."""
        self.lora_controls.layout.display = None if self.method.value == "lora" else "none"

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


def _choice_slider(description: str, choices, current, label, **tooltip) -> widgets.SelectionSlider:
    """A slider over named values (the current one added if missing): what the browser sends back is one of them.

    Example: _choice_slider("epochs", (1.0, 2.0), 1.5, _epochs_label).options -> (("1", 1.0), ("1.5", 1.5), ("2", 2.0))
    """
    return widgets.SelectionSlider(options=_labelled(choices, current, label), value=current, description=description,
                                   continuous_update=False, style=WIDE_LABELS, **tooltip)


def _choice_dropdown(description: str, choices, current, label, **tooltip) -> widgets.Dropdown:
    """A dropdown over named values (the current one added if missing), like `_choice_slider`.

    Example: _choice_dropdown("LoRA rank r", (4, 8), 12, str).options -> (("4", 4), ("8", 8), ("12", 12))
    """
    return widgets.Dropdown(options=_labelled(choices, current, label), value=current, description=description,
                            style=WIDE_LABELS, **tooltip)


def _choose(control, value, label) -> None:
    """Set a choice slider or dropdown to value, adding value to its options first if it is not one of them."""
    choices = [option for _, option in control.options]
    if value not in choices:
        control.options = _labelled(choices, value, label)
    control.value = value


def _labelled(choices, current, label) -> list:
    return [(label(choice), choice) for choice in _with_current(choices, current)]


def _epochs_label(value: float) -> str:
    return f"{value:g}"


def _share_label(value: float) -> str:
    return f"{value:.2f}"


def _patience_options(current) -> list:
    """Example: _patience_options(None) -> [("off", 0), ("after 1 epoch without gain", 1), ...]"""
    patiences = _with_current(PATIENCE_CHOICES, current or PATIENCE_CHOICES[0])
    return [("off", NO_EARLY_STOPPING)] + [
        (f"after {patience} epoch{'s' if patience > 1 else ''} without gain", patience) for patience in patiences]


def _model_options(current: str) -> list:
    options = list(MODEL_CHOICES) + ([SMOKE_CHOICE] if current == SMOKE else [])
    return options if current in dict(options).values() else [(current, current)] + options


def _with_current(choices, current) -> list:
    return sorted(set(choices) | {current})


def _train_size_options(current) -> list:
    sizes = [size for size in _with_current(TRAIN_SIZE_CHOICES, current or ALL_ROWS) if size != ALL_ROWS]
    return [(f"{size:,}", size) for size in sizes] + [("all", ALL_ROWS)]
