"""What must always hold, stage by stage, checked directly on fixtures as hard as real use.

The smoke sample is tidier than real data. The hard fixture (written in set-up by
`resources/make_smoke_sample.py`, as the smoke sample is) is unbalanced 60/25/10/5 %
and a third of its texts are longer than the smoke preset's max_length of 64 tokens.
The runs here leave lr at the model family's default, take enough steps for
checkpoint numbers of two and three digits (42, 84, 126; 84, 168, 252), and run out
of memory twice. Each test's name is the invariant it checks; its first comment
says which property of real use the fixture stands for.

Invariants, by stage:
- splits: validation comes from the training pool, stratified; no test text is trained on;
- identity: lr=None and the family default are one setting, for every preset;
- metrics: macro-F1 is the mean over all four classes, present or not, never weighted;
- scoring: logits come back in the rows' order; texts are cut to the run's max_length;
- precision: score and the Trainer run in the precision chosen for the GPU;
- checkpoints and resume: the newest checkpoint is the highest step; a resumed run
  continues from it and evaluates each epoch once;
- training: the epoch kept is the best by validation macro-F1, and the test split is
  scored only after training, once;
- the OOM retry: each halving keeps the effective batch, and what is recorded is what ran;
- the runs index: each row equals what ran, lr included.
"""

import importlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import transformers

import agnews_bert as ab
from agnews_bert.notebook import widgets
from agnews_bert.calibration import scaled_probabilities as softmax
from agnews_bert.scoring import load_run, prediction_arguments, score
from agnews_bert.resources.make_smoke_sample import HARD_SHARES, write_hard_fixture
from agnews_bert.lab.folders import read_index
from agnews_bert.lab.checkpoints import MIRROR_MARKER, latest_checkpoint, restore_from_mirror
from agnews_bert.lab.saving import index_row
from agnews_bert.tokenization import tokenize_texts
from conftest import out_of_memory_above

MAX_LENGTH = 64  # the smoke preset's
CPU = ab.hardware.Hardware("cpu", "CPU")
T4 = ab.hardware.Hardware("cuda", "Tesla T4", (7, 5))
A100 = ab.hardware.Hardware("cuda", "NVIDIA A100-SXM4-40GB", (8, 0))
H100 = ab.hardware.Hardware("cuda", "NVIDIA H100 80GB HBM3", (9, 0), flash_attn_installed=True)


@pytest.fixture
def bf16_gpu(monkeypatch):
    """TrainingArguments' own check for a bf16 GPU says yes, as on an A100 (the only fake: no GPU here)."""
    monkeypatch.setattr(transformers.training_args, "is_torch_bf16_gpu_available", lambda: True)


@pytest.fixture(scope="module")
def hard_data(tmp_path_factory) -> str:
    return str(write_hard_fixture(tmp_path_factory.mktemp("fixtures")))


def hard_config(data: str, output_dir, **changes) -> ab.RunConfig:
    """The smoke preset on the hard fixture, lr and precision left at their defaults (the preset sets both)."""
    config = ab.RunConfig.from_preset("smoke", data=data, output_dir=str(output_dir), **changes)
    return replace(config, lr=None, precision="auto").validated()


@pytest.fixture(scope="module")
def hard_run(hard_data, tmp_path_factory):
    """A finished run on the hard fixture (3 epochs of 42 steps), with every scoring pass it made."""
    passes = []  # (what was called, the input ids it scored) in call order
    real_evaluate, real_predict = transformers.Trainer.evaluate, transformers.Trainer.predict

    def evaluate(self, eval_dataset=None, *args, **kwargs):
        passes.append(("evaluate", _ids(eval_dataset if eval_dataset is not None else self.eval_dataset)))
        return real_evaluate(self, eval_dataset, *args, **kwargs)

    def predict(self, test_dataset, *args, **kwargs):
        passes.append(("predict", _ids(test_dataset)))
        return real_predict(self, test_dataset, *args, **kwargs)

    config = hard_config(hard_data, tmp_path_factory.mktemp("runs"), batch_size=8, epochs=3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transformers.Trainer, "evaluate", evaluate)
        patch.setattr(transformers.Trainer, "predict", predict)
        results = ab.train(config)
    tokenizer = ab.load_tokenizer("smoke")
    splits = ab.load_agnews(config)
    tokenized = ab.tokenize_dataset(splits, tokenizer, MAX_LENGTH)
    return {"config": config, "results": results, "passes": passes, "splits": splits, "tokenized": tokenized,
            "tokenizer": tokenizer}


def _ids(rows) -> list:
    return sorted(tuple(ids) for ids in rows["input_ids"])


# --- splits -------------------------------------------------------------------------------------

def test_splits_keep_each_class_share_and_never_train_on_a_test_text(hard_data):
    # Real use: a student's own data is skewed; a stratified split must keep a 5 % class in every split.
    splits = ab.load_agnews(hard_data, validation_size=64, seed=7)
    pool = {text for text in ab.load_agnews(hard_data, validation_size=64, seed=8)["train"]["text"]}
    pool |= set(ab.load_agnews(hard_data, validation_size=64, seed=8)["validation"]["text"])
    assert {name: len(rows) for name, rows in splits.items()} == {"train": 336, "validation": 64, "test": 200}
    assert set(splits["validation"]["text"]) <= pool and not set(splits["test"]["text"]) & pool
    for name, rows in splits.items():
        counts = np.bincount(rows["label"], minlength=4)
        expected = np.array(list(HARD_SHARES.values())) * len(rows)
        assert np.all(np.abs(counts - expected) <= 1), (name, counts)  # stratified: within one row per class
    assert not set(splits["train"]["text"]) & set(splits["validation"]["text"])


# --- identity -----------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", ["colab", "cpu", "smoke"])
def test_identity_and_index_treat_lr_none_as_the_family_default_of_every_preset(preset, hard_run):
    # Real use: most students never set lr; the family default must be recorded, not "null".
    left_default = replace(ab.RunConfig.from_preset(preset), lr=None).validated()
    default = ab.notebook.default_learning_rate(left_default.model)
    explicit = replace(left_default, lr=default)
    assert left_default.learning_rate == default
    assert left_default.identity == explicit.identity and left_default.resolved_run_name == explicit.resolved_run_name
    assert index_row(left_default, hard_run["results"])["lr"] == default


# --- metrics ------------------------------------------------------------------------------------

def test_macro_f1_is_the_mean_over_all_four_classes_never_the_weighted_mean(hard_data):
    # Real use: unbalanced classes, where a model that always says "World" must not look good.
    labels = np.asarray(ab.load_agnews(hard_data, validation_size=64)["test"]["label"])  # 120/50/20/10
    always_world = np.zeros((len(labels), 4))
    always_world[:, 0] = 1.0
    # World: precision 0.6, recall 1 -> F1 0.75; the other three 0; the mean over four: 0.1875 (weighted: 0.45).
    assert ab.compute_metrics((always_world, labels)) == {"accuracy": 0.6, "macro_f1": 0.1875}
    report = ab.metrics.classification_report(labels, always_world.argmax(axis=1))
    assert report["macro_f1"] == 0.1875
    assert [row["support"] for row in report["per_class"].values()] == [120, 50, 20, 10]
    assert report["confusion_matrix"] == [[120, 0, 0, 0], [50, 0, 0, 0], [20, 0, 0, 0], [10, 0, 0, 0]]


def test_macro_f1_counts_a_class_absent_from_both_predictions_and_labels():
    # Real use: a small validation split can lack a class altogether (a 5 % class, 20 rows).
    predictions, references = [0, 0, 1], [0, 1, 1]  # classes 2 and 3 in neither list
    # Classes 0 and 1: F1 2/3 each; classes 2 and 3: 0 (zero_division=0); the mean over four: 1/3.
    logits = np.eye(4)[predictions]
    assert ab.compute_metrics((logits, np.asarray(references)))["macro_f1"] == pytest.approx(1 / 3, abs=1e-12)


# --- scoring ------------------------------------------------------------------------------------

def test_score_returns_logits_in_the_rows_order(hard_run):
    # Real use: texts of very different lengths, which score sorts by length and must put back.
    loaded = load_run(hard_run["results"]["run_dir"])
    model, tokenizer = loaded.model, loaded.tokenizer
    rows = hard_run["tokenized"]["test"].select(range(48))
    lengths = rows["length"]
    assert lengths != sorted(lengths)  # the fixture's order is not already the sorted one
    batched = score(model, tokenizer, rows, batch_size=16).predictions
    one_at_a_time = np.concatenate([score(model, tokenizer, rows.select([i]), batch_size=1).predictions
                                    for i in range(len(rows))])
    np.testing.assert_allclose(batched, one_at_a_time, atol=1e-5)


def test_texts_are_cut_to_the_run_max_length_in_training_and_in_predict(hard_run):
    # Real use: a third of the texts are longer than max_length (AG News has texts over 150 tokens).
    tokenizer = hard_run["tokenizer"]
    for rows in hard_run["tokenized"].values():
        assert max(rows["length"]) == MAX_LENGTH and rows["length"] == [len(ids) for ids in rows["input_ids"]]
        assert all(ids[-1] == tokenizer.sep_token_id for ids in rows["input_ids"])  # cut, then [SEP] kept
    for text, ids in zip(hard_run["splits"]["test"]["text"], hard_run["tokenized"]["test"]["input_ids"]):
        assert ids[:-1] == tokenizer(text)["input_ids"][:len(ids) - 1]  # the start kept: AG News's title
    texts = [text for text in hard_run["splits"]["test"]["text"] if len(tokenizer(text)["input_ids"]) > 100][:8]
    loaded = load_run(hard_run["results"]["run_dir"])
    model = loaded.model
    expected = softmax(score(model, tokenizer, tokenize_texts(texts, tokenizer, MAX_LENGTH)).predictions)
    uncut = softmax(score(model, tokenizer, tokenize_texts(texts, tokenizer, 128)).predictions)
    predicted = ab.predict(texts, hard_run["results"]["run_dir"])
    got = np.array([list(row["probabilities"].values()) for row in predicted])
    np.testing.assert_array_equal(got, expected)
    assert not np.allclose(got, uncut, atol=1e-6)  # the cut matters for these texts


# --- precision on a GPU (faked: these branches never run on a CPU machine) ----------------------

@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_score_builds_the_16_bit_arguments_it_is_given_on_a_gpu(precision, hard_run, bf16_gpu, monkeypatch):
    # Real use: a T4 (fp16) or an A100 (bf16); scoring in fp32 there would be slow and differ from training.
    arguments = prediction_arguments(32, precision, "cuda")
    assert (arguments.fp16, arguments.bf16) == (precision == "fp16", precision == "bf16")
    assert (arguments.use_cpu, arguments.dataloader_pin_memory, arguments.per_device_eval_batch_size) == (
        False, True, 32)
    asked = []

    def spy(batch_size, precision="fp32", device="cpu"):
        asked.append((batch_size, precision, device))
        return prediction_arguments(batch_size)  # what can run on this CPU machine

    monkeypatch.setattr(importlib.import_module("agnews_bert.scoring"), "prediction_arguments", spy)
    loaded = load_run(hard_run["results"]["run_dir"])
    model, tokenizer = loaded.model, loaded.tokenizer
    output = score(model, tokenizer, hard_run["tokenized"]["test"].select(range(8)), batch_size=32,
                   precision=precision, device="cuda")
    assert asked == [(32, precision, "cuda")] and output.predictions.shape == (8, 4)


def test_the_test_pass_scores_in_the_trainers_precision(hard_run, monkeypatch, tmp_path):
    # Real use: on a T4 the Trainer trains in fp16, and the test pass must score in fp16 too.
    from agnews_bert.scoring import score_with

    loaded = load_run(hard_run["results"]["run_dir"])
    model, tokenizer = loaded.model, loaded.tokenizer
    trainer = ab.training.build_trainer(hard_run["config"], model, tokenizer, hard_run["tokenized"], tmp_path, hardware=T4)
    asked = []
    monkeypatch.setattr(importlib.import_module("agnews_bert.scoring"), "prediction_arguments",
                        lambda batch_size, precision="fp32", device="cpu": asked.append((batch_size, precision))
                        or prediction_arguments(batch_size))
    score_with(trainer, hard_run["tokenized"]["test"].select(range(8)), "test")
    assert asked == [(4 * 8, "fp16")]  # the run's eval batch, the T4's precision


def test_a_run_is_rescored_in_its_training_precision_on_a_gpu(hard_run):
    # Real use: `agnews-bert evaluate` on the Colab T4 the run trained on.
    from agnews_bert.scoring import SavedRun

    loaded = load_run(hard_run["results"]["run_dir"])
    auto = replace(loaded.config, precision="auto")
    assert replace(loaded, config=auto, hardware=T4).precision == "fp16"
    assert replace(loaded, config=auto).precision == "fp32"  # this CPU machine
    assert isinstance(loaded, SavedRun) and loaded.precision == "fp32"


@pytest.mark.parametrize("hardware, precision, attention, tf32", [
    (T4, "fp16", "sdpa", False),
    (A100, "bf16", "sdpa", True),  # no flash_attn package
    (H100, "bf16", "flash_attention_2", True),
    (CPU, "fp32", "sdpa", False),
])
def test_training_arguments_carry_the_precision_chosen_for_each_gpu(hardware, precision, attention, tf32,
                                                                     tmp_path, bf16_gpu, monkeypatch):
    # Real use: Colab's T4, a rented A100 or H100; only the CPU branch runs on this machine.
    turned_on = []
    monkeypatch.setattr("agnews_bert._compat.enable_tf32_matmuls", lambda: turned_on.append(True))
    config = ab.RunConfig.from_preset("smoke", precision="auto", output_dir=str(tmp_path))
    assert ab.hardware.choose_precision("auto", hardware) == precision
    assert ab.hardware.choose_attention("auto", hardware) == attention
    arguments = ab.build_training_args(config, tmp_path / "run", 416, hardware)
    assert (arguments.fp16, arguments.bf16) == (precision == "fp16", precision == "bf16")
    assert (arguments.use_cpu, arguments.dataloader_pin_memory) == (hardware.device == "cpu",
                                                                    hardware.device == "cuda")
    assert bool(turned_on) == tf32


@pytest.mark.parametrize("preset, hardware, minutes", [
    # colab on a T4: train 6*111e6*55*12000*2/8e12 = 109.9 s + 0.03 s * 750 steps = 132.4 s;
    # scoring 2*111e6*55*(2000*2+7600)/8e12 = 17.7 s; plus 1 minute loading and saving.
    ("colab", T4, {"train": 2.2, "total": 3.5}),
    # colab on 2 CPU cores (3e10 FLOP/s): 29,304 s of training, 4,721 s of scoring.
    ("colab", CPU, {"train": 488.4, "total": 568.1}),
    # cpu (BERT-mini, 3.2e6 parameters, 2000 rows): 140.8 s training, 23.5 s scoring.
    ("cpu", CPU, {"train": 2.3, "total": 3.7}),
    # cpu on a T4: 0.5 s + 0.03 s * 125 steps of training; 0.1 s scoring.
    ("cpu", T4, {"train": 0.1, "total": 1.1}),
])
def test_run_length_estimate_is_pinned_for_the_t4_and_cpu_tables(preset, hardware, minutes):
    # Real use: the form's estimate decides whether checkpoints are mirrored to Drive; it must not drift.
    assert widgets.estimated_minutes(ab.RunConfig.from_preset(preset), hardware) == minutes


# --- checkpoints and resume -----------------------------------------------------------------------

def _fake_checkpoint(folder: Path, step: int) -> Path:
    from safetensors.numpy import save_file

    checkpoint = folder / f"checkpoint-{step}"
    checkpoint.mkdir(parents=True)
    (checkpoint / "trainer_state.json").write_text(json.dumps({"global_step": step}), encoding="utf-8")
    save_file({"weight": np.zeros(2, dtype=np.float32)}, str(checkpoint / "model.safetensors"))
    return checkpoint


def test_the_newest_checkpoint_is_the_highest_step_not_the_last_name(tmp_path):
    # Real use: long runs pass step 99, 999; as text, "checkpoint-99" sorts after "checkpoint-1000".
    for step in (42, 99, 126, 1000):
        _fake_checkpoint(tmp_path / "local", step)
        copy = _fake_checkpoint(tmp_path / "mirror", step)
        (copy / MIRROR_MARKER).write_text(f"{step}\n", encoding="utf-8")
    assert latest_checkpoint(tmp_path / "local").name == "checkpoint-1000"
    assert restore_from_mirror(tmp_path / "mirror", tmp_path / "restored").name == "checkpoint-1000"


class SimulatedCrash(RuntimeError):
    pass


def test_a_resumed_run_continues_from_its_newest_checkpoint_and_evaluates_each_epoch_once(
        hard_data, tmp_path, monkeypatch):
    # Real use: a Colab disconnect late in a run, with checkpoints 84 and 168 (three digits) on disk.
    config = hard_config(hard_data, tmp_path, batch_size=4, epochs=3)  # 84 steps an epoch
    real_step = transformers.Trainer.training_step

    def crash_at_step_200(self, *args, **kwargs):
        if self.state.global_step == 200:
            raise SimulatedCrash("the runtime went away")
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(transformers.Trainer, "training_step", crash_at_step_200)
    with pytest.raises(SimulatedCrash):
        ab.train(config)
    checkpoints = Path(ab.lab.folders.run_dir_for(config), "checkpoints")
    assert sorted(path.name for path in checkpoints.iterdir()) == ["checkpoint-168", "checkpoint-84"]
    steps_after_resuming = []

    def counting_step(self, *args, **kwargs):
        steps_after_resuming.append(self.state.global_step)
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(transformers.Trainer, "training_step", counting_step)
    results = ab.train(config)
    assert results["resumed_from"] == "checkpoint-168"
    assert steps_after_resuming == list(range(168, 252))  # continued, not started over
    assert [row["epoch"] for row in results["log_history"] if "eval_macro_f1" in row] == [1.0, 2.0, 3.0]
    assert max(row.get("step", 0) for row in results["log_history"]) == 252


# --- training: the epoch kept, and when the test split is seen --------------------------------------

def test_the_epoch_kept_is_the_best_by_validation_macro_f1(hard_run):
    # Real use: unbalanced data, where the best epoch by accuracy and by macro-F1 can differ.
    results = hard_run["results"]
    epoch_scores = [row["eval_macro_f1"] for row in results["log_history"] if "eval_macro_f1" in row]
    assert len(epoch_scores) == 3
    assert results["validation"]["macro_f1"] == pytest.approx(max(epoch_scores), abs=1e-9)
    arguments = ab.build_training_args(hard_run["config"], Path(results["run_dir"]), 336, CPU)
    assert (arguments.metric_for_best_model, arguments.greater_is_better, arguments.load_best_model_at_end) == (
        "macro_f1", True, True)


def test_the_test_split_is_never_scored_before_the_final_pass(hard_run):
    # Real use: a test set that differs in size and rows from validation; picking on it would flatter the model.
    validation, test = _ids(hard_run["tokenized"]["validation"]), _ids(hard_run["tokenized"]["test"])
    passes = hard_run["passes"]
    first_test = next(index for index, (_, ids) in enumerate(passes) if ids == test)
    assert [kind for kind, _ in passes[:first_test]] == ["evaluate"] * 3  # one per epoch, during training
    assert all(ids == validation for _, ids in passes[:first_test])
    assert [ids == test for _, ids in passes].count(True) == 1


# --- the OOM retry and what is recorded ------------------------------------------------------------

def test_two_out_of_memory_halvings_keep_the_effective_batch_and_record_what_ran(hard_data, tmp_path, monkeypatch,
                                                                                 capsys):
    # Real use: a long-text batch that fits only at a quarter of the size asked for (32 -> 16 -> 8).
    monkeypatch.setattr(transformers.Trainer, "training_step", out_of_memory_above(8))
    config = hard_config(hard_data, tmp_path, batch_size=32, epochs=2)
    results = ab.train(config)
    messages = capsys.readouterr().out.splitlines()
    retries = [message for message in messages if message.startswith("Out of GPU memory")]
    assert [message.split(": ")[1].split(" (")[0] for message in retries] == [
        "retrying with batch_size=16 and gradient_accumulation_steps=2",
        "retrying with batch_size=8 and gradient_accumulation_steps=4"]
    assert results["batch"] == {"per_device": 8, "devices": 1, "gradient_accumulation_steps": 4}
    assert max(row.get("step", 0) for row in results["log_history"]) == 2 * 11  # ceil(336 / 32) steps an epoch
    saved = json.loads(Path(results["run_dir"], "config.json").read_text())
    assert (saved["batch_size"], saved["gradient_accumulation_steps"], saved["eval_batch_size"]) == (8, 4, 32)
    row = read_index(tmp_path)[0]
    assert (row["batch_size"], row["gradient_accumulation_steps"], row["run_name"]) == (8, 4, results["run_name"])


def test_the_runs_index_row_equals_what_ran_lr_included(hard_run):
    # Real use: lr left at the family default, as most students leave it.
    results, config = hard_run["results"], hard_run["config"]
    assert config.lr is None
    row = next(row for row in read_index(config.output_dir) if row["run_name"] == results["run_name"])
    trained_lrs = [entry["learning_rate"] for entry in results["log_history"] if "learning_rate" in entry]
    assert row["lr"] == ab.notebook.default_learning_rate("smoke") == 3e-3
    assert 0.5 * row["lr"] < max(trained_lrs) <= row["lr"]  # the scheduler peaked at the recorded lr
    assert (row["train_rows"], row["validation_rows"], row["test_rows"]) == (336, 64, 200)
    assert (row["batch_size"], row["gradient_accumulation_steps"], row["epochs"], row["max_length"]) == (8, 1, 3, 64)
    assert (row["precision"], row["device"]) == ("fp32", "CPU")
    assert (row["test_macro_f1"], row["validation_macro_f1"]) == (results["test"]["macro_f1"],
                                                                  results["validation"]["macro_f1"])
    assert row["test_macro_f1"] != row["test_accuracy"]  # unbalanced: the two part ways
