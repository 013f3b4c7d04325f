"""The offline smoke setting: a tokenizer and a tiny ModernBERT that need no network.

The tokenizer is a small WordPiece vocabulary trained on the bundled sample
(`resources/smoke/tokenizer.json`, made by `resources/make_smoke_sample.py`).
The model is ModernBERT's architecture shrunk to 2 layers of width 64 with
random weights: it learns the sample in seconds on a CPU, which is what tests,
CI and the notebooks' smoke mode need. Its scores say the code works, nothing
about ModernBERT-base.

Example:
    >>> model = build_smoke_model(build_smoke_tokenizer())
    >>> model.config.num_hidden_layers, model.config.num_labels
    (2, 4)
"""

from pathlib import Path

import transformers

from .labels import ID2LABEL, LABEL2ID

SMOKE_TOKENIZER_FILE = Path(__file__).parent / "resources" / "smoke" / "tokenizer.json"
SMOKE_MAX_LENGTH = 128


def build_smoke_tokenizer() -> transformers.PreTrainedTokenizerFast:
    """The bundled WordPiece tokenizer, wrapped as a transformers tokenizer."""
    return transformers.PreTrainedTokenizerFast(
        tokenizer_file=str(SMOKE_TOKENIZER_FILE),
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=SMOKE_MAX_LENGTH,
    )


def smoke_model_config(tokenizer) -> transformers.ModernBertConfig:
    """ModernBERT's configuration, shrunk to a few hundred thousand parameters."""
    return transformers.ModernBertConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=SMOKE_MAX_LENGTH,
        global_attn_every_n_layers=2,
        local_attention=64,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
        cls_token_id=tokenizer.cls_token_id,
        sep_token_id=tokenizer.sep_token_id,
        num_labels=len(ID2LABEL),
        id2label=ID2LABEL,
        label2id=LABEL2ID,
    )


def build_smoke_model(tokenizer, attention: str | None = None) -> transformers.ModernBertForSequenceClassification:
    """A randomly initialised tiny ModernBERT classifier (seed it first for repeatability)."""
    config = smoke_model_config(tokenizer)
    if attention:
        config._attn_implementation = attention
    return transformers.ModernBertForSequenceClassification(config)
