"""Loading the classifier: any encoder checkpoint with a fresh 4-class head.

`AutoModelForSequenceClassification` puts a randomly initialised linear head
on top of the pretrained encoder; fine-tuning trains both. We always pass the
class names (`id2label`), so a saved model and its predictions speak in
"Sports", not "LABEL_1". Weights load from safetensors where a checkpoint has
them, and code from the Hub runs only if `trust_remote_code=True`. "smoke" is
a checkpoint folder like any other (see smoke.py).

Example:
    >>> model = load_classifier("smoke")
    >>> model.config.id2label[3]
    'Sci/Tech'
"""

from pathlib import Path

import transformers

from . import _compat
from .errors import AgNewsError, setting
from .hardware import choose_attention, detect_hardware
from .hub import check_hub_reachable, hub_error, looks_like_a_path
from .labels import ID2LABEL, LABEL2ID, NUM_CLASSES
from .methods import FROZEN_HEAD_COPY, apply_method
from .smoke import resolve_model

# Any one of these is a tokenizer: the fast tokenizer's file, WordPiece, BPE, or a SentencePiece model.
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "*.model")
MIN_VOCABULARY = 1_000  # tokens; real tokenizers have tens of thousands, the smoke model's 1,500


def load_classifier(model: str, attention: str | None = None, trust_remote_code: bool = False):
    """A sequence classifier for the four AG News classes.

    model: a Hub id (answerdotai/ModernBERT-base, bert-base-uncased, ...), a local
    folder with a checkpoint, or "smoke". attention: "sdpa", "eager",
    "flash_attention_2", or None for the library's choice.
    """
    source = resolve_model(model)
    options = dict(num_labels=NUM_CLASSES, id2label=ID2LABEL, label2id=LABEL2ID, trust_remote_code=trust_remote_code,
                   ignore_mismatched_sizes=True,  # a checkpoint with another head gets a fresh 4-class one
                   **_compat.float32_weights_kwargs())  # fp32 weights under fp16/bf16 autocast, never fp16 weights
    try:
        return transformers.AutoModelForSequenceClassification.from_pretrained(
            source, attn_implementation=attention, **options)
    except (OSError, ValueError) as error:
        # An older architecture (say DistilBERT on an old transformers) without SDPA or FlashAttention
        if attention and ("attn_implementation" in str(error) or "does not support" in str(error)):
            return transformers.AutoModelForSequenceClassification.from_pretrained(source, **options)
        raise hub_error(model, "model", error) from error


def check_model_source(model: str) -> None:
    """Raise AgNewsError unless `model` is a usable local checkpoint folder or a Hub id that can be fetched.

    A local folder needs config.json and a tokenizer (one of TOKENIZER_FILES): without
    one, transformers would build an empty tokenizer and train on nothing.
    Example: "./my-checkpoint" (missing) -> "model folder './my-checkpoint' does not exist; ..."
    """
    source = Path(resolve_model(model)).expanduser()
    if not source.exists():
        if looks_like_a_path(model):
            raise AgNewsError(f"model folder {model!r} does not exist; check the path, or pass a Hub id such as "
                              f"{setting('model', 'answerdotai/ModernBERT-base')}", field="model")
        check_hub_reachable(model, "model")
        return
    if not source.is_dir():
        raise AgNewsError(f"{setting('model', model)} is a file; pass the checkpoint folder that holds it",
                          field="model")
    missing = [] if (source / "config.json").is_file() else ["config.json"]
    if not any(any(source.glob(pattern)) for pattern in TOKENIZER_FILES):
        missing.append(f"tokenizer files ({', '.join(TOKENIZER_FILES)})")
    if missing:
        raise AgNewsError(
            f"model folder {model!r} has no {' and no '.join(missing)}; a checkpoint folder needs both: save them "
            "with model.save_pretrained(folder) and tokenizer.save_pretrained(folder)", field="model")


def check_tokenizer_fits_model(tokenizer, model: str, trust_remote_code: bool = False) -> None:
    """Raise AgNewsError unless the tokenizer's vocabulary and padding token fit the model's embeddings.

    A token id beyond the model's embedding rows cannot be looked up, and a
    vocabulary of a few tokens (what transformers builds for a folder without
    tokenizer files) turns every text into the same few ids. A model's rows are
    often padded up (ModernBERT: 50,280 tokens, 50,368 rows), so fewer tokens
    than rows is fine, down to MIN_VOCABULARY.
    Example: a 5-token tokenizer for a 1,500-row model -> AgNewsError naming both sizes
    """
    try:
        model_config = transformers.AutoConfig.from_pretrained(resolve_model(model), trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as error:
        raise hub_error(model, "model", error) from error
    rows, tokens = getattr(model_config, "vocab_size", None), len(tokenizer)
    fix = "put the model's own tokenizer files in its folder (tokenizer.save_pretrained(folder))"
    if rows and tokens > rows:
        raise AgNewsError(f"the tokenizer of {model!r} has {tokens:,} tokens but the model's embeddings have "
                          f"{rows:,} rows, so it is another model's tokenizer; {fix}", field="model")
    if tokens < MIN_VOCABULARY:
        raise AgNewsError(f"the tokenizer of {model!r} has {tokens:,} tokens, too few to tell texts apart (a real "
                          f"one has thousands; the model's embeddings have {rows:,} rows); {fix}", field="model")
    if tokenizer.pad_token_id is None:
        raise AgNewsError(f"the tokenizer of {model!r} has no padding token, which batches of texts need; "
                          "set tokenizer.pad_token and save it into the model folder", field="model")
    expected_pad = getattr(model_config, "pad_token_id", None)
    if expected_pad is not None and tokenizer.pad_token_id != expected_pad:
        raise AgNewsError(f"the tokenizer of {model!r} pads with token id {tokenizer.pad_token_id} but the "
                          f"model expects {expected_pad}, so it is another model's tokenizer; {fix}",
                          field="model")


def load_model(config, hardware=None):
    """The classifier a RunConfig asks for, with the attention kernel chosen for the hardware, ready for its method.

    'auto' on a GPU with FlashAttention 2 installed picks it; otherwise the
    library's own default (SDPA where the architecture has it) is kept.
    config.method decides what trains (methods.py): every weight, LoRA adapters, or the head.
    """
    hardware = hardware or detect_hardware()
    attention = choose_attention(config.attention, hardware, config.precision)
    explicit = None if config.attention == "auto" and attention == "sdpa" else attention
    return apply_method(load_classifier(config.model, explicit, config.trust_remote_code), config)


def count_parameters(model) -> dict:
    """The parameters the model predicts with, exactly and in millions, and how many of them train.

    The non-embedding count sets the cost of full fine-tuning: about 6 x
    non-embedding parameters x tokens floating-point operations. A LoRA model's
    total holds the adapters; the frozen copy of its head that peft keeps
    (`original_module`) is not counted, since it never predicts.
    Example: the smoke model, method="full" -> {"trainable": 182660, "total": 182660, "trainable_share": 1.0,
    "total_millions": 0.18, "non_embedding_millions": 0.09}; method="linear-probe" -> "trainable": 4420
    """
    import torch

    used = [parameter for name, parameter in model.named_parameters() if FROZEN_HEAD_COPY not in name]
    total = sum(parameter.numel() for parameter in used)
    trainable = sum(parameter.numel() for parameter in used if parameter.requires_grad)
    embedding = sum(module.weight.numel() for module in model.modules() if isinstance(module, torch.nn.Embedding))
    return {"trainable": trainable, "total": total, "trainable_share": trainable / total,
            "total_millions": round(total / 1e6, 2), "non_embedding_millions": round((total - embedding) / 1e6, 2)}
