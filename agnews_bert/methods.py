"""What a run trains: every weight ("full"), LoRA adapters ("lora"), or only the head ("linear-probe").

Each model family names its layers differently, so one table (FAMILIES) says,
per `config.model_type`, which linear layers are the encoder's attention and
MLP projections (LoRA's targets) and which modules form the classification
head, as transformers' `...ForSequenceClassification` classes name them. The
head is the same for both methods: LoRA trains it fully (peft's
`modules_to_save`), the linear probe trains nothing else. For BERT the head
includes the pooler, because BertForSequenceClassification classifies from it
and a checkpoint without one (all-MiniLM) would leave it random and frozen.

LoRA is peft's own (`LoraConfig`, `get_peft_model`); peft is an optional extra,
imported only when a run asks for LoRA. A LoRA run's model folder holds the
adapter and the head (adapter_config.json, adapter_model.safetensors), and
`load_adapter_model` rebuilds the classifier from it, unmerged, so its logits
equal those of the run's own test pass.

Example:
    >>> from agnews_bert.config import RunConfig
    >>> from agnews_bert.modeling import load_classifier
    >>> model = apply_method(load_classifier("smoke"), RunConfig.from_preset("smoke", method="linear-probe"))
    >>> sorted({name.split(".")[0] for name, p in model.named_parameters() if p.requires_grad})
    ['classifier', 'head']
"""

from collections import namedtuple
from pathlib import Path

from . import _compat
from .errors import AgNewsError, setting

# peft keeps the head's original weights, frozen and unused, under this name next to the trained copy.
FROZEN_HEAD_COPY = ".original_module."
INSTALL_PEFT = 'pip install "agnews_bert[lora]" (in Colab: %pip install peft)'


# The layer names of one model family: LoRA's target linear layers and the classification head.
Family = namedtuple("Family", ["lora_targets", "head"])


FAMILIES = {
    # modeling_modernbert.py: attention Wqkv, Wo; MLP Wi, Wo; ForSequenceClassification: head, classifier
    "modernbert": Family(lora_targets=("Wqkv", "Wo", "Wi"), head=("head", "classifier")),
    # modeling_bert.py: query, key, value, attention.output.dense; intermediate.dense, output.dense
    "bert": Family(lora_targets=("query", "key", "value", "dense"), head=("pooler", "classifier")),
    # modeling_distilbert.py: q_lin, k_lin, v_lin, out_lin; ffn.lin1, ffn.lin2
    "distilbert": Family(lora_targets=("q_lin", "k_lin", "v_lin", "out_lin", "lin1", "lin2"),
                         head=("pre_classifier", "classifier")),
}


def family_of(model) -> Family:
    """The layer names of a classifier's family. Example: a BertForSequenceClassification -> FAMILIES["bert"]"""
    model_type = getattr(model.config, "model_type", None)
    if model_type not in FAMILIES:
        raise AgNewsError(
            f"{setting('method', 'lora')} and {setting('method', 'linear-probe')} know the layers of "
            f"{', '.join(sorted(FAMILIES))} models, not of model_type {model_type!r}; use {setting('method', 'full')} "
            "for this model, or add its layer names to agnews_bert.methods.FAMILIES", field="method")
    return FAMILIES[model_type]


def head_modules(model) -> list:
    """The dotted names of the classification head's modules. Example: BERT -> ['bert.pooler', 'classifier']"""
    head = family_of(model).head
    return [name for name, _ in model.named_modules() if name.split(".")[-1] in head]


def lora_target_modules(model) -> list:
    """The dotted names of the encoder's linear layers LoRA adapts (none inside the head).

    Example: the smoke ModernBERT -> ['model.layers.0.attn.Wqkv', 'model.layers.0.attn.Wo', ...]
    """
    import torch

    targets, head = family_of(model).lora_targets, head_modules(model)
    return [name for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and name.split(".")[-1] in targets
            and not any(name == part or name.startswith(part + ".") for part in head)]


def apply_method(model, config):
    """The classifier prepared for `config.method`: unchanged, wrapped with LoRA, or with its encoder frozen."""
    if config.method == "lora":
        return with_lora(model, config)
    return with_frozen_encoder(model) if config.method == "linear-probe" else model


def with_frozen_encoder(model):
    """The model with every parameter outside the head frozen (requires_grad=False); the same object."""
    head = tuple(part + "." for part in head_modules(model))
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith(head)
    return model


def with_lora(model, config):
    """A peft model: LoRA of rank lora_r on the encoder's projections, the head trained in full.

    base_model_name_or_path is the run's own model name ("smoke", a Hub id), so
    loading the adapter rebuilds the base through `load_classifier` wherever it runs.
    """
    peft = require_peft()
    _compat.hide_peft_deprecation_warning()
    lora_config = peft.LoraConfig(
        task_type=peft.TaskType.SEQ_CLS, r=config.lora_r, lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout, target_modules=lora_target_modules(model),
        modules_to_save=head_modules(model))
    lora_model = peft.get_peft_model(model, lora_config)
    # get_peft_model records the folder the model came from: for "smoke", this machine's cache folder
    lora_model.active_peft_config.base_model_name_or_path = config.model
    return lora_model


def require_peft():
    """The peft module, or an AgNewsError that says how to install it."""
    try:
        import peft
    except ImportError as error:
        raise AgNewsError(f"{setting('method', 'lora')} needs the peft library, which is not installed; install it "
                          f"with {INSTALL_PEFT}, or use {setting('method', 'full')} or "
                          f"{setting('method', 'linear-probe')}", field="method") from error
    return peft


def is_adapter_folder(model_dir) -> bool:
    """True for a folder peft saved an adapter in (a LoRA run's model/)."""
    return (Path(model_dir) / "adapter_config.json").is_file()  # what peft's save_pretrained writes


def load_adapter_model(model_dir, trust_remote_code: bool = False):
    """A LoRA run's classifier: the base model through `load_classifier` (4 labels), then the saved adapter and head.

    The adapter stays unmerged, as it was in the run's test pass: merged weights round differently,
    so the logits would no longer equal the test pass's exactly.
    """
    from .modeling import load_classifier

    peft = require_peft()
    base_name = peft.PeftConfig.from_pretrained(str(model_dir)).base_model_name_or_path
    base = load_classifier(base_name, trust_remote_code=trust_remote_code)
    return peft.PeftModel.from_pretrained(base, str(model_dir), is_trainable=False)
