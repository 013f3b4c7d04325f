"""agnews_bert: fine-tune BERT-family encoders on AG News, step by step.

Example:
    >>> import agnews_bert as ab
    >>> results = ab.train(ab.RunConfig.preset("smoke"))  # doctest: +SKIP
"""

__version__ = "0.1.0"

from . import colab
from .analysis import confused_pairs, most_confident_errors
from .baseline import tfidf_baseline
from .collate import make_collator
from .compare import compare_models
from .config import PRESETS, RunConfig, default_learning_rate
from .data import describe_splits, load_agnews
from .errors import AgNewsError
from .hardware import Hardware, choose_attention, choose_precision, describe_choice, detect_hardware
from .inference_widget import prediction_widget
from .labels import CLASS_NAMES, ID2LABEL, LABEL2ID
from .metrics import classification_report, compute_metrics
from .modeling import count_parameters, load_model, load_model_for
from .plots import (plot_comparison, plot_confusion_matrix, plot_learning_curves, plot_per_class,
                    save_run_plots)
from .predict import load_saved_model, predict
from .runs import load_results, prepare_run_dir, run_dir_for, runs_table
from .saving import save_run
from .tokenization import check_max_length, load_tokenizer, token_length_summary, tokenize_dataset
from .training import (build_trainer, build_training_args, collect_results, evaluate_on_test, train,
                       train_resumably)

__all__ = [
    "AgNewsError", "CLASS_NAMES", "Hardware", "ID2LABEL", "LABEL2ID", "PRESETS", "RunConfig", "build_trainer",
    "build_training_args", "check_max_length", "choose_attention", "choose_precision",
    "classification_report", "colab", "collect_results", "compare_models",
    "compute_metrics", "confused_pairs", "count_parameters", "default_learning_rate",
    "describe_choice", "describe_splits", "detect_hardware", "evaluate_on_test", "load_agnews", "load_model",
    "load_model_for",
    "load_results", "load_saved_model", "load_tokenizer", "make_collator", "most_confident_errors",
    "plot_comparison", "plot_confusion_matrix", "plot_learning_curves", "plot_per_class", "predict",
    "prediction_widget", "prepare_run_dir", "run_dir_for", "runs_table", "save_run", "save_run_plots",
    "tfidf_baseline", "token_length_summary", "tokenize_dataset", "train", "train_resumably",
]
