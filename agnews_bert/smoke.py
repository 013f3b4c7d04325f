"""The offline smoke setting, decided here and nowhere else: data, tokenizer, model and smoke mode.

"smoke" as a data source is the small synthetic sample bundled with the package
(`resources/smoke/train.csv` and `test.csv`). "smoke" as a model is a real
checkpoint folder that the ordinary loading code reads, as it would read
`bert-base-uncased`: ModernBERT's architecture shrunk to 2 layers of width 64,
with random weights, and a small WordPiece tokenizer trained on the sample
(`resources/smoke/tokenizer.json`, made by `resources/make_smoke_sample.py`).
The folder is built once per machine into a cache folder. Like a real
pretrained encoder it has no classification head, so each run's seed draws one.
It learns the sample in seconds on a CPU, which is what tests, CI and the
notebooks' smoke mode (`AGNEWS_BERT_SMOKE=1`) need; its scores say the code
works, nothing about ModernBERT-base.

Example:
    >>> resolve_model("smoke").name.startswith("smoke-model-")
    True
    >>> resolve_data("fancyzhx/ag_news")
    'fancyzhx/ag_news'
"""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

SMOKE = "smoke"
SMOKE_ENV = "AGNEWS_BERT_SMOKE"
SMOKE_DIR = Path(__file__).parent / "resources" / "smoke"
SMOKE_TOKENIZER_FILE = SMOKE_DIR / "tokenizer.json"
SMOKE_MAX_LENGTH = 128
SMOKE_WEIGHTS_SEED = 0


def smoke_mode() -> bool:
    """True when AGNEWS_BERT_SMOKE is set to anything but '' or '0' (CI runs the notebooks so)."""
    return os.environ.get(SMOKE_ENV, "").strip() not in ("", "0")


def resolve_data(source: str) -> str:
    """A data source as a path or Hub id: "smoke" becomes the bundled sample's folder."""
    return str(SMOKE_DIR) if source == SMOKE else source


def resolve_model(model: str):
    """A model name as a path or Hub id: "smoke" becomes the cached smoke checkpoint folder (built if missing)."""
    return smoke_checkpoint() if model == SMOKE else model


def smoke_checkpoint() -> Path:
    """The smoke checkpoint folder (encoder weights, config, tokenizer), built on first use.

    The folder name carries a hash of the tokenizer file and the transformers
    version, so a change to either builds a fresh one.
    """
    import transformers

    key = hashlib.sha256(SMOKE_TOKENIZER_FILE.read_bytes() + transformers.__version__.encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "agnews_bert" / f"smoke-model-{key}"
    if not (folder / "config.json").exists():
        _build_atomically(folder)
    return folder


def _build_atomically(folder: Path) -> None:
    """Save the smoke encoder into a temporary folder, then rename it into place (another process may win)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".building-"))
    try:
        tokenizer = build_smoke_tokenizer()
        build_smoke_encoder(tokenizer).save_pretrained(building)
        tokenizer.save_pretrained(building)
        os.replace(building, folder)
    except OSError:
        if not (folder / "config.json").exists():
            raise
    finally:
        shutil.rmtree(building, ignore_errors=True)


def build_smoke_tokenizer():
    """The bundled WordPiece tokenizer, wrapped as a transformers tokenizer."""
    import transformers

    return transformers.PreTrainedTokenizerFast(
        tokenizer_file=str(SMOKE_TOKENIZER_FILE), pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=SMOKE_MAX_LENGTH)


def build_smoke_encoder(tokenizer):
    """A tiny ModernBERT encoder (a few hundred thousand parameters) with random weights from a fixed seed.

    The global random state is left alone.
    """
    import torch
    import transformers

    config = transformers.ModernBertConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
        max_position_embeddings=SMOKE_MAX_LENGTH, global_attn_every_n_layers=2, local_attention=64,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id,
        cls_token_id=tokenizer.cls_token_id, sep_token_id=tokenizer.sep_token_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SMOKE_WEIGHTS_SEED)
        return transformers.ModernBertModel(config)
