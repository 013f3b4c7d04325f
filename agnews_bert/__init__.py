"""agnews_bert: fine-tune BERT-family encoders on AG News, step by step.

Example:
    >>> import agnews_bert as ab
    >>> results = ab.train(ab.RunConfig.preset("smoke"))  # doctest: +SKIP
"""

__version__ = "0.1.0"

from .collate import make_collator
from .config import PRESETS, RunConfig, default_learning_rate
from .data import describe_splits, load_agnews
from .errors import AgNewsError
from .hardware import Hardware, choose_attention, choose_precision, describe_choice, detect_hardware
from .labels import CLASS_NAMES, ID2LABEL, LABEL2ID
from .metrics import classification_report, compute_metrics
from .modeling import count_parameters, load_model
from .predict import load_saved_model, predict
from .runs import load_results, run_dir_for, runs_table
from .saving import save_run
from .tokenization import check_max_length, load_tokenizer, token_length_summary, tokenize_dataset
from .training import build_trainer, build_training_args, evaluate_on_test, train

__all__ = [
    "AgNewsError", "CLASS_NAMES", "Hardware", "ID2LABEL", "LABEL2ID", "PRESETS", "RunConfig",
    "build_trainer", "build_training_args", "check_max_length", "choose_attention", "choose_precision",
    "classification_report", "compute_metrics", "count_parameters", "default_learning_rate",
    "describe_choice", "describe_splits", "detect_hardware", "evaluate_on_test", "load_agnews",
    "load_model", "load_results", "load_saved_model", "load_tokenizer", "make_collator", "predict",
    "run_dir_for", "runs_table", "save_run", "token_length_summary", "tokenize_dataset", "train",
]
