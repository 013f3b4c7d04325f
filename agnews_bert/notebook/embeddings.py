"""The embedding map: what fine-tuning did to the vectors the classifier reads.

For up to `MAX_ROWS` test texts, we take the vector the classification layer
reads (the classifier's input: BERT's pooled [CLS], ModernBERT's pooled and
normed head output, ...), once from the pretrained encoder as training started
(the same seed, so the same freshly drawn head) and once from the fine-tuned
model. Hooking the last linear layer's input means the pooling is exactly the
classifier's own, whatever the architecture.

Each set is projected to 2-D with UMAP where `umap-learn` is installed (Colab
has it) and PCA (scikit-learn) otherwise; `method` says which. The silhouette
score (scikit-learn, on the full vectors, not the 2-D picture) says how well the
classes separate: near 1 tight, distinct clusters; near 0 overlapping ones.

The result is cached in the run folder (`embedding_map.json`), so running the
notebook cell again is instant. `plots.plot_embedding_map` draws it; taught in
notebook 04.

For a run, `embedding_map("runs/my-run")` gives silhouettes such as 0.02 before
and 0.41 after, with method 'PCA'.

Example:
    >>> silhouette([[0.0, 0.0], [0.0, 0.1], [5.0, 5.0], [5.0, 5.1]], [0, 0, 1, 1])
    0.9859
"""

import logging
import time
from pathlib import Path

import numpy as np

from ..errors import AgNewsError

log = logging.getLogger(__name__)

MAX_ROWS = 2000
CACHE_FILE = "embedding_map.json"
BATCH_SIZE = 64


def classifier_layer(model):
    """The last linear layer with one output per class: the one whose input is the pooled sentence vector."""
    import torch

    layers = [module for module in model.modules()
              if isinstance(module, torch.nn.Linear) and module.out_features == model.config.num_labels]
    if not layers:
        raise AgNewsError(f"{type(model).__name__} has no linear layer with {model.config.num_labels} outputs; "
                          "the embedding map needs a sequence classifier")
    return layers[-1]


def sentence_vectors(model, tokenizer, texts: list, max_length: int, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """The classifier's input vector for each text, as a (texts x width) float32 array in the order given."""
    import torch

    captured = []
    hook = classifier_layer(model).register_forward_hook(lambda _layer, inputs, _output: captured.append(inputs[0]))
    order = np.argsort([len(text) for text in texts], kind="stable")  # similar lengths: little padding
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                batch = [texts[index] for index in order[start:start + batch_size]]
                encoded = tokenizer(batch, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
                model(**encoded.to(model.device))
    finally:
        hook.remove()
    return torch.cat([batch.float().cpu() for batch in captured]).numpy()[np.argsort(order)]


def project_2d(vectors: np.ndarray, seed: int = 42) -> tuple:
    """(points, method): UMAP where umap-learn is installed, else PCA. Example: (2000 x 384) -> ((2000 x 2), "PCA")"""
    try:
        import umap
    except ImportError:
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(vectors), "PCA"
    return umap.UMAP(n_components=2, random_state=seed).fit_transform(vectors), "UMAP"


def embedding_map(run, max_rows: int = MAX_ROWS, refresh: bool = False) -> dict:
    """The test texts' vectors before and after fine-tuning, in 2-D, with their silhouette scores (cached).

    run: a finished run folder or a SavedRun (its model is loaded only when the cache cannot answer).
    Returns {"method", "rows", "labels", "seconds", "before": {"points", "silhouette"}, "after": {...}}.
    refresh=True computes it again instead of reading the run folder's cache.
    """
    from ..lab.folders import read_json, write_json_atomic
    from ..scoring import load_run

    cache = Path(getattr(run, "folder", run)).expanduser() / CACHE_FILE
    if cache.exists() and not refresh:
        cached = read_json(cache)
        if cached.get("max_rows") == max_rows:
            log.info(f"Embedding map read from {cache.name} (computed in {cached['seconds']:.1f} s; refresh=True "
                     "redoes it)")
            return cached
    started = time.perf_counter()
    run = load_run(run)
    texts, labels = _test_sample(run.config, max_rows)
    result = {"method": None, "rows": len(texts), "max_rows": max_rows, "labels": labels.tolist()}
    for when, model in (("before", _pretrained(run)), ("after", run.model)):
        vectors = sentence_vectors(model, run.tokenizer, texts, run.max_length)
        points, result["method"] = project_2d(vectors, run.config.seed)
        result[when] = {"points": np.round(points, 4).tolist(), "silhouette": silhouette(vectors, labels)}
    result["seconds"] = round(time.perf_counter() - started, 2)
    write_json_atomic(cache, result)
    log.info(f"Embedding map of {len(texts):,} test texts ({result['method']}) in {result['seconds']:.1f} s, "
             f"saved in {cache.name}")
    return result


def silhouette(vectors, labels) -> float:
    """scikit-learn's silhouette score of the vectors grouped by true class (-1 to 1; higher: better separated)."""
    from sklearn.metrics import silhouette_score

    return round(float(silhouette_score(vectors, labels)), 4)


def _test_sample(config, max_rows: int) -> tuple:
    """(texts, labels): at most max_rows test rows, drawn with the run's seed."""
    from ..data import load_agnews

    test = load_agnews(config)["test"]
    rows = np.random.default_rng(config.seed).permutation(len(test))[:max_rows]  # all rows when there are fewer
    chosen = test.select(np.sort(rows))
    return list(chosen["text"]), np.asarray(chosen["label"])


def _pretrained(run):
    """The encoder as training started: the same checkpoint, and the same seed for the fresh classifier head."""
    import transformers

    from ..modeling import load_model

    transformers.set_seed(run.config.seed)
    return load_model(run.config, run.hardware).to(run.hardware.device)
