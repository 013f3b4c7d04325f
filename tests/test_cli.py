import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agnews_bert import cli
from agnews_bert.cli import main
from agnews_bert.errors import TrainingInterrupted


def run_cli(*arguments, stdin=None, cwd=None):
    """Run `python -m agnews_bert` in a fresh process, as a user would."""
    environment = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "agnews_bert", *arguments], capture_output=True, text=True,
                          input=stdin, cwd=cwd, env=environment, timeout=600)


def test_train_smoke_end_to_end_then_predict_and_evaluate(tmp_path):
    trained = run_cli("train", "--preset", "smoke", "--output-dir", str(tmp_path), "--run-name", "cli-run")
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "Test accuracy" in trained.stdout
    results = json.loads((tmp_path / "cli-run" / "results.json").read_text())
    assert results["test"]["accuracy"] >= 0.9

    predicted = run_cli("predict", str(tmp_path / "cli-run"), "The striker scored twice", "Shares fell 3%")
    lines = [json.loads(line) for line in predicted.stdout.splitlines()]
    assert predicted.returncode == 0 and [row["text"] for row in lines] == ["The striker scored twice", "Shares fell 3%"]

    piped = run_cli("predict", str(tmp_path / "cli-run"), stdin="first text\n\nsecond text\n")
    assert [json.loads(line)["text"] for line in piped.stdout.splitlines()] == ["first text", "second text"]

    evaluated = run_cli("evaluate", str(tmp_path / "cli-run"), "--json")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    rescored = json.loads(evaluated.stdout)  # the same model, data and machine: the same numbers
    assert (rescored["accuracy"], rescored["macro_f1"]) == (results["test"]["accuracy"], results["test"]["macro_f1"])

    listed = run_cli("runs", "--output-dir", str(tmp_path))
    assert "cli-run" in listed.stdout


def test_debug_shows_the_traceback(tmp_path):
    result = run_cli("train", "--preset", "smoke", "--lr", "-1", "--debug", "--output-dir", str(tmp_path))
    assert result.returncode == 1 and "Traceback" in result.stderr and "AgNewsError" in result.stderr


def test_console_script_and_module_share_the_parser():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("train", "evaluate", "predict", "runs"):
        assert command in result.stdout
    script = subprocess.run([shutil.which("agnews-bert"), "--help"], capture_output=True, text=True, timeout=300)
    assert script.returncode == 0 and script.stdout == result.stdout.replace("__main__.py", "agnews-bert")


def _folder_fingerprint(folder: Path) -> dict:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished one-epoch smoke run of this module's own (some cases pass --overwrite)."""
    output_dir = tmp_path_factory.mktemp("finished")
    arguments = ["train", "--preset", "smoke", "--epochs", "1", "--output-dir", str(output_dir), "--run-name", "done"]
    assert main(arguments) == 0
    return output_dir / "done"


@pytest.fixture(scope="module")
def tokenizer_only_folder(tmp_path_factory):
    """A local "model" folder with a tokenizer and no model: it fails only when the model is loaded."""
    from agnews_bert import load_tokenizer

    folder = tmp_path_factory.mktemp("tokenizer_only")
    load_tokenizer("smoke").save_pretrained(folder)
    return folder


@pytest.mark.parametrize(
    "extra, fragment",
    [
        ([], "--overwrite"),  # the finished-run check itself; the others pass it with --overwrite
        (["--overwrite", "--lr", "0"], "--lr 0"),
        (["--overwrite", "--data", "missing.csv"], "--data missing.csv does not exist"),
        (["--overwrite", "--max-length", "4096"], "above smoke's limit of 128"),
        (["--overwrite", "--train-size", "5000"], "asks for 5000 rows"),
        (["--overwrite", "--model", "<tokenizer_only>"], "has no config.json"),
    ],
    ids=["finished", "lr", "data", "max-length", "train-size", "model"],
)
def test_bad_input_leaves_a_finished_run_untouched(finished_run, tokenizer_only_folder, capsys, extra, fragment):
    before = _folder_fingerprint(finished_run.parent)
    extra = [str(tokenizer_only_folder) if argument == "<tokenizer_only>" else argument for argument in extra]
    code = main(["train", "--preset", "smoke", "--epochs", "1", "--output-dir", str(finished_run.parent),
                 "--run-name", finished_run.name, *extra])
    assert code == 2
    assert fragment in capsys.readouterr().err.splitlines()[-1]
    assert _folder_fingerprint(finished_run.parent) == before


def test_train_with_a_local_checkpoint_and_original_format_csv(tmp_path):
    import transformers

    from agnews_bert import load_tokenizer

    checkpoint = tmp_path / "tiny-bert"
    tokenizer = load_tokenizer("smoke")
    config = transformers.BertConfig(vocab_size=len(tokenizer), hidden_size=64, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=128, max_position_embeddings=128)
    transformers.BertModel(config).save_pretrained(checkpoint)
    tokenizer.save_pretrained(checkpoint)
    smoke_dir = Path(__file__).parents[1] / "agnews_bert" / "resources" / "smoke"
    result = run_cli("train", "--model", str(checkpoint), "--data", str(smoke_dir / "train.csv"),
                     "--test-data", str(smoke_dir / "test.csv"), "--validation-size", "64", "--train-size", "400",
                     "--epochs", "8", "--lr", "2e-3", "--max-length", "64", "--output-dir", str(tmp_path / "runs"),
                     "--run-name", "local")
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads((tmp_path / "runs" / "local" / "results.json").read_text())
    assert results["model"] == str(checkpoint)
    assert results["data"]["train"]["rows"] == 400 and results["test"]["rows"] == 160
    assert results["test"]["accuracy"] >= 0.9  # four balanced classes: chance is 0.25
    saved = json.loads((tmp_path / "runs" / "local" / "model" / "config.json").read_text())
    assert saved["architectures"] == ["BertForSequenceClassification"] and saved["id2label"]["2"] == "Business"


def test_evaluate_refuses_a_zero_batch_size(smoke_run, capsys):
    assert main(["evaluate", smoke_run["run_dir"], "--batch-size", "0"]) == 2
    assert "--batch-size 0 must be a whole number of at least 1" in capsys.readouterr().err


def test_overwrite_replaces_the_run_and_its_index_row(tmp_path):
    from agnews_bert.lab.folders import read_index

    arguments = ["train", "--preset", "smoke", "--epochs", "1", "--output-dir", str(tmp_path), "--run-name", "again"]
    assert main(arguments) == 0 and main([*arguments, "--overwrite"]) == 0
    assert [row["run_name"] for row in read_index(tmp_path)] == ["again"]


def test_a_damaged_index_line_is_skipped(tmp_path, capsys):
    (tmp_path / "runs.jsonl").write_text('{"run_name": "a", "test_macro_f1": 0.5}\n{"run_na\n', encoding="utf-8")
    with pytest.warns(UserWarning, match="line 2 is damaged"):
        assert main(["runs", "--output-dir", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "1 finished run(s)" in output and output.splitlines()[1].split() == ["a", "0.5000"]


def _train_options() -> dict:
    """`train`'s argparse actions, by dest."""
    from agnews_bert.cli import build_parser

    commands = next(action for action in build_parser()._actions if action.dest == "command")
    return {action.dest: action for action in commands.choices["train"]._actions}


def test_every_run_config_field_has_a_train_flag_with_its_help():
    from dataclasses import fields

    from agnews_bert import RunConfig
    from agnews_bert.config import ATTENTIONS, METHODS, PRECISIONS

    options = _train_options()
    for spec in fields(RunConfig):
        assert spec.name in options, f"RunConfig.{spec.name} has no flag"
        assert options[spec.name].option_strings[0] == "--" + spec.name.replace("_", "-")
        assert options[spec.name].help.replace("%%", "%") == spec.metadata["help"]
    for name in ("warmup_ratio", "weight_decay", "gradient_accumulation_steps", "eval_batch_size", "attention",
                 "group_by_length", "mirror_checkpoints"):  # the seven the hand-written parser lacked
        assert name in options
    assert (options["method"].choices, options["precision"].choices, options["attention"].choices) == (
        METHODS, PRECISIONS, ATTENTIONS)
    assert options["resume"].option_strings == ["--resume", "--no-resume"]
    assert options["overwrite"].option_strings == ["--overwrite", "--no-overwrite"]


def test_train_help_lists_every_flag():
    result = run_cli("train", "--help")
    assert result.returncode == 0, result.stderr[-2000:]  # a % in a help text once crashed it
    assert "--gradient-accumulation-steps" in result.stdout and "a stratified 10%" in result.stdout


def test_the_flags_parse_types_choices_switches_and_none():
    from agnews_bert.cli import build_parser, config_from_flags

    arguments = build_parser().parse_args(["train", "--preset", "smoke", "--train-size", "0.5", "--lr", "None",
                                           "--no-resume", "--no-group-by-length", "--attention", "eager",
                                           "--eval-batch-size", "12"])
    given = {name: value for name, value in vars(arguments).items() if name not in ("command", "debug", "handler")}
    assert given == {"preset": "smoke", "train_size": 0.5, "lr": None, "resume": False, "group_by_length": False,
                     "attention": "eager", "eval_batch_size": 12}
    config = config_from_flags(given)
    assert (config.lr, config.learning_rate, config.per_device_eval_batch_size) == (None, 3e-3, 12)


def form_configs():
    """Configs as the notebook's form makes them: most fields away from their preset, None where that is a choice."""
    from dataclasses import replace

    from agnews_bert import RunConfig

    smoke = RunConfig.from_preset("smoke", epochs=1, lr=5e-3, batch_size=16, eval_batch_size=48,
                                  gradient_accumulation_steps=2, max_length=48, warmup_ratio=0.2, weight_decay=0.05,
                                  seed=7, attention="eager", group_by_length=False, mirror_checkpoints=False,
                                  early_stopping_patience=3, train_size=200, validation_size=0.15, test_size=100,
                                  run_name="from-the-form", method="lora", lora_r=4, lora_alpha=8, lora_dropout=0.0)
    own_data = replace(RunConfig.from_preset("colab"), data="rows.csv", train_size=None, validation_size=300,
                       lr=None, test_data="test.csv", overwrite=True, resume=False, trust_remote_code=True)
    cpu = replace(RunConfig.from_preset("cpu"), lr=None, test_size=None, precision="auto", checkpoint_dir="/tmp/c")
    return {"smoke": smoke, "own-data": own_data, "cpu": cpu}


@pytest.mark.parametrize("name", ["smoke", "own-data", "cpu"])
def test_a_form_config_round_trips_through_its_flags(name):
    from agnews_bert.cli import build_parser, config_from_flags, flags_for

    config = form_configs()[name]
    arguments = build_parser().parse_args(["train", *flags_for(config)])
    given = {key: value for key, value in vars(arguments).items() if key not in ("command", "debug", "handler")}
    assert config_from_flags(given) == config
    assert len(given) < 26  # only what differs from the preset is printed


def test_flags_of_a_run_folder_repeat_the_run_through_the_console_script(tmp_path):
    from agnews_bert import RunConfig

    config = RunConfig.from_preset("smoke", epochs=2, batch_size=16, eval_batch_size=40, warmup_ratio=0.2,
                                   weight_decay=0.05, gradient_accumulation_steps=2, seed=3, attention="eager",
                                   group_by_length=False, mirror_checkpoints=False, train_size=240,
                                   validation_size=0.2, output_dir=str(tmp_path / "again"), run_name="from-the-form")
    form_run = tmp_path / "form-run"
    form_run.mkdir()
    (form_run / "config.json").write_text(config.to_json(), encoding="utf-8")
    script = shutil.which("agnews-bert")
    environment = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", OMP_NUM_THREADS="1")
    printed = subprocess.run([script, "flags", str(form_run / "config.json")], capture_output=True, text=True, env=environment,
                             timeout=300)
    assert printed.returncode == 0, printed.stderr[-2000:]
    assert "--warmup-ratio 0.2" in printed.stdout and "--no-group-by-length" in printed.stdout
    trained = subprocess.run([script, "train", *printed.stdout.split()], capture_output=True, text=True,
                             env=environment, timeout=600)
    assert trained.returncode == 0, trained.stderr[-2000:]
    repeated = (tmp_path / "again" / "from-the-form" / "config.json").read_text(encoding="utf-8")
    assert RunConfig.from_json(repeated) == config


@pytest.mark.parametrize("stop, said", [
    (KeyboardInterrupt(), "agnews-bert: stopped; rerun the same command to continue from the last checkpoint"),
    (TrainingInterrupted("stopped after saving checkpoint-8; rerun to resume"),
     "agnews-bert: stopped after saving checkpoint-8; rerun to resume")])
def test_a_stopped_command_exits_130_and_says_how_to_continue(monkeypatch, capsys, stop, said):
    def stopped(arguments):
        raise stop

    monkeypatch.setattr(cli, "_flags", stopped)  # the parser binds the handler when it is built
    assert main(["flags", "runs/any"]) == 130
    assert capsys.readouterr().err.strip() == said


def test_flags_of_a_missing_run_say_what_to_pass(tmp_path, capsys):
    assert main(["flags", str(tmp_path / "nowhere")]) == 2
    assert "nowhere/config.json does not exist; is this a finished run folder?" in capsys.readouterr().err
