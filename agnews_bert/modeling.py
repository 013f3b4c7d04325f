"""Loading the classifier: any encoder checkpoint with a fresh 4-class head.

`AutoModelForSequenceClassification` puts a randomly initialised linear head
on top of the pretrained encoder; fine-tuning trains both. We always pass the
class names (`id2label`), so a saved model and its predictions speak in
"Sports", not "LABEL_1". Weights load from safetensors where a checkpoint has
them, and code from the Hub runs only if `trust_remote_code=True`. "smoke" is
a checkpoint folder like any other (see smoke.py).

Example:
    >>> model = load_model("smoke")
    >>> model.config.id2label[3]
    'Sci/Tech'
"""

import transformers

from . import _compat
from .hardware import choose_attention, detect_hardware
from .hub import hub_error
from .labels import ID2LABEL, LABEL2ID, NUM_CLASSES
from .smoke import resolve_model


def load_model(model: str, attention: str | None = None, trust_remote_code: bool = False):
    """A sequence classifier for the four AG News classes.

    model: a Hub id (answerdotai/ModernBERT-base, bert-base-uncased, ...), a local
    folder with a checkpoint, or "smoke". attention: "sdpa", "eager",
    "flash_attention_2", or None for the library's choice.
    """
    source = resolve_model(model)
    options = dict(num_labels=NUM_CLASSES, id2label=ID2LABEL, label2id=LABEL2ID, trust_remote_code=trust_remote_code,
                   ignore_mismatched_sizes=True,  # a checkpoint with another head gets a fresh 4-class one
                   **_compat.float32_weights_kwargs())  # fp32 weights under fp16/bf16 autocast, never fp16 weights
    if attention:
        options["attn_implementation"] = attention
    try:
        return transformers.AutoModelForSequenceClassification.from_pretrained(source, **options)
    except (OSError, ValueError) as error:
        if attention and _is_unsupported_attention(error):
            options.pop("attn_implementation")
            return transformers.AutoModelForSequenceClassification.from_pretrained(source, **options)
        raise hub_error(model, "model", error) from error


def _is_unsupported_attention(error: Exception) -> bool:
    """An older architecture (say DistilBERT on an old transformers) without SDPA or FlashAttention."""
    text = str(error)
    return "attn_implementation" in text or "does not support" in text


def load_model_for(config, hardware=None):
    """The classifier a RunConfig asks for, with the attention kernel chosen for the hardware.

    'auto' on a GPU with FlashAttention 2 installed picks it; otherwise the
    library's own default (SDPA where the architecture has it) is kept.
    """
    hardware = hardware or detect_hardware()
    attention = choose_attention(config.attention, hardware, config.precision)
    explicit = None if config.attention == "auto" and attention == "sdpa" else attention
    return load_model(config.model, explicit, config.trust_remote_code)


def count_parameters(model) -> dict:
    """Parameters in millions: all of them, and those outside the embeddings.

    The second number sets the training cost: about 6 x non-embedding
    parameters x tokens floating-point operations.
    Example: ModernBERT-base -> {"total_millions": 149.6, "non_embedding_millions": 111.0}
    """
    total = sum(parameter.numel() for parameter in model.parameters())
    embedding = sum(module.weight.numel() for module in model.modules() if _is_embedding(module))
    return {"total_millions": round(total / 1e6, 2), "non_embedding_millions": round((total - embedding) / 1e6, 2)}


def _is_embedding(module) -> bool:
    import torch

    return isinstance(module, torch.nn.Embedding)
