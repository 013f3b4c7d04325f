"""agnews_bert: fine-tune BERT-family encoders on AG News, step by step.

This file only re-exports the names the notebooks, the README and the tests
use, and imports each one the first time it is asked for (PEP 562), so
`import agnews_bert` and `agnews-bert --help` start without torch.

Example:
    >>> import agnews_bert as ab
    >>> results = ab.train(ab.RunConfig.preset("smoke"))  # doctest: +SKIP
"""

import importlib
import sys
import types

__version__ = "0.1.0"

# Each public name, by the module that defines it.
_EXPORTS = {
    "analysis": ["confused_pairs", "most_confident_errors"],
    "attributions": ["explain", "explain_mistakes"],
    "calibration": ["brier_score", "calibration_report", "expected_calibration_error", "fit_temperature",
                    "run_calibration"],
    "notebook.baseline": ["tfidf_baseline"],
    "runs.checkpoints": ["load_finished_run", "resume_checkpoint", "saving_on_stop", "train_resumably"],
    "collate": ["make_collator"],
    "notebook.compare": ["compare_methods", "compare_models", "price_of_a_point"],
    "config": ["RunConfig", "default_learning_rate"],
    "data": ["describe_splits", "load_agnews"],
    "embedding_map": ["embedding_map"],
    "errors": ["AgNewsError"],
    "hardware": ["Hardware", "choose_attention", "choose_precision", "describe_choice", "detect_hardware"],
    "notebook.inference_widget": ["prediction_widget"],
    "labels": ["CLASS_NAMES", "ID2LABEL", "LABEL2ID"],
    "notebook.lessons": ["first_losses", "loss_histories", "prediction_table", "runs_view", "training_args_table",
                         "whole_texts"],
    "metrics": ["classification_report", "compute_metrics", "load_metric", "metric_path"],
    "modeling": ["count_parameters", "load_model", "load_model_for"],
    "nan_guard": ["NonFiniteGuard"],
    "plots": ["plot_comparison", "plot_confusion_matrix", "plot_embedding_map", "plot_learning_curves",
              "plot_per_class", "plot_reliability", "plot_training_loss"],
    "predict": ["load_saved_model", "predict"],
    "runs": ["is_finished", "load_results", "prepare_run_dir", "run_dir_for", "runs_table"],
    "runs.model_card": ["write_model_card"],
    "runs.saving": ["save_run"],
    "runs.sharing": ["push_to_hub"],
    "tokenization": ["check_max_length", "load_tokenizer", "token_length_summary", "tokenize_dataset"],
    "training": ["build_trainer", "build_training_args", "collect_results", "evaluate_on_test", "train"],
    "notebook.widgets": ["RunForm", "settings_form"],
}
_MODULES = {"colab": "notebook.colab"}  # modules the notebooks use as a whole: ab.colab.output_dir()
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_HOME) + sorted(_MODULES)


def __getattr__(name: str):
    """Import a public name's module on first use, and keep the name here for the next time."""
    if name in _MODULES:
        value = importlib.import_module(f".{_MODULES[name]}", __name__)
    elif name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Importing a submodule sets it as an attribute of the package; where the submodule shares
    its name with a public function (`predict`), the function keeps the name."""

    def __setattr__(self, name, value):
        if name in _HOME and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
