"""The three methods (full, LoRA, linear probe): the layers each family adapts, and runs that reload equal.

Each method trains the smoke model end to end twice: through the `agnews-bert`
console script and through `ab.train`. A run's reloaded model must score its
test rows to the very logits its own test pass had, and `ab.predict` must give
exactly the probabilities of scoring that saved model.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers

import agnews_bert as ab
from agnews_bert.scoring import load_run
import agnews_bert.scoring
import agnews_bert.training
from agnews_bert.errors import AgNewsError
from agnews_bert.methods import FAMILIES, head_modules, lora_target_modules
from agnews_bert.modeling import count_parameters, load_classifier
from agnews_bert.notebook.widgets import MODEL_CHOICES
from agnews_bert.calibration import scaled_probabilities as softmax
from agnews_bert.scoring import score
from agnews_bert.tokenization import tokenize_texts
from agnews_bert.lab.folders import read_index

CONSOLE_SCRIPT = shutil.which("agnews-bert") or str(Path(sys.executable).parent / "agnews-bert")
METHODS = ("full", "lora", "linear-probe")
EPOCHS = 2  # enough for a best epoch to be chosen and reloaded at the end

# The model type of each model the settings form offers (no download: the test checks this list is the form's).
FORM_MODEL_TYPES = {"answerdotai/ModernBERT-base": "modernbert", "bert-base-uncased": "bert",
                    "distilbert-base-uncased": "distilbert", "google/bert_uncased_L-4_H-256_A-4": "bert"}
TINY_CONFIGS = {  # each architecture shrunk to 2 layers of width 32 (a vocabulary of 100, padding id 0)
    "modernbert": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                       vocab_size=100, global_attn_every_n_layers=2, local_attention=16, pad_token_id=0,
                       bos_token_id=1, eos_token_id=2, cls_token_id=1, sep_token_id=2),
    "bert": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, vocab_size=100),
    "distilbert": dict(dim=32, hidden_dim=64, n_layers=2, n_heads=2, vocab_size=100),
}
# What the encoder's layers are called in each family's modeling file, and the head that trains in both methods.
EXPECTED = {
    "modernbert": ({"attn.Wqkv", "attn.Wo", "mlp.Wi", "mlp.Wo"}, ["head", "classifier"]),
    "bert": ({"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
              "intermediate.dense", "output.dense"}, ["bert.pooler", "classifier"]),
    "distilbert": ({"attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin", "ffn.lin1",
                    "ffn.lin2"}, ["pre_classifier", "classifier"]),
}


def tiny_classifier(model_type: str):
    config = transformers.AutoConfig.for_model(model_type, num_labels=4, **TINY_CONFIGS.get(model_type, {}))
    return transformers.AutoModelForSequenceClassification.from_config(config)


def run_console_script(*arguments):
    """`agnews-bert ...` in a fresh process, offline, as a student types it."""
    environment = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    return subprocess.run([CONSOLE_SCRIPT, *arguments], capture_output=True, text=True, env=environment, timeout=600)


# --- the layers of each family ------------------------------------------------------------------

def test_the_form_offers_only_families_with_known_layers():
    assert set(FORM_MODEL_TYPES) == {model for _, model in MODEL_CHOICES}
    assert set(FORM_MODEL_TYPES.values()) | {"modernbert"} <= set(FAMILIES)  # "modernbert": the smoke model too


@pytest.mark.parametrize("model_type", sorted(set(FORM_MODEL_TYPES.values())))
def test_lora_targets_every_attention_and_mlp_projection_and_no_head_layer(model_type):
    model = tiny_classifier(model_type)
    expected_layers, expected_head = EXPECTED[model_type]
    targets = lora_target_modules(model)
    assert {re.sub(r"^.*\.layers?\.\d+\.", "", name) for name in targets} == expected_layers
    assert len(targets) == 2 * len(expected_layers)  # each of the 2 layers, once
    assert head_modules(model) == expected_head
    linear_outside_head = [name for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)
                           and not name.startswith(tuple(expected_head))]
    assert sorted(targets) == sorted(linear_outside_head)


def test_the_smoke_model_is_a_modernbert_with_its_layers():
    model = load_classifier("smoke")
    assert {re.sub(r"^.*\.layers\.\d+\.", "", name) for name in lora_target_modules(model)} == EXPECTED["modernbert"][0]
    assert head_modules(model) == ["head", "classifier"]


def test_a_family_without_known_layers_says_to_train_in_full():
    model = tiny_classifier("electra")
    with pytest.raises(AgNewsError, match=r"not of model_type 'electra'; use method='full'"):
        lora_target_modules(model)


# --- end to end ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def api_runs(tmp_path_factory):
    """One `ab.train` run per method, each with the logits its own test pass scored."""
    output_dir = tmp_path_factory.mktemp("runs")
    runs = {}
    real_score_with = agnews_bert.scoring.score_with
    for method in METHODS:
        passes = {}

        def recording_score_with(trainer, rows, metric_key_prefix):
            output = real_score_with(trainer, rows, metric_key_prefix)
            passes.setdefault(metric_key_prefix, output.predictions)
            return output

        config = ab.RunConfig.from_preset("smoke", output_dir=str(output_dir), method=method, epochs=EPOCHS)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(agnews_bert.scoring, "score_with", recording_score_with)
            results = ab.train(config)
        runs[method] = {"config": config, "results": results, "test_logits": passes["test"]}
    return runs


@pytest.mark.parametrize("method", METHODS)
def test_a_reloaded_run_scores_the_logits_of_its_own_test_pass(api_runs, method):
    run = api_runs[method]
    config, run_dir = run["config"], run["results"]["run_dir"]
    loaded = load_run(run_dir)
    model, tokenizer = loaded.model, loaded.tokenizer
    test = ab.tokenize_dataset(ab.load_agnews(config), tokenizer, config.max_length)["test"]
    rescored = score(model, tokenizer, test, batch_size=config.per_device_eval_batch_size)
    assert np.array_equal(rescored.predictions, run["test_logits"])

    texts = list(ab.load_agnews(config)["test"]["text"][:12])
    predicted = ab.predict(texts, run_dir)
    expected = softmax(score(model, tokenizer, tokenize_texts(texts, tokenizer, config.max_length)).predictions)
    assert np.array_equal(np.array([list(row["probabilities"].values()) for row in predicted]), expected)


def test_trainable_parameters_probe_is_the_head_and_lora_is_fewer_than_full(api_runs):
    counts = {method: api_runs[method]["results"]["parameters"] for method in METHODS}
    fresh = load_classifier("smoke")
    head_size = sum(parameter.numel() for name in head_modules(fresh)
                    for parameter in fresh.get_submodule(name).parameters())
    assert counts["full"]["trainable"] == counts["full"]["total"] == count_parameters(fresh)["total"]
    assert counts["linear-probe"]["trainable"] == head_size
    assert counts["linear-probe"]["total"] == counts["full"]["total"]
    assert head_size < counts["lora"]["trainable"] < counts["full"]["trainable"]
    lora_weights = counts["lora"]["trainable"] - head_size  # A and B of every adapted layer, nothing else
    assert counts["lora"]["total"] == counts["full"]["total"] + lora_weights
    for method in METHODS:
        assert counts[method]["trainable_share"] == counts[method]["trainable"] / counts[method]["total"]
    index = {row["run_name"]: row for row in read_index(api_runs["full"]["config"].output_dir)}
    for method in METHODS:
        row = index[api_runs[method]["results"]["run_name"]]
        assert (row["method"], row["trainable_parameters"], row["total_parameters"]) == \
            (method, counts[method]["trainable"], counts[method]["total"])


@pytest.mark.parametrize("method", METHODS)
def test_a_finished_run_loads_into_the_trainer_as_notebook_01_does_when_run_again(api_runs, method, tmp_path):
    """Run all twice: the second time notebook 01 builds a fresh Trainer and loads the finished run into it."""
    run = api_runs[method]
    config, run_dir = run["config"], run["results"]["run_dir"]
    tokenizer = ab.load_tokenizer(config.model)
    tokenized = ab.tokenize_dataset(ab.load_agnews(config), tokenizer, config.max_length)
    trainer = agnews_bert.training.build_trainer(config, ab.load_model(config), tokenizer, tokenized, tmp_path)
    ab.lab.load_finished_run(trainer, run_dir)
    report = ab.evaluate_on_test(trainer, tokenized["test"])
    for key in ("accuracy", "macro_f1", "confusion_matrix"):
        assert report[key] == run["results"]["test"][key], key


def test_a_lora_run_gets_the_package_model_card_not_peft_own(api_runs):
    from huggingface_hub import ModelCard

    card = ModelCard.load(Path(api_runs["lora"]["results"]["run_dir"]) / "model" / "README.md")
    assert card.data.library_name == "peft"
    assert "## Method: lora" in card.text and "## Intended use and limitations" in card.text


def test_a_lora_model_folder_holds_the_adapter_and_head_not_the_model(api_runs):
    model_dir = Path(api_runs["lora"]["results"]["run_dir"]) / "model"
    files = {path.name for path in model_dir.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} <= files
    assert not files & {"model.safetensors", "pytorch_model.bin", "config.json"}
    adapter = json.loads((model_dir / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == "smoke" and adapter["r"] == 8
    assert (model_dir / "adapter_model.safetensors").stat().st_size < 0.5 * 4 * api_runs["full"]["results"][
        "parameters"]["total"]  # float32 bytes: well under half of the whole model


@pytest.mark.parametrize("method", METHODS)
def test_each_method_trains_through_the_console_script_and_evaluate_equals_its_test_pass(tmp_path, method):
    trained = run_console_script("train", "--preset", "smoke", "--output-dir", str(tmp_path), "--run-name", "run",
                                 "--method", method, "--epochs", str(EPOCHS))
    assert trained.returncode == 0, trained.stderr[-2000:]
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert json.loads((tmp_path / "run" / "config.json").read_text())["method"] == method
    evaluated = run_console_script("evaluate", str(tmp_path / "run"), "--json")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    rescored = json.loads(evaluated.stdout)
    for key in ("accuracy", "macro_f1", "confusion_matrix", "per_class"):
        assert rescored[key] == results["test"][key], key


def test_lora_without_peft_says_how_to_install_it_before_writing_anything(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "peft", None)  # what `import peft` meets when peft is not installed
    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), method="lora")
    with pytest.raises(AgNewsError, match=r'pip install "agnews_bert\[lora\]" \(in Colab: %pip install peft\)'):
        ab.train(config)
    assert list(tmp_path.iterdir()) == []


def test_a_lora_run_without_peft_says_how_to_install_it_to_predict(monkeypatch, api_runs):
    monkeypatch.setitem(sys.modules, "peft", None)
    with pytest.raises(AgNewsError, match=r'^method=\'lora\' needs the peft library.*agnews_bert\[lora\]'):
        ab.predict(["Shares rose"], api_runs["lora"]["results"]["run_dir"])


class SimulatedCrash(RuntimeError):
    pass


def test_an_interrupted_lora_run_resumes_from_its_checkpoint_adapter(tmp_path, monkeypatch):
    from safetensors.torch import load_file

    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), method="lora", epochs=3)  # 13 steps an epoch
    real_step = transformers.Trainer.training_step

    def crash_at_step_30(self, *args, **kwargs):
        if self.state.global_step == 30:
            raise SimulatedCrash("the runtime went away")
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(transformers.Trainer, "training_step", crash_at_step_30)
    with pytest.raises(SimulatedCrash):
        ab.train(config)
    checkpoint = Path(ab.lab.folders.run_dir_for(config), "checkpoints", "checkpoint-26")
    saved = load_file(checkpoint / "adapter_model.safetensors")
    # Copies: the file is memory-mapped, and the finished run deletes its checkpoints.
    lora_b = {name: tensor.clone() for name, tensor in saved.items() if "lora_B" in name}
    del saved
    assert lora_b and any(tensor.abs().sum() > 0 for tensor in lora_b.values())  # trained away from B = 0
    resumed_with, steps = {}, []

    def recording_step(self, *args, **kwargs):
        if not steps:  # the first step after the resume: the weights the checkpoint restored
            resumed_with.update({name: parameter.detach().clone() for name, parameter in self.model.named_parameters()
                                 if "lora_B" in name})
        steps.append(self.state.global_step)
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(transformers.Trainer, "training_step", recording_step)
    results = ab.train(config)
    assert results["resumed_from"] == "checkpoint-26" and steps == list(range(26, 39))
    restored = {name.replace(".default", ""): tensor for name, tensor in resumed_with.items()}
    assert set(restored) == set(lora_b)
    assert all(torch.equal(restored[name], lora_b[name]) for name in lora_b)
