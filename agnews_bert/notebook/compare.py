"""compare_models: several encoders on the same data and budget, plus the TF-IDF baseline, as one table.

"Same budget" means every model gets the same rows, epochs, batch size,
max_length and seed; only the learning rate follows each model family's usual
value (ModernBERT 5e-5, BERT 2e-5) unless the base config sets one for all.
Each model is a normal run (`train`), so its run folder, results.json and
runs index entry are written as usual, and a model whose run already finished
is read back instead of trained again (a Colab disconnect halfway through a
comparison loses only the model that was training). Taught in notebook 02.

`compare_methods` does the same for the three ways of adapting one encoder
(full fine-tuning, LoRA, a linear probe): same model, same budget, each method
at its own usual learning rate. Its memory column is measured on a GPU only;
on a CPU, torch keeps no per-run peak, and the process's peak resident memory
only grows from run to run, so the table gives instead what the weights,
their gradients and Adam's two moments take (computed from the parameter
counts, fp32): the part of training memory that the methods change most.

`comparison_plan` picks what notebook 02 compares on this runtime: the
encoders with a GPU, three small BERTs without one, the tiny offline model in
smoke mode.

Example:
    >>> config_for("bert-base-uncased", RunConfig(), method="lora", lr=None).learning_rate
    0.0005
    >>> weights_and_optimizer_gb(trainable=1_200_000, total=150_000_000)
    0.6144
"""

import logging
from dataclasses import replace

import pandas as pd

from .baseline import tfidf_baseline
from .colab import SWITCH_RUNTIME_HINT
from .widgets import notebook_config
from ..config import METHODS, SMOKE, RunConfig
from ..data import load_agnews
from ..hardware import detect_hardware
from ..lab.resilience import release_gpu_memory
from ..lab.folders import is_finished, load_results, run_dir_for
from ..smoke import smoke_mode
from ..training import train

log = logging.getLogger(__name__)

COLUMNS = ("model", "test_accuracy", "test_macro_f1", "train_seconds", "train_samples_per_second",
           "peak_gpu_memory_gb", "run_dir")
METHOD_COLUMNS = ("method", "lr", "test_accuracy", "test_macro_f1", "trainable_parameters", "total_parameters",
                  "trainable_share", "train_seconds", "peak_gpu_memory_gb", "weights_and_optimizer_gb", "run_dir")
# Bytes per parameter in training with Adam in fp32 (mixed precision keeps fp32 master weights too):
# every weight is stored; a trained one also has a gradient and Adam's two moments.
BYTES_PER_WEIGHT, BYTES_PER_TRAINED_WEIGHT = 4, 3 * 4
CPU_COMPARISON_MODELS = (
    "google/bert_uncased_L-2_H-128_A-2",  # BERT-tiny
    "google/bert_uncased_L-4_H-256_A-4",  # BERT-mini, the cpu preset's model
    "google/bert_uncased_L-4_H-512_A-8",  # BERT-small
)


def comparison_plan(models, output_dir: str, hardware=None, **overrides) -> tuple:
    """(models, base_config) for notebook 02 on this runtime; one epoch each unless overrides say otherwise.

    With a GPU: `models` on the notebook's starting config. Without one: three small
    BERTs (CPU_COMPARISON_MODELS) on the `cpu` preset, since the big encoders would
    take hours; a line says why. In smoke mode: the tiny offline model.
    Example (T4): comparison_plan(["bert-base-uncased"], "runs") -> (["bert-base-uncased"], RunConfig(epochs=1, ...))
    """
    hardware = hardware or detect_hardware()
    config = notebook_config(output_dir, hardware=hardware, **{"epochs": 1, **overrides})
    if smoke_mode():
        return [SMOKE], config
    if hardware.device == "cuda":
        return list(models), config
    log.info(f"No GPU, so this comparison uses three small BERTs instead ({', '.join(CPU_COMPARISON_MODELS)}), each "
             f"on {config.train_size or 'all'} training rows at lr {config.learning_rate:g}: the encoders above would "
             f"take hours on a CPU. To compare them, get a GPU: {SWITCH_RUNTIME_HINT}.")
    return list(CPU_COMPARISON_MODELS), config


def compare_models(models, base_config: RunConfig, baseline: bool = True):
    """Train (or reuse) one run per model id, add the baseline, and return a DataFrame, one row each.

    Columns: model, test_accuracy, test_macro_f1, train_seconds, train_samples_per_second,
    peak_gpu_memory_gb (empty on a CPU), run_dir (empty for the baseline).
    """
    rows = [comparison_row(train_or_reuse(config_for(model, base_config))) for model in models]
    if baseline:
        log.info("Fitting the TF-IDF + logistic regression baseline on the same training rows")
        rows.append(comparison_row(tfidf_baseline(load_agnews(base_config))))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def config_for(model: str, base_config: RunConfig, **changes) -> RunConfig:
    """The base config with another model (and `changes`); its own run name, so runs never share a folder.

    Example: config_for("bert-base-uncased", RunConfig(), method="lora", lr=None).learning_rate -> 0.0005
    """
    return replace(base_config, model=model, run_name=None, **changes).validated()


def train_or_reuse(config: RunConfig) -> dict:
    """The results of a config's run: read from its folder if finished (and not overwrite), else trained."""
    run_dir = run_dir_for(config)
    if is_finished(run_dir) and not config.overwrite:
        log.info(f"{config.model}: already trained in {run_dir}, reusing its results")
        return load_results(run_dir)
    log.info(f"{config.model}: training ({config.resolved_run_name})")
    release_gpu_memory()  # the previous model's; train() restarts the peak counter itself
    return train(config)


def comparison_row(results: dict) -> dict:
    """One table row from `train` results or `tfidf_baseline` results."""
    timing = results["timing"]
    return {"model": results["model"], "test_accuracy": results["test"]["accuracy"],
            "test_macro_f1": results["test"]["macro_f1"], "train_seconds": timing["train_seconds"],
            **{name: timing.get(name) for name in ("train_samples_per_second", "peak_gpu_memory_gb")},
            "run_dir": results.get("run_dir")}


def price_of_a_point(table):
    """Each encoder's gain over the baseline (the last row of `compare_models`), and its training seconds per point.

    A point is 0.01 of test macro-F1. An encoder at or below the baseline bought nothing, so it
    gets no price (not a negative one) and a sentence instead. Notebook 02's exercise 3.
    Example: encoder 0.92, baseline 0.90, 60 s -> 2.0 points, 30.0 seconds per point
    """
    encoders, baseline_f1 = table.iloc[:-1], table["test_macro_f1"].iloc[-1]
    points = (100 * (encoders["test_macro_f1"] - baseline_f1)).round(2)
    gained = points > 0
    return encoders.assign(
        points_above_baseline=points,
        seconds_per_point=(encoders["train_seconds"] / points).where(gained).round(1),
        verdict=["" if gain else "no gain over the baseline: its training bought nothing here" for gain in gained],
    )[["model", "test_macro_f1", "points_above_baseline", "train_seconds", "seconds_per_point", "verdict"]]


def compare_methods(model: str, base_config: RunConfig, methods=METHODS):
    """Train (or reuse) one run per method of one model on the base config's budget; a DataFrame, one row each.

    Every run gets the base config's rows, epochs, batch size, max length and seed, and its
    method's usual learning rate (lr=None: `default_learning_rate(model, method)`). Columns:
    METHOD_COLUMNS; peak_gpu_memory_gb is empty on a CPU. Taught in notebook 02, section 4.
    Example: compare_methods("smoke", base)["method"].tolist() -> ["full", "lora", "linear-probe"]
    """
    configs = [config_for(model, base_config, method=method, lr=None) for method in methods]  # each its usual lr
    rows = [method_row(config, train_or_reuse(config)) for config in configs]
    return pd.DataFrame(rows, columns=list(METHOD_COLUMNS))


def method_row(config: RunConfig, results: dict) -> dict:
    """One row of `compare_methods` from a run's config and results (results.json).

    A run saved before parameter counts were recorded has empty counts.
    Example: LoRA, 1,200,000 of 150,000,000 parameters trained -> weights_and_optimizer_gb 0.6144
    """
    parameters = results.get("parameters", {})
    trainable, total = parameters.get("trainable"), parameters.get("total")
    return {"method": config.method, "lr": config.learning_rate, **comparison_row(results),
            "trainable_parameters": trainable, "total_parameters": total,
            "trainable_share": parameters.get("trainable_share"),
            "weights_and_optimizer_gb": weights_and_optimizer_gb(trainable, total)}


def weights_and_optimizer_gb(trainable: int | None, total: int | None) -> float | None:
    """GB that the weights, the trained ones' gradients and Adam's two moments take in fp32 (activations not counted).

    Example: ModernBERT-base fully trained, 149.6 million of 149.6 million -> 2.39; its linear probe -> 0.6
    """
    if trainable is None or total is None:
        return None
    return round((BYTES_PER_WEIGHT * total + BYTES_PER_TRAINED_WEIGHT * trainable) / 1e9, 6)
