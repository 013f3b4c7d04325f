"""Generated bad input: every entry point raises AgNewsError or succeeds, never anything else."""

import csv
import io
import json
import os
from dataclasses import fields, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agnews_bert as ab
from agnews_bert.readers import read_local_source

ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.lists(st.integers(), max_size=3),
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SMOKE = ab.RunConfig.from_preset("smoke")

# What each RunConfig field takes, written out here by hand rather than read from the
# annotations the check itself uses; "?" means None is allowed too.
KINDS = {
    "model": "text", "data": "text", "test_data": "text?", "train_size": "number?", "validation_size": "number",
    "test_size": "number?", "epochs": "number", "lr": "number?", "batch_size": "whole", "eval_batch_size": "whole?",
    "gradient_accumulation_steps": "whole", "max_length": "whole", "warmup_ratio": "number",
    "weight_decay": "number", "seed": "whole", "precision": "text", "attention": "text", "group_by_length": "bool?",
    "output_dir": "text", "run_name": "text?", "checkpoint_dir": "text?", "resume": "bool", "overwrite": "bool",
    "trust_remote_code": "bool", "mirror_checkpoints": "bool", "preset": "text", "method": "text", "lora_r": "whole",
    "lora_alpha": "whole", "lora_dropout": "number", "early_stopping_patience": "whole?",
}
LISTS = st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3)
WRONG_JSON = {  # values JSON can carry that a field of this kind must refuse
    "text": st.one_of(st.integers(), st.floats(), st.booleans(), LISTS,
                      st.dictionaries(st.text(max_size=3), st.integers())),
    "number": st.one_of(st.text(max_size=10), st.booleans(), LISTS),
    "whole": st.one_of(st.floats(), st.text(max_size=10), st.booleans(), LISTS),
    "bool": st.one_of(st.sampled_from(["false", "true", "False", "0", "1", "no", ""]), st.integers(), st.floats(),
                      LISTS),
}


def wrong_value(kind: str, json_only: bool = False):
    """A strategy for values of the wrong type for a field of this kind (None too, unless the field allows it)."""
    wrong = WRONG_JSON[kind.rstrip("?")]
    if kind.rstrip("?") == "text" and not json_only:
        wrong = st.one_of(wrong, st.builds(Path, st.text(min_size=1, max_size=10)))  # a Path is not JSON
    return wrong if kind.endswith("?") else st.one_of(wrong, st.none())


def fits(kind: str, value) -> bool:
    """True if value has the type a field of this kind takes (its range aside)."""
    if value is None:
        return kind.endswith("?")
    kind = kind.rstrip("?")
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    return isinstance(value, {"text": str, "whole": int, "number": (int, float)}[kind])


def test_ci_draws_the_same_examples_every_run():
    ci = settings.get_profile("ci")
    assert ci.derandomize and ci.database is None  # no new random example, no example file, on CI
    assert settings.default.derandomize == bool(os.environ.get("CI"))  # tests/conftest.py picked the profile


def test_every_run_config_field_has_a_kind_here():
    assert set(KINDS) == {field.name for field in fields(ab.RunConfig)}


@FAST
@given(field=st.sampled_from(sorted(KINDS)), data=st.data())
def test_a_wrong_type_is_refused_naming_the_field(field, data):
    value = data.draw(wrong_value(KINDS[field]), label="value")
    with pytest.raises(ab.AgNewsError) as error:
        replace(SMOKE, **{field: value}).validated()
    assert str(error.value).startswith(f"{field}=")


@FAST
@given(field=st.sampled_from(sorted(KINDS)), data=st.data())
def test_a_wrong_type_in_config_json_is_refused_naming_the_field(field, data):
    value = data.draw(wrong_value(KINDS[field], json_only=True), label="value")
    text = json.dumps({**json.loads(SMOKE.to_json()), field: value})
    with pytest.raises(ab.AgNewsError) as error:
        ab.RunConfig.from_json(text)
    assert str(error.value).startswith(f"{field}=")


@FAST
@given(field=st.sampled_from(sorted(KINDS)), value=ANY_VALUE)
def test_run_config_accepts_or_explains(field, value):
    try:
        config = replace(SMOKE, **{field: value}).validated()
    except ab.AgNewsError as error:
        assert str(error).startswith(f"{field}=")
        return
    assert fits(KINDS[field], value)
    assert ab.RunConfig.from_json(config.to_json()) == config


@FAST
@given(field=st.sampled_from([name for name, kind in KINDS.items() if kind.startswith("bool")]), value=st.booleans())
def test_a_boolean_field_takes_true_and_false(field, value):
    config = replace(SMOKE, **{field: value}).validated()
    assert ab.RunConfig.from_json(config.to_json()) == config and getattr(config, field) is value


@FAST
@given(text=st.text(max_size=300))
def test_run_config_from_any_json_text(text):
    try:
        ab.RunConfig.from_json(text)
    except ab.AgNewsError:
        pass


def test_predict_refuses_a_run_whose_config_has_a_text_for_a_boolean(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}", encoding="utf-8")
    (tmp_path / "config.json").write_text(json.dumps({**json.loads(SMOKE.to_json()), "trust_remote_code": "false"}))
    with pytest.raises(ab.AgNewsError, match=r"^trust_remote_code='false'"):
        ab.predict(["a text"], str(tmp_path))


CELL = st.one_of(st.text(max_size=40), st.sampled_from(["1", "2", "3", "4", "0", "5", "World", "sci/tech", ""]))


@FAST
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=4), max_size=12), header=st.booleans())
def test_csv_reader_accepts_or_explains(tmp_path_factory, rows, header):
    stream = io.StringIO()
    writer = csv.writer(stream)
    if header:
        writer.writerow(["text", "label"])
    writer.writerows(rows)
    path = tmp_path_factory.mktemp("csv") / "rows.csv"
    path.write_text(stream.getvalue(), encoding="utf-8")
    try:
        loaded = read_local_source(path)["train"]
    except ab.AgNewsError:
        return
    assert set(loaded["label"]) <= {0, 1, 2, 3} and all(text.strip() for text in loaded["text"])


@FAST
@given(records=st.lists(st.dictionaries(st.sampled_from(["text", "label", "other"]), ANY_VALUE), max_size=8))
def test_jsonl_reader_accepts_or_explains(tmp_path_factory, records):
    path = tmp_path_factory.mktemp("jsonl") / "rows.jsonl"
    path.write_text("\n".join(json.dumps(record) for record in records), encoding="utf-8")
    try:
        loaded = read_local_source(path)["train"]
    except ab.AgNewsError:
        return
    assert len(loaded) == len(records)


@FAST
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_as_csv_accept_or_explain(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "blob.csv"
    path.write_bytes(data)
    try:
        read_local_source(path)
    except ab.AgNewsError:
        pass


@pytest.fixture(scope="module")
def smoke_model(smoke_run):
    saved = ab.load_run(smoke_run["run_dir"])
    return saved.model, saved.tokenizer


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.one_of(ANY_VALUE, st.lists(st.one_of(st.text(max_size=200), st.none(), st.integers()), max_size=5)),
       batch_size=st.one_of(st.integers(-2, 8), st.none()))
def test_predict_accepts_or_explains(smoke_model, texts, batch_size):
    model, tokenizer = smoke_model
    options = {} if batch_size is None else {"batch_size": batch_size}
    try:
        rows = ab.predict(texts, model=model, tokenizer=tokenizer, **options)
    except ab.AgNewsError:
        return
    assert all(row["label"] in ab.CLASS_NAMES for row in rows)
