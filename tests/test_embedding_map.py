"""The embedding map of a smoke run: the classifier's own vectors, the cap on rows, the cache, the silhouettes."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import agnews_bert as ab
from agnews_bert.scoring import load_run
from agnews_bert.notebook.embeddings import CACHE_FILE, classifier_layer, sentence_vectors


def test_the_vectors_are_what_the_classifier_reads(smoke_run):
    loaded = load_run(smoke_run["run_dir"])
    model, tokenizer = loaded.model, loaded.tokenizer
    texts = ab.load_agnews(ab.RunConfig.from_preset("smoke"))["test"]["text"][:10]
    vectors = sentence_vectors(model, tokenizer, texts, max_length=128, batch_size=4)
    with torch.no_grad():
        logits = classifier_layer(model)(torch.as_tensor(vectors)).numpy()
        expected = np.stack([model(**tokenizer(text, return_tensors="pt")).logits[0].numpy() for text in texts])
    assert vectors.shape == (10, model.config.hidden_size)
    assert logits == pytest.approx(expected, abs=1e-4)  # in the texts' order, though batched by length


def test_the_map_is_cached_and_fine_tuning_separates_the_classes(smoke_run, capsys):
    run_dir = Path(smoke_run["run_dir"])
    (run_dir / CACHE_FILE).unlink(missing_ok=True)
    embedding = ab.notebook.embedding_map(run_dir)
    rows = smoke_run["test"]["rows"]
    assert embedding["rows"] == len(embedding["labels"]) == rows
    assert np.asarray(embedding["before"]["points"]).shape == np.asarray(embedding["after"]["points"]).shape == (rows, 2)
    assert embedding["method"] == ("UMAP" if importlib.util.find_spec("umap") else "PCA")
    assert embedding["after"]["silhouette"] > embedding["before"]["silhouette"] + 0.3
    assert json.loads((run_dir / CACHE_FILE).read_text()) == embedding
    again = ab.notebook.embedding_map(load_run(run_dir))  # a SavedRun finds the cache in its folder
    assert again == embedding and "read from embedding_map.json" in capsys.readouterr().out.splitlines()[-1]
    figure = ab.notebook.plot_embedding_map(embedding)
    assert [axes.get_title().split(":")[0] for axes in figure.axes] == ["pretrained encoder", "fine-tuned encoder"]


def test_rows_are_capped_with_the_run_seed(smoke_run):
    capped = ab.notebook.embedding_map(smoke_run["run_dir"], max_rows=40)
    assert capped["rows"] == 40 and len(capped["after"]["points"]) == 40
    assert sorted(set(capped["labels"])) == [0, 1, 2, 3]
    assert ab.notebook.embedding_map(smoke_run["run_dir"], max_rows=40, refresh=True) == {
        **capped, "seconds": pytest.approx(capped["seconds"], abs=60)}
