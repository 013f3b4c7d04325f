"""agnews_bert: fine-tune BERT-family encoders on AG News, step by step.

The face is the pipeline the notebooks teach, in order, then a saved run and the labels:

    RunConfig -> load_agnews -> load_tokenizer -> tokenize_dataset -> make_collator
    -> compute_metrics -> load_model -> build_training_args -> (transformers.Trainer)
    -> evaluate_on_test;  train does all of it;  load_run loads a saved run once, and predict and
    push_to_hub use one.

Two subpackages hold the rest:
- `agnews_bert.lab`: run bookkeeping (run folders, resume, the stop that saves, save, the runs table);
- `agnews_bert.notebook`: notebook helpers (Colab and Drive, the form, the boxes, plots, lessons).

Every name is imported on first use, so `import agnews_bert` starts without torch.

Example:
    >>> import agnews_bert as ab
    >>> ab.RunConfig.from_preset("smoke").model
    'smoke'
"""

from ._lazy import lazy_exports
from ._logging import configure as _configure_logging

_configure_logging()

__version__ = "0.1.0"

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "RunConfig": ".config:RunConfig",
    "load_agnews": ".data:load_agnews",
    "load_tokenizer": ".tokenization:load_tokenizer",
    "tokenize_dataset": ".tokenization:tokenize_dataset",
    "make_collator": ".collate:make_collator",
    "compute_metrics": ".metrics:compute_metrics",
    "load_model": ".modeling:load_model",
    "build_training_args": ".training:build_training_args",
    "evaluate_on_test": ".scoring:evaluate_on_test",
    "train": ".training:train",
    "predict": ".prediction:predict",
    "load_run": ".scoring:load_run",
    "push_to_hub": ".lab.sharing:push_to_hub",
    "detect_hardware": ".hardware:detect_hardware",
    "CLASS_NAMES": ".labels:CLASS_NAMES",
    "ID2LABEL": ".labels:ID2LABEL",
    "AgNewsError": ".errors:AgNewsError",
    "lab": ".lab",
    "notebook": ".notebook",
})
