"""The settings form of notebook 01 (`settings_form`, `RunForm`), its starting config, and the run-length estimate.

The form never waits for a click: it shows the config's values, the student
may change them, and the next cell reads `form.config()`, a validated
RunConfig. So "Run all" works without touching the form, and CI can set the
widgets' values from code. Only core widgets are used (Dropdown, Checkbox,
Button, SelectionSlider, IntText, HTML, VBox), which exist in ipywidgets 7.7
(Colab) and 8.x; the one spelling that differs goes through `_compat`.

Every slider is a SelectionSlider over named values, never a float slider:
the browser moves a float slider to its grid (a FloatLogSlider with step 0.1
turns 5e-5 into 5.0119e-5) and sends that back, so an untouched form would
change the run. A SelectionSlider (and a Dropdown) sends back the index of one
of its own values, and the form adds the config's value to the list when it is
not on it. One table, CHOICES, describes these controls.

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

The estimate (`estimated_minutes`) counts the work of a run (6 x non-embedding
parameters x tokens to train) and divides it by a speed assumed for the device;
on Drive it also decides whether checkpoints are copied there (`keep_checkpoints`).

Example:
    >>> form = RunForm(RunConfig.from_preset("smoke"), Hardware("cpu", "CPU"))
    >>> form.epochs.value = 2
    >>> form.config().epochs
    2.0
    >>> estimated_minutes(RunConfig.from_preset("colab"), Hardware("cuda", "Tesla T4", (7, 5)))
    {'train': 2.2, 'total': 3.5}
"""

import math
from dataclasses import replace
from pathlib import Path

import ipywidgets as widgets

from .. import _compat
from .class_defaults import class_defaults
from .colab import CPU_PRESET, DRIVE_RUNS_DIR, LOCAL_CHECKPOINTS_DIR, SWITCH_RUNTIME_HINT
from .lessons import lr_label
from ..config import METHODS, SMOKE, RunConfig, default_learning_rate
from ..errors import AgNewsError
from ..hardware import Hardware, choose_precision, detect_hardware  # noqa: F401  (Hardware: the doctest's)
from ..lab.folders import is_finished, read_json, run_dir_for, write_json_atomic
from ..smoke import smoke_mode

MODEL_CHOICES = (
    ("ModernBERT-base", "answerdotai/ModernBERT-base"),
    ("BERT-base (uncased)", "bert-base-uncased"),
    ("DistilBERT-base (uncased)", "distilbert-base-uncased"),
    ("BERT-mini (fast, for a CPU)", "google/bert_uncased_L-4_H-256_A-4"),
)
METHOD_LABELS = {"full": "full fine-tuning (every weight)", "lora": "LoRA (low-rank adapters + the head)",
                 "linear-probe": "linear probe (frozen encoder, head only)"}
ALL_ROWS = math.inf  # the train-size dropdown's value for "every training row" (train_size=None): listed last
NO_EARLY_STOPPING = 0  # the patience dropdown's value for "off" (early_stopping_patience=None)
SETTINGS_FILE = "form_settings.json"
WIDE_LABELS = {"description_width": "120px"}


# field: (widget, description, the usual values, how a value is labelled, hover text), in the form's order.
# The model's options are MODEL_CHOICES' (label, value) pairs; see `_options`.
CHOICES = {
    "model": (widgets.Dropdown, "model", MODEL_CHOICES, None, "The encoder to fine-tune"),
    "method": (widgets.Dropdown, "method", METHODS, METHOD_LABELS.get, "Which weights training changes"),
    "lora_r": (widgets.Dropdown, "LoRA rank r", (1, 2, 4, 8, 16, 32, 64), str, None),
    "lora_alpha": (widgets.Dropdown, "LoRA alpha", (1, 2, 4, 8, 16, 32, 64, 128), str,
                   "The adapters' updates are scaled by alpha / r"),
    "lora_dropout": (widgets.Dropdown, "LoRA dropout", (0.0, 0.05, 0.1, 0.2, 0.3), "{:.2f}".format, None),
    "lr": (widgets.SelectionSlider, "learning rate",
           (1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 3e-5, 5e-5, 1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 3e-3, 1e-2), lr_label, None),
    "epochs": (widgets.SelectionSlider, "epochs", tuple(half / 2 for half in range(1, 21)), "{:g}".format, None),
    "batch_size": (widgets.Dropdown, "batch size", (8, 16, 32, 64, 128), str, None),
    "max_length": (widgets.SelectionSlider, "max length", tuple(range(32, 513, 32)), str, "Longest text, in tokens"),
    "train_size": (widgets.Dropdown, "training rows", (1_000, 2_000, 4_000, 12_000, 30_000, 60_000, ALL_ROWS),
                   lambda rows: "all" if rows == ALL_ROWS else f"{rows:,}", None),
    "warmup_ratio": (widgets.SelectionSlider, "warm-up share", tuple(round(step * 0.05, 2) for step in range(11)),
                     "{:.2f}".format, "Share of steps that ramp the lr up from 0"),
    "early_stopping_patience": (widgets.Dropdown, "early stopping", (NO_EARLY_STOPPING, 1, 2, 3),
                                lambda epochs: "off" if epochs == NO_EARLY_STOPPING else
                                f"after {epochs} epoch{'s' if epochs > 1 else ''} without gain",
                                "Stop after this many epochs without a better validation macro-F1"),
}
FORM_FIELDS = (*CHOICES, "seed", "overwrite")  # the RunConfig fields the form sets


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
        start = _shown(self._remembered(config))
        for field in CHOICES:
            setattr(self, field, _choice_control(field, start[field]))
        self.seed = widgets.IntText(value=start["seed"], description="seed", style=WIDE_LABELS)
        self.overwrite = widgets.Checkbox(value=start["overwrite"], indent=False,
                                          description="train again (replace the finished run)")
        self.reset = widgets.Button(description="back to defaults", **_compat.tooltip_kwargs("Forget your changes"))
        self.summary = widgets.HTML()
        self.inputs = tuple(getattr(self, field) for field in FORM_FIELDS)
        self.lora_controls = widgets.VBox([self.lora_r, self.lora_alpha, self.lora_dropout])
        super().__init__(children=[self.model, self.method, self.lora_controls, *self.inputs[5:], self.reset,
                                   self.summary])
        for control in (self.model, self.method):  # first, so the summary below sees the usual lr they reset
            control.observe(lambda _: self._choose("lr", default_learning_rate(self.model.value, self.method.value)),
                            names="value")
        for control in self.inputs:
            control.observe(self._changed, names="value")
        self.reset.on_click(self.reset_to_defaults)
        self._refresh_summary()

    def config(self) -> RunConfig:
        """The RunConfig the widgets show now: the base config with the form's fields replaced."""
        values = {field: control.value for field, control in zip(FORM_FIELDS, self.inputs)}
        values["train_size"] = None if values["train_size"] == ALL_ROWS else values["train_size"]
        values["early_stopping_patience"] = values["early_stopping_patience"] or None
        return keep_checkpoints(replace(self.base_config, **values).validated(), self.hardware)

    def precision(self) -> str:
        """The precision training will use on this machine, e.g. "fp16" on a T4."""
        return choose_precision(self.base_config.precision, self.hardware)

    def reset_to_defaults(self, _button=None) -> None:
        """Put every control back to the notebook's starting values (and remember that)."""
        for field, value in _shown(self.base_config).items():  # the model and the method first: they reset the lr
            self._choose(field, value)

    def _choose(self, field: str, value) -> None:
        """Set a control to value, adding value to its options first if it is not one of them."""
        control = getattr(self, field)
        if hasattr(control, "options") and value not in [option for _, option in control.options]:
            control.options = _options(field, value)
        control.value = value

    def _remembered(self, config: RunConfig) -> RunConfig:
        """The base config with the values saved by the last form, if there are valid ones."""
        if self.settings_file is None:
            return config
        try:
            saved = read_json(self.settings_file)
            return config.with_changes(**{name: saved[name] for name in FORM_FIELDS if name in saved})
        except (OSError, ValueError, TypeError, AgNewsError):
            return config  # no file yet, or a damaged or outdated one: start from the defaults

    def _changed(self, change=None) -> None:
        """Remember the values (with remember=True), then redo the lines under the form."""
        if self.settings_file is not None:
            try:
                self.settings_file.parent.mkdir(parents=True, exist_ok=True)
                config = self.config()
                write_json_atomic(self.settings_file, {name: getattr(config, name) for name in FORM_FIELDS})
            except (OSError, AgNewsError):
                pass  # remembering is a convenience; an invalid value is shown under the form instead
        self._refresh_summary()

    def _refresh_summary(self) -> None:
        """The lines under the form; LoRA's knobs only while the method is LoRA (for the others they change nothing)."""
        self.lora_controls.layout.display = None if self.method.value == "lora" else "none"
        try:
            config = self.config()
        except AgNewsError as error:  # say what to fix, right under the form
            where = f"<b>not a valid run:</b> {error}"
        else:
            finished = FINISHED_NOTES[config.overwrite] if is_finished(run_dir_for(config)) else ""
            checkpoints = CHECKPOINT_NOTES[config.mirror_checkpoints] if config.checkpoint_dir else ""
            where = f"run folder: <code>{run_dir_for(config)}</code>{finished}<br>" + \
                describe_estimate(config, self.hardware) + checkpoints
        self.summary.value = f"precision: <b>{self.precision()}</b> (detected for {self.hardware.name})<br>{where}"


def _shown(config: RunConfig) -> dict:
    """The form's value of each field: the lr the run trains with, and ALL_ROWS / 0 where the config has None."""
    return {**{field: getattr(config, field) for field in FORM_FIELDS}, "train_size": config.train_size or ALL_ROWS,
            "lr": config.learning_rate, "early_stopping_patience": config.early_stopping_patience or NO_EARLY_STOPPING}


def _choice_control(field: str, current):
    """The CHOICES control of a field, the current value among its options.

    Example: _choice_control("epochs", 1.25).options[:3] -> (("0.5", 0.5), ("1", 1.0), ("1.25", 1.25))
    """
    kind, description, _, _, tooltip = CHOICES[field]
    extra = {"continuous_update": False} if kind is widgets.SelectionSlider else {}
    if field in ("model", "method"):  # long labels
        extra["layout"] = widgets.Layout(width="420px")
    return kind(options=_options(field, current), value=current, description=description, style=WIDE_LABELS,
                **extra, **(_compat.tooltip_kwargs(tooltip) if tooltip else {}))


def _options(field: str, current) -> list:
    """(label, value) pairs for a field's control, with `current` added where it is missing.

    Example: _options("lora_r", 12)[-3:] -> [("12", 12), ("16", 16), ("32", 32)] ... [("64", 64)]
    """
    if field == "model":
        options = list(MODEL_CHOICES) + ([("smoke (tiny, offline)", SMOKE)] if current == SMOKE else [])
        return options if current in dict(options).values() else [(current, current)] + options
    _, _, usual, label, _ = CHOICES[field]
    values = usual if field == "method" else sorted(set(usual) | {current})  # the methods in their teaching order
    return [(label(value), value) for value in values]


# What the summary says of a run already finished with these settings, by config.overwrite; and on Drive,
# where checkpoints go, by config.mirror_checkpoints (long runs copy them there, short ones do not).
FINISHED_NOTES = {
    True: " (<b>already trained</b>; 'train again' is ticked, so it will be trained again and replaced)",
    False: " (<b>already trained</b> with these settings: the cells below load it; change a setting for a new "
           "run, or tick 'train again')"}
CHECKPOINT_NOTES = {
    True: "<br>checkpoints: copied to Drive after each epoch, so a new runtime can resume",
    False: "<br>checkpoints: kept on this runtime only (a run this short is cheaper to redo than to copy "
           "1.8 GB to Drive per epoch); the finished run is saved to Drive"}


# --- the starting config, and the run-length estimate shown under the form ---------------------------------------

# The run-length estimate (estimated_minutes). Assumed speeds, not measurements: a
# fraction of each device's dense 16-bit peak (fp32 on a CPU) that small fine-tuning
# batches reach, e.g. 8 of a T4's 65 TFLOP/s; 30 GFLOP/s for Colab's 2 CPU cores.
# In both tables the first key found in the name counts; the key "" matches any other name.
EFFECTIVE_FLOPS = {"t4": 8e12, "l4": 25e12, "a100": 80e12, "h100": 200e12, "cpu": 3e10, "": 8e12}
NON_EMBEDDING_PARAMETERS = {"modernbert-base": 111e6, "modernbert-large": 353e6, "distilbert": 43e6,
                            "bert_uncased_l-4_h-256": 3.2e6, "bert-base": 86e6, "bert-large": 303e6,
                            SMOKE: 0.1e6, "": 110e6}
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


def notebook_config(output_dir: str, preset: str | None = None, hardware=None, **overrides) -> RunConfig:
    """The RunConfig a notebook starts from, saving under output_dir.

    The preset is `preset` if given, else "smoke" in smoke mode, "colab" (ModernBERT-base)
    with a CUDA GPU, and "cpu" (a small BERT) without one. On Drive, checkpoints are
    written to the runtime's local disk (see `keep_checkpoints`).
    Example (smoke mode): notebook_config("runs").model -> "smoke"
    """
    hardware = hardware or detect_hardware()
    preset = preset or (SMOKE if smoke_mode() else "colab" if hardware.device == "cuda" else CPU_PRESET)
    starting = {**class_defaults(preset), **overrides}  # the teacher's fields (class_defaults.py), then the cell's
    return keep_checkpoints(RunConfig.from_preset(preset, output_dir=str(output_dir), **starting), hardware)


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
    parameters = _first_match(NON_EMBEDDING_PARAMETERS, config.model.lower().rstrip("/").split("/")[-1])
    speed = _first_match(EFFECTIVE_FLOPS, hardware.name.lower() if hardware.device == "cuda" else "cpu")
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


def _first_match(table: dict, name: str) -> float:
    """The value of the first key of table found in name. Example: (EFFECTIVE_FLOPS, "tesla t4") -> 8e12"""
    return next(value for key, value in table.items() if key in name)
