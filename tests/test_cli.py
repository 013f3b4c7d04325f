import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agnews_bert.cli import main


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

    evaluated = run_cli("evaluate", str(tmp_path / "cli-run"))
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert json.loads(evaluated.stdout)["accuracy"] == pytest.approx(results["test"]["accuracy"], abs=0.02)

    listed = run_cli("runs", "--output-dir", str(tmp_path))
    assert "cli-run" in listed.stdout


@pytest.mark.parametrize(
    "arguments, fragment",
    [
        (["train", "--preset", "smoke", "--lr", "-1"], "lr=-1.0 is out of range"),
        (["train", "--preset", "smoke", "--epochs", "0"], "epochs=0.0 is out of range"),
        (["train", "--preset", "smoke", "--batch-size", "0"], "batch_size=0 is out of range"),
        (["train", "--preset", "smoke", "--batch-size", "many"], "'many' is not a whole number"),
        (["train", "--preset", "smoke", "--max-length", "9000"], "max_length=9000 is out of range"),
        (["train", "--preset", "smoke", "--max-length", "512"], "max_length=512 is above smoke's limit of 128"),
        (["train", "--preset", "smoke", "--data", "missing.csv"], "does not exist"),
        (["train", "--preset", "smoke", "--run-name", "../outside"], "is not allowed"),
        (["train", "--preset", "smoke", "--data", "fancyzhx/ag_news"], "cannot reach the Hugging Face Hub"),
        (["train", "--preset", "smoke", "--model", "bert-base-uncased"], "Hugging Face Hub cannot be reached"),
        (["predict", "no-such-run", "text"], "holds no saved model"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path, capsys, arguments, fragment):
    with pytest.raises(SystemExit) as exit_info:
        code = main([*arguments, "--output-dir", str(tmp_path)] if arguments[0] == "train" else arguments)
        raise SystemExit(code)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert fragment in error
    assert "Traceback" not in error
    assert len([line for line in error.splitlines() if line.startswith("agnews-bert") and ": error: " in line]) == 1
    assert not any(tmp_path.iterdir()) or not any(Path(tmp_path).rglob("results.json"))


def test_bad_csv_columns_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("headline,topic\nhello,1\n", encoding="utf-8")
    assert main(["train", "--preset", "smoke", "--data", str(bad), "--output-dir", str(tmp_path / "out")]) == 2
    assert "expected the original AG News format" in capsys.readouterr().err


def test_debug_shows_the_traceback(tmp_path):
    result = run_cli("train", "--preset", "smoke", "--lr", "-1", "--debug", "--output-dir", str(tmp_path))
    assert result.returncode != 0 and "Traceback" in result.stderr and "AgNewsError" in result.stderr


def test_console_script_and_module_share_the_parser():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("train", "evaluate", "predict", "runs"):
        assert command in result.stdout


def _folder_fingerprint(folder: Path) -> dict:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize(
    "extra",
    [["--lr", "0"], ["--data", "missing.csv"], ["--max-length", "4096"], ["--train-size", "5000"], []],
)
def test_bad_input_leaves_a_finished_run_untouched(smoke_run, capsys, extra):
    run_dir = Path(smoke_run["run_dir"])
    before = _folder_fingerprint(run_dir.parent)
    code = main(["train", "--preset", "smoke", "--output-dir", str(run_dir.parent), "--run-name", run_dir.name, *extra])
    assert code == 2
    assert "agnews-bert: error:" in capsys.readouterr().err
    assert _folder_fingerprint(run_dir.parent) == before


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
    assert results["test"]["accuracy"] > 0.5  # four balanced classes: chance is 0.25
    saved = json.loads((tmp_path / "runs" / "local" / "model" / "config.json").read_text())
    assert saved["architectures"] == ["BertForSequenceClassification"] and saved["id2label"]["2"] == "Business"


def test_evaluate_refuses_a_zero_batch_size(smoke_run, capsys):
    assert main(["evaluate", smoke_run["run_dir"], "--batch-size", "0"]) == 2
    assert "batch_size=0 must be a whole number of at least 1" in capsys.readouterr().err


def test_overwrite_replaces_the_run_and_its_index_row(tmp_path):
    from agnews_bert.runs import read_index

    arguments = ["train", "--preset", "smoke", "--epochs", "1", "--output-dir", str(tmp_path), "--run-name", "again"]
    assert main(arguments) == 0 and main([*arguments, "--overwrite"]) == 0
    assert [row["run_name"] for row in read_index(tmp_path)] == ["again"]


def test_a_damaged_index_line_is_skipped(tmp_path, capsys):
    (tmp_path / "runs.jsonl").write_text('{"run_name": "a", "test_macro_f1": 0.5}\n{"run_na\n', encoding="utf-8")
    with pytest.warns(UserWarning, match="line 2 is damaged"):
        assert main(["runs", "--output-dir", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "1 finished run(s)" in output and output.splitlines()[1].split() == ["a", "0.5000"]
