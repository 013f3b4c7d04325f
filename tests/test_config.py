import json

import pytest

from agnews_bert import AgNewsError, RunConfig

from agnews_bert.notebook import default_learning_rate
from agnews_bert.config import PRESETS


def test_default_preset_is_the_notebooks_job():
    config = RunConfig.from_preset()
    assert config.model == "answerdotai/ModernBERT-base"
    assert config.data == "fancyzhx/ag_news"
    assert config.train_size == 12_000 and config.epochs == 2
    assert config.learning_rate == 5e-5
    assert config.precision == "auto"


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_valid_and_round_trips_through_json(name):
    config = RunConfig.from_preset(name)
    assert config.preset == name
    assert RunConfig.from_json(config.to_json()) == config


def test_smoke_preset_is_offline():
    config = RunConfig.from_preset("smoke")
    assert (config.model, config.data) == ("smoke", "smoke")


def test_overrides_apply_and_none_means_not_given():
    config = RunConfig.from_preset("cpu", epochs=3, lr=None)
    assert config.epochs == 3
    assert config.lr == PRESETS["cpu"].lr


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("lr", -1.0, "lr=-1.0 is out of range"),
        ("lr", 0.0, "lr=0.0 is out of range"),
        ("epochs", 0, "epochs=0 is out of range"),
        ("batch_size", 0, "batch_size=0 is out of range"),
        ("batch_size", 2.5, "batch_size=2.5 has the wrong type"),
        ("max_length", 9000, "max_length=9000 is out of range"),
        ("warmup_ratio", 0.9, "warmup_ratio=0.9"),
        ("train_size", -5, "train_size=-5 is out of range"),
        ("train_size", 1.5, "train_size=1.5 is out of range"),
        ("validation_size", "many", "validation_size='many'"),
        ("precision", "fp8", "precision='fp8' is unknown"),
        ("run_name", "../escape", "run_name='../escape' is not allowed"),
        ("run_name", "/etc/passwd", "is not allowed"),
        ("run_name", "a/b", "is not allowed"),
    ],
)
def test_bad_values_name_the_field(field, value, fragment):
    with pytest.raises(AgNewsError) as error:
        RunConfig.from_preset("smoke", **{field: value})
    assert fragment in str(error.value)


def test_range_message_says_what_to_use():
    with pytest.raises(AgNewsError, match=r"use a number from 1e-07 to 1 \(try 5e-5"):
        RunConfig.from_preset("colab", lr=5)


def test_unknown_preset_and_unknown_field():
    with pytest.raises(AgNewsError, match="preset='gpu' is unknown: use one of colab, cpu, smoke") as error:
        RunConfig.from_preset("gpu")
    assert error.value.field == "preset"
    with pytest.raises(AgNewsError, match="unknown RunConfig field"):
        RunConfig.from_preset("smoke", learning_rate=1e-3)
    with pytest.raises(AgNewsError, match="unknown RunConfig field"):
        RunConfig.from_json(json.dumps({"colour": "red"}))


def test_from_json_rejects_broken_json():
    with pytest.raises(AgNewsError, match="not valid JSON"):
        RunConfig.from_json("{not json")


@pytest.mark.parametrize(
    "model, expected",
    [
        ("answerdotai/ModernBERT-base", 5e-5),
        ("answerdotai/ModernBERT-large", 5e-5),
        ("bert-base-uncased", 2e-5),
        ("distilbert-base-uncased", 2e-5),
        ("roberta-base", 2e-5),
    ],
)
def test_family_default_learning_rate(model, expected):
    assert default_learning_rate(model) == expected
    assert RunConfig.from_preset(model=model).learning_rate == expected
    assert RunConfig.from_preset(model=model, lr=1e-4).learning_rate == 1e-4


def test_run_name_is_built_from_the_settings():
    config = RunConfig.from_preset("colab")
    assert config.resolved_run_name == f"modernbert-base_n12000_lr5e-05_ep2_seed42_{config.settings_fingerprint}"
    assert RunConfig.from_preset("colab", run_name="mine").resolved_run_name == "mine"
    assert RunConfig.from_preset("colab", seed=7).resolved_run_name != config.resolved_run_name


def test_eval_batch_defaults_to_four_times_training_batch():
    assert RunConfig.from_preset("smoke", batch_size=16).per_device_eval_batch_size == 64
    assert RunConfig.from_preset("smoke", eval_batch_size=10).per_device_eval_batch_size == 10


def test_a_config_built_directly_has_the_default_preset_name():
    assert RunConfig().preset == "colab"
    assert RunConfig(model="bert-base-uncased").validated().preset == "colab"
    assert RunConfig.from_json('{"epochs": 1}').preset == "colab"  # a config.json without "preset"
