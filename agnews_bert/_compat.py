"""Every difference between the library versions we support, in one place.

We support transformers 4.48 (the first with ModernBERT) up to the current 5.x,
any torch that Colab ships, and ipywidgets 7.7 (Colab) and 8.x. Where the
library lets us, a helper asks it whether it has the newer spelling (a
function's signature) instead of comparing version strings.

Known differences:
- transformers 5.2 replaced `group_by_length=True` with
  `train_sampling_strategy="group_by_length"`;
- `warmup_ratio` became a float `warmup_steps` (a value below 1 is a ratio);
- `Trainer(tokenizer=...)` became `Trainer(processing_class=...)` in 4.46, before
  our oldest transformers: only the name stays here, for the callers;
- torch 2.9 replaced `allow_tf32` flags with `fp32_precision = "tf32"`;
- transformers 5.x groups evaluation batches by length too when training's are
  grouped, so scoring uses its own Trainer without grouping (predict.score);
- tokenizers 0.20 added `encode_batch_fast` (a batch encoder without offsets),
  which transformers 4.48's tokenizers (0.21) always have;
- ipywidgets 8 renamed a widget's `description_tooltip` to `tooltip`;
- transformers 5 draws a "Writing model shards" bar at each save (every
  checkpoint); it has `logging.set_tqdm_hook`, through which we hide that bar only;
- peft 0.21 reads the model's `is_gradient_checkpointing`, which transformers
  5.2x deprecates with a FutureWarning at every LoRA run: hidden, as that one
  message only.
- transformers 5 loads weights in the dtype they were saved in (`dtype="auto"`),
  so a checkpoint saved in fp16 or bf16 trains in it unless we ask for float32;
  the keyword is `dtype` from 4.56, `torch_dtype` before;
- datasets 4 returns a lazy `Column` for `rows["text"]`, not a list: it has
  `len`, indexing and iteration but no `+`, so the package never treats a
  column as a list (CI's colab stage runs datasets 4.0, the tests stage 5.x).
- huggingface_hub 1.x and 2.x talk HTTP through httpx, whose errors are not
  OSErrors; 0.x used requests, whose errors are.
"""

import inspect
import warnings
from functools import lru_cache


@lru_cache(maxsize=None)
def _training_args_parameters() -> frozenset:
    import transformers

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
    """The Trainer keyword that takes the tokenizer (saved with each checkpoint). Example: {"processing_class": tok}"""
    return {"processing_class": tokenizer}


def trainer_tokenizer(trainer):
    """The tokenizer a Trainer was given, else its collator's."""
    return getattr(trainer, "processing_class", None) or getattr(trainer.data_collator, "tokenizer", None)


def enable_tf32_matmuls() -> None:
    """Let float32 matrix products use TF32 tensor cores (Ampere and newer GPUs)."""
    import torch

    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):
        matmul.fp32_precision = "tf32"
        torch.backends.cudnn.conv.fp32_precision = "tf32"
    else:
        matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def hide_shard_writing_bars() -> None:
    """Hide transformers 5's "Writing model shards" bar (one per save); every other bar (downloads) stays.

    Older transformers draw no such bar and have no hook: nothing to do.
    """
    from transformers.utils import logging

    if hasattr(logging, "set_tqdm_hook"):
        logging.set_tqdm_hook(_without_shard_bar)


def _without_shard_bar(factory, args, kwargs):
    if kwargs.get("desc") == "Writing model shards":
        kwargs = {**kwargs, "disable": True}
    return factory(*args, **kwargs)


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


def float32_weights_kwargs() -> dict:
    """from_pretrained kwargs that load the weights in float32, whatever dtype the checkpoint was saved in.

    Mixed precision (fp16 on a T4) needs float32 weights under autocast: weights
    loaded as fp16 overflow to nan. Example (transformers 5.x): {"dtype": torch.float32}
    """
    import torch
    import transformers
    from packaging.version import Version

    keyword = "dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype"
    return {keyword: torch.float32}


def hub_request_errors() -> tuple:
    """The exceptions a failed Hub request raises: OSError (HfHubHTTPError, requests) and httpx's, where installed."""
    try:
        import httpx
    except ImportError:  # huggingface_hub 0.x, on requests
        return (OSError,)
    return (OSError, httpx.HTTPError)


def hide_peft_deprecation_warning() -> None:
    """Hide the FutureWarning peft's LoRA raises through transformers 5.2x: a student can do nothing about it."""
    warnings.filterwarnings("ignore", message=r"`is_gradient_checkpointing` is deprecated", category=FutureWarning)
