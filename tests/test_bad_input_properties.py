"""Generated bad input: every entry point raises AgNewsError or succeeds, never anything else."""

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agnews_bert as ab
from agnews_bert.readers import read_local_source

ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.lists(st.integers(), max_size=3),
)
FIELDS = ["lr", "epochs", "batch_size", "max_length", "train_size", "validation_size", "test_size", "seed",
          "warmup_ratio", "weight_decay", "precision", "attention", "run_name", "model", "output_dir", "eval_batch_size"]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(field=st.sampled_from(FIELDS), value=ANY_VALUE)
def test_run_config_accepts_or_explains(field, value):
    try:
        config = ab.RunConfig.preset("smoke", **{field: value})
    except ab.AgNewsError as error:
        assert field in str(error) or "RunConfig" in str(error)
        return
    assert ab.RunConfig.from_json(config.to_json()) == config


@FAST
@given(text=st.text(max_size=300))
def test_run_config_from_any_json_text(text):
    try:
        ab.RunConfig.from_json(text)
    except ab.AgNewsError:
        pass


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
    return ab.load_saved_model(smoke_run["run_dir"])


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
