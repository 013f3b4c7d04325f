"""RunConfig: every knob of one fine-tuning run, its presets and its checks.

A run is fully described by a `RunConfig`; it is written as `config.json` into
the run folder and can be read back with `RunConfig.from_json`. Three presets:

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
"""

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import get_args

from .errors import AgNewsError
from .smoke import SMOKE  # the word is defined (and resolved) in smoke.py

PRECISIONS = ("auto", "bf16", "fp16", "fp32")
METHODS = ("full", "lora", "linear-probe")
ATTENTIONS = ("auto", "sdpa", "eager", "flash_attention_2")
LR_RANGE = (1e-7, 1.0)
MAX_LENGTH_RANGE = (8, 8192)
RUN_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class RunConfig:
    """All settings of one run. Sizes are rows; a float below 1 is a share of the pool.

    checkpoint_dir: fast local disk for checkpoints while output_dir is on a slow
    network disk such as Google Drive; with mirror_checkpoints each checkpoint is
    also copied there once, so a new runtime can resume.
    method: what is trained. "full": every weight (the default); "lora": low-rank
    adapters of rank lora_r (scaled by lora_alpha / lora_r, with lora_dropout) on the
    encoder's attention and MLP projections, plus the classification head;
    "linear-probe": the classification head only, on a frozen encoder.
    early_stopping_patience: stop after this many epochs without a better validation
    macro-F1 (None: train every epoch).
    """

    model: str = "answerdotai/ModernBERT-base"
    data: str = "fancyzhx/ag_news"
    test_data: str | None = None
    train_size: int | float | None = 12_000
    validation_size: int | float = 2_000
    test_size: int | float | None = None
    epochs: float = 2
    lr: float | None = None
    batch_size: int = 32
    eval_batch_size: int | None = None
    gradient_accumulation_steps: int = 1
    max_length: int = 128
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    method: str = "full"
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    early_stopping_patience: int | None = None
    seed: int = 42
    precision: str = "auto"
    attention: str = "auto"
    group_by_length: bool | None = None
    output_dir: str = "runs"
    run_name: str | None = None
    checkpoint_dir: str | None = None
    resume: bool = True
    overwrite: bool = False
    trust_remote_code: bool = False
    mirror_checkpoints: bool = True
    preset: str = "colab"

    def with_changes(self, **changes) -> "RunConfig":
        """A validated copy with some fields changed; None values are ignored.

        None means "not given" here (a CLI flag left out); to set a field to
        None, build the config with `from_json` or `dataclasses.replace`.
        """
        _reject_unknown_fields(changes)
        kept = {key: value for key, value in changes.items() if value is not None}
        return replace(self, **kept).validated()

    def validated(self) -> "RunConfig":
        """Return self if every field is in range, else raise AgNewsError naming the field."""
        for check in _CHECKS:
            check(self)
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
        values = {name: getattr(self, name) for name in sorted(_field_names()) if name not in BOOKKEEPING_FIELDS}
        values["lr"] = self.learning_rate  # lr=None and the family default train the same way
        for name, default in LATER_SETTINGS.items():
            if values[name] == default or (name in LORA_SETTINGS and self.method != "lora"):
                del values[name]
        return {name: _canonical(value) for name, value in values.items()}

    @property
    def settings_fingerprint(self) -> str:
        """6 hex digits that change whenever `identity` does. Example: "3f9a1c" """
        text = json.dumps(self.identity, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:6]

    def to_json(self) -> str:
        """The config as pretty JSON (what config.json in a run folder holds)."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_preset(cls, name: str = "colab", **overrides) -> "RunConfig":
        """A validated preset, with any field overridden: `RunConfig.from_preset("cpu", epochs=1)`."""
        if name not in PRESETS:
            raise AgNewsError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
        return replace(PRESETS[name], preset=name).with_changes(**overrides)

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


def _field_names() -> list:
    return [field.name for field in fields(RunConfig)]


def _canonical(value):
    """Numbers as short text, so 2 and 2.0 (or 12000 and 12000.0) are the same setting."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{float(value):.10g}"
    return value


def _reject_unknown_fields(values: dict) -> None:
    unknown = sorted(set(values) - set(_field_names()))
    if unknown:
        raise AgNewsError(f"unknown RunConfig field(s): {', '.join(unknown)}; see RunConfig's docstring")


def default_learning_rate(model: str, method: str = "full") -> float:
    """The usual lr of a model family for full fine-tuning, or of a method that trains fewer weights.

    ModernBERT was trained to fine-tune at a higher lr than BERT, and Google's compact
    BERTs (bert_uncased_L-*, the cpu preset's) at a higher one still: their authors
    searched 3e-5 to 1e-4, and the short runs here learn best at the top of that range.
    Example: "answerdotai/ModernBERT-base" -> 5e-05, "bert-base-uncased" -> 2e-05,
             "google/bert_uncased_L-4_H-256_A-4" -> 1e-04, ("bert-base-uncased", "lora") -> 5e-04
    """
    name = model.lower()
    if name == SMOKE:
        return 3e-3
    if method in METHOD_LEARNING_RATES:
        return METHOD_LEARNING_RATES[method]
    if "modernbert" in name:
        return 5e-5
    if "bert_uncased_l-" in name:
        return 1e-4
    return 2e-5


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


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _require_range(name: str, value, low, high, hint: str, integer: bool = False) -> None:
    kind = "a whole number" if integer else "a number"
    ok = _is_number(value) and (not integer or float(value).is_integer()) and low <= value <= high
    if not ok:
        raise AgNewsError(f"{name}={value!r} is out of range: use {kind} from {low:g} to {high:g} ({hint})")


def _check_size(name: str, value, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    hint = "a row count like 2000, or a share of the pool like 0.1"
    if not _is_number(value) or value <= 0 or (value >= 1 and not float(value).is_integer()):
        raise AgNewsError(f"{name}={value!r} is out of range: use {hint}")


def _check_hyperparameters(config: RunConfig) -> None:
    if config.lr is not None:
        _require_range("lr", config.lr, *LR_RANGE, "try 5e-5 for ModernBERT, 2e-5 for BERT")
    _require_range("epochs", config.epochs, 0.01, 100, "try 2")
    _require_range("batch_size", config.batch_size, 1, 4096, "try 16 or 32", integer=True)
    if config.eval_batch_size is not None:
        _require_range("eval_batch_size", config.eval_batch_size, 1, 16384, "try 128", integer=True)
    _require_range("gradient_accumulation_steps", config.gradient_accumulation_steps, 1, 1024, "try 1", integer=True)
    _require_range("max_length", config.max_length, *MAX_LENGTH_RANGE, "AG News texts need about 128 tokens", integer=True)
    _require_range("warmup_ratio", config.warmup_ratio, 0.0, 0.5, "try 0.1")
    _require_range("weight_decay", config.weight_decay, 0.0, 1.0, "try 0.01")
    _require_range("seed", config.seed, 0, 2**32 - 1, "any whole number, like 42", integer=True)
    _require_range("lora_r", config.lora_r, 1, 1024, "try 8", integer=True)
    _require_range("lora_alpha", config.lora_alpha, 1, 4096, "try twice lora_r, like 16", integer=True)
    _require_range("lora_dropout", config.lora_dropout, 0.0, 0.9, "try 0.1")
    if config.early_stopping_patience is not None:
        _require_range("early_stopping_patience", config.early_stopping_patience, 1, 100,
                       "try 2, or None to train every epoch", integer=True)


def _check_sizes(config: RunConfig) -> None:
    _check_size("train_size", config.train_size, allow_none=True)
    _check_size("validation_size", config.validation_size, allow_none=False)
    _check_size("test_size", config.test_size, allow_none=True)


def _check_choices(config: RunConfig) -> None:
    if config.precision not in PRECISIONS:
        raise AgNewsError(f"precision={config.precision!r} is unknown: use one of {', '.join(PRECISIONS)}")
    if config.method not in METHODS:
        raise AgNewsError(f"method={config.method!r} is unknown: use one of {', '.join(METHODS)}")
    if config.attention not in ATTENTIONS:
        raise AgNewsError(f"attention={config.attention!r} is unknown: use one of {', '.join(ATTENTIONS)}")
    for name in ("model", "data", "output_dir"):
        value = getattr(config, name)
        if not isinstance(value, str) or not value.strip():
            raise AgNewsError(f"{name}={value!r} must be a non-empty text (a Hub id or a local path)")


def _check_run_name(config: RunConfig) -> None:
    name = config.run_name
    if name is not None and (not isinstance(name, str) or not RUN_NAME_PATTERN.match(name) or ".." in name):
        raise AgNewsError(
            f"run_name={name!r} is not allowed: use letters, digits, '.', '_' and '-' only "
            "(no '/', no '..'), so the run stays inside the output folder"
        )


def _check_types(config: RunConfig) -> None:
    """Each field holds the type its annotation names, so no later check or JSON reader is fooled.

    A bool field takes only True or False (the text "false" would be truthy), an
    int field only a whole int (not 32.0), a float field any int or float, a
    text field only text (not a list or a Path). None only where the field allows it.
    Example: trust_remote_code="false" -> AgNewsError naming trust_remote_code
    """
    for field in fields(RunConfig):
        allowed = set(get_args(field.type) or (field.type,))
        value = getattr(config, field.name)
        if value is None and type(None) in allowed:
            continue
        if bool in allowed:
            fits = isinstance(value, bool)
        elif isinstance(value, bool):
            fits = False
        elif float in allowed:
            fits = isinstance(value, (int, float))
        elif int in allowed:
            fits = isinstance(value, int)
        else:
            fits = isinstance(value, str)
        if not fits:
            raise AgNewsError(f"{field.name}={value!r} has the wrong type ({type(value).__name__}): "
                              f"use {_type_words(allowed)}")


def _type_words(allowed: set) -> str:
    """Example: {int, float, NoneType} -> "a number, or None" """
    words = ("True or False" if bool in allowed else "a number" if float in allowed
             else "a whole number" if int in allowed else "a text (write a path as str(path))")
    return f"{words}, or None" if type(None) in allowed else words


_CHECKS = (_check_types, _check_hyperparameters, _check_sizes, _check_choices, _check_run_name)

PRESETS = {
    "colab": RunConfig(),
    "cpu": RunConfig(
        model="google/bert_uncased_L-4_H-256_A-4",
        train_size=2_000,
        validation_size=500,
        test_size=1_000,
        lr=1e-4,
        max_length=64,
        precision="fp32",
    ),
    SMOKE: RunConfig(
        model=SMOKE,
        data=SMOKE,
        train_size=None,
        validation_size=64,
        epochs=6,
        lr=3e-3,
        batch_size=32,
        max_length=64,
        warmup_ratio=0.1,
        precision="fp32",
    ),
}
