"""RunConfig: every knob of one fine-tuning run, its presets and its checks.

A run is fully described by a `RunConfig`; it is written as `config.json` into
the run folder and can be read back with `RunConfig.from_json`. Each field is
declared once, with `knob`: its default, the help its `agnews-bert train` flag
shows (the CLI builds its flags from these fields, as `HfArgumentParser` does),
and what it accepts (a range, or choices), which one loop over the fields checks.
Three presets:

- `colab` (the default): ModernBERT-base on 12,000 AG News training rows for
  2 epochs, as the course's original notebook did, but validated on held-out
  training rows and run in mixed precision.
- `cpu`: a small BERT on 2,000 rows that finishes in minutes on a laptop.
- `smoke`: the bundled sample, a tiny random ModernBERT and an offline
  tokenizer; no network, seconds on a CPU. Tests and CI use it.

Example:
    >>> config = RunConfig.from_preset("smoke", epochs=3)
    >>> RunConfig.from_json(config.to_json()) == config
    True
    >>> RunConfig.from_preset("smoke", lr=-1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    agnews_bert.errors.AgNewsError: lr=-1 is out of range: use a number from 1e-07 to 1 (try 5e-5 ...)
"""

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import get_args

from .errors import AgNewsError, setting
from .smoke import SMOKE  # the word is defined (and resolved) in smoke.py

PRECISIONS = ("auto", "bf16", "fp16", "fp32")
METHODS = ("full", "lora", "linear-probe")
ATTENTIONS = ("auto", "sdpa", "eager", "flash_attention_2")
PRESET_NAMES = ("colab", "cpu", SMOKE)
RUN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
DATA_VALIDATION_SHARE = 0.1  # with your own data: all rows train, less this stratified share for validation


def knob(default, help: str, low=None, high=None, hint: str = "", choices: tuple = ()):
    """A RunConfig field: its default, its help text, and the range (low to high, with a hint) or choices it takes.

    A hint may say `{none}`, written as the user sets the field to None (`lr=None`, `--lr None`).
    """
    return field(default=default, metadata={"help": help, "range": (low, high, hint), "choices": choices})


@dataclass(frozen=True)
class RunConfig:
    """All settings of one run. Sizes are rows; a float below 1 is a share of the pool.

    Each field's help says what it does (`agnews-bert train --help` lists them all).
    checkpoint_dir is fast local disk for checkpoints while output_dir is on a slow
    network disk such as Google Drive. method "lora" trains low-rank adapters of rank
    lora_r (scaled by lora_alpha / lora_r) on the encoder's attention and MLP
    projections, plus the classification head.
    """

    model: str = knob("answerdotai/ModernBERT-base", "Hub id or local folder, e.g. answerdotai/ModernBERT-base")
    data: str = knob("fancyzhx/ag_news", "Hub id, local file or folder, or 'smoke'")
    test_data: str | None = knob(None, "a separate test set (default: the data's test split)")
    train_size: int | float | None = knob(
        12_000, "training rows, or a share like 0.1; None: all (default with --data: all rows left after validation)")
    validation_size: int | float = knob(2_000, "validation rows held out of the training data (default with "
                                        f"--data: a stratified {DATA_VALIDATION_SHARE:.0%})")
    test_size: int | float | None = knob(None, "score only this many test rows (default: all)")
    epochs: float = knob(2, "passes over the training rows", 0.01, 100, "try 2")
    lr: float | None = knob(None, "peak learning rate (default: the model family's)", 1e-7, 1.0,
                            "try 5e-5 for ModernBERT, 2e-5 for BERT")
    batch_size: int = knob(32, "training rows per step and device", 1, 4096, "try 16 or 32")
    eval_batch_size: int | None = knob(None, "evaluation rows per step and device (default: 4 x batch size)",
                                       1, 16384, "try 128")
    gradient_accumulation_steps: int = knob(1, "steps whose gradients make one update", 1, 1024, "try 1")
    max_length: int = knob(128, "tokens kept per text", 8, 8192, "AG News texts need about 128 tokens")
    warmup_ratio: float = knob(0.1, "share of the steps that ramp the learning rate up from 0", 0.0, 0.5, "try 0.1")
    weight_decay: float = knob(0.01, "AdamW's weight decay", 0.0, 1.0, "try 0.01")
    method: str = knob("full", "what is trained: every weight (full, the default), LoRA adapters and the head "
                       "(lora), or the head on a frozen encoder (linear-probe)", choices=METHODS)
    lora_r: int = knob(8, "rank of the LoRA adapters (default: 8)", 1, 1024, "try 8")
    lora_alpha: int = knob(16, "LoRA scale, alpha / r (default alpha: 16)", 1, 4096, "try twice the rank, like 16")
    lora_dropout: float = knob(0.1, "dropout on the LoRA adapters' input (default: 0.1)", 0.0, 0.9, "try 0.1")
    early_stopping_patience: int | None = knob(
        None, "stop after this many epochs without a better validation macro-F1 (default: off)", 1, 100,
        "try 2, or {none} to train every epoch")
    seed: int = knob(42, "random seed for splits, head and shuffling", 0, 2**32 - 1, "any whole number, like 42")
    precision: str = knob("auto", "auto: bf16 on an Ampere or newer GPU, fp16 on older ones, fp32 on a CPU",
                          choices=PRECISIONS)
    attention: str = knob("auto", "attention kernel (auto: FlashAttention 2 where it can run, else sdpa)",
                          choices=ATTENTIONS)
    group_by_length: bool | None = knob(None, "batch texts of similar length together (default: on)")
    output_dir: str = knob("runs", "folder that holds the run folders (default: runs)")
    run_name: str | None = knob(None, "name of this run's folder (default: built from the settings)")
    checkpoint_dir: str | None = knob(None, "fast local folder for checkpoints, mirrored into the run folder")
    resume: bool = knob(True, "continue from the last checkpoint (--no-resume starts over)")
    overwrite: bool = knob(False, "replace a finished run folder")
    trust_remote_code: bool = knob(False, "let a Hub model run its own Python code (off unless you trust its authors)")
    mirror_checkpoints: bool = knob(True, "copy each checkpoint of --checkpoint-dir into the run folder once, so a "
                                    "new runtime can resume")
    preset: str = knob("colab", "starting settings (default: colab)", choices=PRESET_NAMES)

    def with_changes(self, **changes) -> "RunConfig":
        """A validated copy with some fields changed; None values are ignored.

        None means "not given" here (a CLI flag left out); to set a field to
        None, build the config with `from_json` or `dataclasses.replace`.
        """
        _reject_unknown_fields(changes)
        return replace(self, **{key: value for key, value in changes.items() if value is not None}).validated()

    def validated(self) -> "RunConfig":
        """Return self if every field holds what it takes, else raise AgNewsError naming the field.

        Example: RunConfig(batch_size=0).validated() -> AgNewsError("batch_size=0 is out of range: ...")
        """
        for spec in fields(self):
            _check_field(spec, getattr(self, spec.name))
        name = self.run_name
        if name is not None and (not RUN_NAME_PATTERN.match(name) or ".." in name):
            raise AgNewsError(f"{setting('run_name', name)} is not allowed: use letters, digits, '.', '_' and '-' "
                              "only (no '/', no '..'), so the run stays inside the output folder", field="run_name")
        return self

    @property
    def learning_rate(self) -> float:
        """The lr to train with: the user's, or the usual one for the model family and the method."""
        return self.lr if self.lr is not None else default_learning_rate(self.model, self.method)

    @property
    def per_device_eval_batch_size(self) -> int:
        """Evaluation keeps no gradients, so it can take 4x the training batch."""
        return self.eval_batch_size or 4 * self.batch_size

    @property
    def resolved_run_name(self) -> str:
        """The run folder's name: the user's, or the main settings plus a fingerprint of all of them.

        Two configs that differ in any setting that can change the result (see
        `identity`) get different names; the same settings always get the same one.
        Example: ModernBERT-base, 12000 rows, lr 5e-5, 2 epochs, seed 42
                 -> "modernbert-base_n12000_lr5e-05_ep2_seed42_" + 6 hex digits
        """
        if self.run_name:
            return self.run_name
        model = model_short_name(self.model) + ("" if self.method == "full" else f"_{self.method}")
        size = "all" if self.train_size is None else f"{self.train_size:g}"
        readable = f"{model}_n{size}_lr{_short_number(self.learning_rate)}_ep{self.epochs:g}_seed{self.seed}"
        return f"{readable}_{self.settings_fingerprint}"

    @property
    def identity(self) -> dict:
        """Every setting that can change a run's result, numbers written one way (2 == 2.0).

        Bookkeeping fields (where the run is saved, resume, overwrite, ...) are left out, and
        so are settings that cannot change this run (see LATER_SETTINGS).
        Example: RunConfig().identity["batch_size"] -> "32"
        """
        values = {name: value for name, value in sorted(asdict(self).items()) if name not in BOOKKEEPING_FIELDS}
        values["lr"] = self.learning_rate  # lr=None and the family default train the same way
        for name, default in LATER_SETTINGS.items():
            if values[name] == default or (name in LORA_SETTINGS and self.method != "lora"):
                del values[name]
        return {name: _canonical(value) for name, value in values.items()}

    @property
    def settings_fingerprint(self) -> str:
        """6 hex digits that change whenever `identity` does. Example: "3f9a1c" """
        return hashlib.sha256(json.dumps(self.identity, sort_keys=True).encode("utf-8")).hexdigest()[:6]

    def to_json(self) -> str:
        """The config as pretty JSON (what config.json in a run folder holds)."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_preset(cls, name: str = "colab", **overrides) -> "RunConfig":
        """A validated preset, with any field overridden: `RunConfig.from_preset("cpu", epochs=1)`.

        An unknown name is reported by the check of the `preset` field's choices.
        """
        return replace(PRESETS.get(name, RunConfig()), preset=name).with_changes(**overrides)

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        """Read a config written by `to_json`; unknown keys are an error."""
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise AgNewsError(f"config is not valid JSON ({error}); write it with RunConfig.to_json") from error
        if not isinstance(values, dict):
            raise AgNewsError("config JSON must be an object of RunConfig fields")
        _reject_unknown_fields(values)
        return replace(RunConfig(), **values).validated()


# Where and how a run is kept, not what it computes: these never change a run's identity.
BOOKKEEPING_FIELDS = ("output_dir", "run_name", "checkpoint_dir", "mirror_checkpoints", "resume", "overwrite",
                      "trust_remote_code", "preset")


# Settings added after 0.1.0, with their defaults. At its default such a setting is left out of
# the identity, so every run folder named before it existed keeps its name (and resumes).
LATER_SETTINGS = {"method": "full", "lora_r": 8, "lora_alpha": 16, "lora_dropout": 0.1,
                  "early_stopping_patience": None}
LORA_SETTINGS = ("lora_r", "lora_alpha", "lora_dropout")  # they change nothing unless method="lora"
# The usual learning rate of a method that trains a few weights: many fewer weights move, so each
# can move further. LoRA on BERT-size encoders is commonly trained at 4e-4 to 5e-4 (the LoRA paper's
# RoBERTa-base settings); a linear head on frozen features at 1e-3, Adam's own default.
METHOD_LEARNING_RATES = {"lora": 5e-4, "linear-probe": 1e-3}
# Full fine-tuning, by a part of the model's name (any other model: 2e-5, BERT's); see default_learning_rate.
FAMILY_LEARNING_RATES = {"modernbert": 5e-5, "bert_uncased_l-": 1e-4}


def _canonical(value):
    """Numbers as short text, so 2 and 2.0 (or 12000 and 12000.0) are the same setting."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{float(value):.10g}"
    return value


def _reject_unknown_fields(values: dict) -> None:
    unknown = sorted(set(values) - set(RunConfig.__dataclass_fields__))
    if unknown:
        raise AgNewsError(f"unknown RunConfig field(s): {', '.join(unknown)}; see RunConfig's docstring",
                          field=unknown[0])


def default_learning_rate(model: str, method: str = "full") -> float:
    """The usual lr of a model family for full fine-tuning, or of a method that trains fewer weights.

    ModernBERT was trained to fine-tune at a higher lr than BERT, and Google's compact
    BERTs (bert_uncased_L-*, the cpu preset's) at a higher one still: their authors
    searched 3e-5 to 1e-4, and the short runs here learn best at the top of that range.

    Example:
        >>> default_learning_rate("answerdotai/ModernBERT-base"), default_learning_rate("bert-base-uncased", "lora")
        (5e-05, 0.0005)
    """
    name = model.lower()
    if name == SMOKE:
        return 3e-3
    if method in METHOD_LEARNING_RATES:
        return METHOD_LEARNING_RATES[method]
    return next((lr for part, lr in FAMILY_LEARNING_RATES.items() if part in name), 2e-5)


def model_short_name(model: str) -> str:
    """The model's part of a run name: a Hub id's last part; for a local folder, the model it holds.

    A local folder is named by its config.json's `_name_or_path` where that names a
    Hub id, else by itself, or by its parent when it is a run's `model/` folder.
    Example: "answerdotai/ModernBERT-base" -> "modernbert-base",
             "runs/smoke_nall_lr3e-03_ep6_seed42_053494/model" -> "smoke_nall_lr3e-03_ep6_seed42_053494"
    """
    folder = Path(model).expanduser()
    name = model.rstrip("/").split("/")[-1]
    if folder.is_dir():
        name = folder.resolve().name
        try:
            saved_as = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("_name_or_path") or ""
        except (OSError, ValueError, AttributeError):
            saved_as = ""
        if saved_as and not Path(saved_as).is_absolute() and not saved_as.startswith("."):
            name = saved_as.rstrip("/").split("/")[-1]
        elif name == "model":  # the model/ folder of a finished run: the run's name says what it is
            name = folder.resolve().parent.name
    return name.lower()


def _short_number(value: float) -> str:
    """Two significant digits in scientific notation. Example: 5e-05 -> "5e-05", 3.16e-05 -> "3.2e-05" """
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"


def field_kinds(spec) -> set:
    """The types a RunConfig field's annotation allows. Example: lr -> {float, NoneType}"""
    return set(get_args(spec.type) or (spec.type,))


# What a field takes, by the first of its annotation's types found here: (type, isinstance's types, words).
# A bool is only a bool: True is an int to isinstance, but not a number or a row count here.
KINDS = ((bool, bool, "True or False"), (float, (int, float), "a number"), (int, int, "a whole number"),
         (str, str, "a text (write a path as str(path))"))


def _check_field(spec, value) -> None:
    """One field's type, then its choices, range or size, from its annotation and its `knob` metadata.

    A bool field takes only True or False (the text "false" would be truthy), an int field only
    a whole int (not 32.0), a float field any int or float, a text field only text (not a Path).
    """
    allowed, name = field_kinds(spec), spec.name
    if value is None and type(None) in allowed:
        return
    wanted, words = next((wanted, words) for kind, wanted, words in KINDS if kind in allowed)
    if not isinstance(value, wanted) or isinstance(value, bool) != (wanted is bool):
        or_none = ", or None" if type(None) in allowed else ""
        raise AgNewsError(f"{setting(name, value)} has the wrong type ({type(value).__name__}): "
                          f"use {words}{or_none}", field=name)
    low, high, hint = spec.metadata["range"]
    choices = spec.metadata["choices"]
    if choices and value not in choices:
        raise AgNewsError(f"{setting(name, value)} is unknown: use one of {', '.join(choices)}", field=name)
    if low is not None and not (math.isfinite(value) and low <= value <= high):
        hint = hint.format(none=setting(name, None))
        raise AgNewsError(f"{setting(name, value)} is out of range: use {words} from {low:g} to {high:g} ({hint})",
                          field=name)
    if int in allowed and float in allowed and not (math.isfinite(value) and value > 0
                                                    and (value < 1 or float(value).is_integer())):
        raise AgNewsError(f"{setting(name, value)} is out of range: use a row count like 2000, or a share of the "
                          "pool like 0.1", field=name)
    if allowed == {str} and not choices and not value.strip():
        raise AgNewsError(f"{setting(name, value)} must be a non-empty text (a Hub id or a local path)", field=name)


PRESETS = {
    "colab": RunConfig(),
    "cpu": RunConfig(model="google/bert_uncased_L-4_H-256_A-4", train_size=2_000, validation_size=500,
                     test_size=1_000, lr=1e-4, max_length=64, precision="fp32"),
    SMOKE: RunConfig(model=SMOKE, data=SMOKE, train_size=None, validation_size=64, epochs=6, lr=3e-3, batch_size=32,
                     max_length=64, warmup_ratio=0.1, precision="fp32"),
}
