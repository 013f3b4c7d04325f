"""Every difference between the library versions we support, in one place.

We support transformers 4.48 (the first with ModernBERT) up to the current 5.x,
any torch that Colab ships, and ipywidgets 7.7 (Colab) and 8.x. Where the
library lets us, a helper asks it whether it has the newer spelling (a
function's signature) instead of comparing version strings.

Known differences:
- transformers 5.2 replaced `group_by_length=True` with
  `train_sampling_strategy="group_by_length"`;
- `warmup_ratio` became a float `warmup_steps` (a value below 1 is a ratio);
- `Trainer(tokenizer=...)` became `Trainer(processing_class=...)` (4.46);
- torch 2.9 replaced `allow_tf32` flags with `fp32_precision = "tf32"`;
- transformers 5.x groups evaluation batches by length too when training's are
  grouped, so `predict` returned rows in another order (see RowOrderTrainer);
- tokenizers 0.20 added `encode_batch_fast` (a batch encoder without offsets);
- datasets keeps a data set's fingerprint in the private `_fingerprint`;
- ipywidgets 8 renamed a widget's `description_tooltip` to `tooltip`.
"""

import inspect
from functools import lru_cache

import torch
import transformers


@lru_cache(maxsize=None)
def _training_args_parameters() -> frozenset:
    return frozenset(inspect.signature(transformers.TrainingArguments.__init__).parameters)


def length_grouping_kwargs(enabled: bool) -> dict:
    """TrainingArguments kwargs that turn length-grouped batches on or off.

    Example (transformers 5.x): True -> {"train_sampling_strategy": "group_by_length"}
    """
    if "train_sampling_strategy" in _training_args_parameters():
        return {"train_sampling_strategy": "group_by_length" if enabled else "random"}
    return {"group_by_length": enabled}


def warmup_kwargs(warmup_ratio: float) -> dict:
    """TrainingArguments kwargs for a warm-up over this share of all steps.

    Example (transformers 5.x): 0.1 -> {"warmup_steps": 0.1}
    """
    if "warmup_ratio" in _training_args_parameters():
        return {"warmup_ratio": warmup_ratio}
    return {"warmup_steps": float(warmup_ratio)}


def trainer_tokenizer_kwargs(tokenizer) -> dict:
    """The Trainer keyword that takes the tokenizer (saved with each checkpoint)."""
    if "processing_class" in inspect.signature(transformers.Trainer.__init__).parameters:
        return {"processing_class": tokenizer}
    return {"tokenizer": tokenizer}


def enable_tf32_matmuls() -> None:
    """Let float32 matrix products use TF32 tensor cores (Ampere and newer GPUs)."""
    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):
        matmul.fp32_precision = "tf32"
        torch.backends.cudnn.conv.fp32_precision = "tf32"
    else:
        matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def ipywidgets_major_version() -> int:
    """7 on Colab today, 8 on a current Jupyter; 0 when ipywidgets is missing."""
    try:
        import ipywidgets
    except ImportError:
        return 0
    return int(ipywidgets.__version__.split(".")[0])


def tooltip_kwargs(text: str) -> dict:
    """The widget keyword for hover text. Example (ipywidgets 8): "Rows" -> {"tooltip": "Rows"}"""
    return {"tooltip": text} if ipywidgets_major_version() >= 8 else {"description_tooltip": text}


def offsetless_batch_encoder(backend):
    """The Rust tokenizer's batch encoder that skips character offsets; None if it has none."""
    return getattr(backend, "encode_batch_fast", None) if backend is not None else None


def dataset_fingerprint(rows) -> str | None:
    """The hash datasets keeps of a data set's content and history; None if this datasets has none."""
    return getattr(rows, "_fingerprint", None)


class RowOrderTrainer(transformers.Trainer):
    """A Trainer whose `evaluate` and `predict` take the rows in the order given.

    Recent transformers also group evaluation batches by length when training's
    are grouped; `predict` then returns predictions in another order than the
    rows, and they no longer line up with the texts. Training stays grouped.
    """

    def _get_eval_sampler(self, eval_dataset):
        from transformers.trainer_pt_utils import LengthGroupedSampler

        sampler = super()._get_eval_sampler(eval_dataset)
        if not isinstance(sampler, LengthGroupedSampler):
            return sampler
        return torch.utils.data.SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None
