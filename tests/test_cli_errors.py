"""Bad input through the installed `agnews-bert` console script: exit 2, one line on stderr, nothing on stdout.

Each case is one bad input, run in its own process as a student would type it,
and its fragment names the check it must reach (a flag, a field or the file at
fault), so a case cannot pass by stopping at an earlier, unrelated check. A
finished run folder is used only where a finished run is the point (predict,
evaluate, and refusing to overwrite one).

The Hub cases run with a Hugging Face cache that holds the model and with
HF_HUB_OFFLINE=0 in the calling environment: `offline_environment` must make them
independent of both.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import agnews_bert as ab

CONSOLE_SCRIPT = shutil.which("agnews-bert") or str(Path(sys.executable).parent / "agnews-bert")
HF_VARIABLES = ("HF_", "HUGGINGFACE_", "TRANSFORMERS_")

# name: (arguments, fragment of the one stderr line). Placeholders in <> are filled by `inputs`.
CASES = {
    # argparse: the command line itself
    "no-command": ([], "arguments are required: command"),
    "unknown-command": (["fly"], "invalid choice: 'fly'"),
    "unknown-flag": (["train", "--learning-rate", "1e-3"], "unrecognized arguments: --learning-rate"),
    "batch-size-not-a-number": (["train", "--batch-size", "many"], "--batch-size: 'many'"),
    "epochs-not-a-number": (["train", "--epochs", "two"], "--epochs: 'two'"),
    "train-size-not-a-number": (["train", "--train-size", "lots"], "--train-size: 'lots'"),
    "unknown-precision": (["train", "--precision", "fp8"], "--precision: invalid choice: 'fp8'"),
    "unknown-preset": (["train", "--preset", "gpu"], "--preset: invalid choice: 'gpu'"),
    "predict-batch-size-not-a-number": (["predict", "<run>", "text", "--batch-size", "x"], "--batch-size: 'x'"),
    # RunConfig's checks
    "negative-lr": (["train", "--preset", "smoke", "--lr", "-1", "--output-dir", "<out>"], "--lr -1"),
    "lr-above-1": (["train", "--preset", "smoke", "--lr", "5", "--output-dir", "<out>"], "--lr 5"),
    "zero-epochs": (["train", "--preset", "smoke", "--epochs", "0", "--output-dir", "<out>"], "--epochs 0"),
    "zero-batch-size": (["train", "--preset", "smoke", "--batch-size", "0", "--output-dir", "<out>"], "--batch-size 0"),
    "max-length-out-of-range": (["train", "--preset", "smoke", "--max-length", "9000", "--output-dir", "<out>"],
                                "--max-length 9000"),
    "negative-seed": (["train", "--preset", "smoke", "--seed", "-1", "--output-dir", "<out>"], "--seed -1"),
    "train-size-share-above-1": (["train", "--preset", "smoke", "--train-size", "1.5", "--output-dir", "<out>"],
                                 "--train-size 1.5"),
    "zero-validation-size": (["train", "--preset", "smoke", "--validation-size", "0", "--output-dir", "<out>"],
                             "--validation-size 0"),
    "negative-test-size": (["train", "--preset", "smoke", "--test-size", "-3", "--output-dir", "<out>"],
                           "--test-size -3"),
    "run-name-escapes": (["train", "--preset", "smoke", "--run-name", "../outside", "--output-dir", "<out>"],
                         "--run-name ../outside"),
    "empty-model": (["train", "--preset", "smoke", "--model", "", "--output-dir", "<out>"], "--model"),
    "empty-output-dir": (["train", "--preset", "smoke", "--output-dir", ""], "--output-dir"),
    # the tokenizer's limit
    "max-length-above-the-model-limit": (["train", "--preset", "smoke", "--max-length", "512", "--output-dir", "<out>"],
                                         "above smoke's limit of 128"),
    "model-folder-without-a-tokenizer": (["train", "--preset", "smoke", "--model", "<empty_folder>", "--output-dir",
                                          "<out>"], "tokenizer"),
    # the data
    "missing-data-file": (["train", "--preset", "smoke", "--data", "<inputs>/missing.csv", "--output-dir", "<out>"],
                          "missing.csv' does not exist"),
    "missing-test-data-file": (["train", "--preset", "smoke", "--test-data", "<inputs>/missing-test.csv",
                                "--output-dir", "<out>"], "missing-test.csv' does not exist"),
    "csv-without-text-and-label": (["train", "--preset", "smoke", "--data", "<inputs>/columns.csv", "--output-dir",
                                    "<out>"], "AG News format"),
    "bad-label": (["train", "--preset", "smoke", "--data", "<inputs>/labels.csv", "--output-dir", "<out>"],
                  "label '7'"),
    "empty-data-file": (["train", "--preset", "smoke", "--data", "<inputs>/empty.csv", "--output-dir", "<out>"],
                        "empty.csv is empty"),
    "more-training-rows-than-the-data-has": (["train", "--preset", "smoke", "--train-size", "5000", "--output-dir",
                                              "<out>"], "--train-size 5000 asks for 5000 rows"),
    "hub-data-unreachable": (["train", "--preset", "smoke", "--data", "fancyzhx/ag_news", "--output-dir", "<out>"],
                             "Hugging Face Hub"),
    "hub-model-unreachable": (["train", "--preset", "smoke", "--model", "bert-base-uncased", "--output-dir", "<out>"],
                              "Hugging Face Hub cannot be reached"),
    # a finished run: refusing to train it again is the point
    "finished-run-without-overwrite": (["train", "--preset", "smoke", "--output-dir", "<run_parent>", "--run-name",
                                        "<run_name>"], "--overwrite"),
    # predict and evaluate
    "predict-a-folder-without-a-model": (["predict", "<inputs>", "text"], "holds no saved model"),
    "predict-zero-batch-size": (["predict", "<run>", "text", "--batch-size", "0"], "--batch-size 0"),
    "predict-missing-file": (["predict", "<run>", "--file", "<inputs>/missing.txt"], "--file"),
    "predict-no-texts": (["predict", "<run>"], "no texts"),
    "predict-text-for-a-boolean-in-config-json": (["predict", "<text_boolean_run>", "text"], "trust-remote-code"),
    "evaluate-a-folder-without-a-model": (["evaluate", "<inputs>"], "<inputs>"),
    "evaluate-zero-batch-size": (["evaluate", "<run>", "--batch-size", "0"], "--batch-size 0"),
    "evaluate-missing-data-file": (["evaluate", "<run>", "--data", "<inputs>/missing.csv"],
                                   "missing.csv' does not exist"),
}
HUB_CASES = ("hub-data-unreachable", "hub-model-unreachable")


def offline_environment(base: dict, hf_home: Path) -> dict:
    """`base` without any Hugging Face setting, offline, with an empty cache of its own."""
    kept = {key: value for key, value in base.items() if not key.startswith(HF_VARIABLES)}
    return {**kept, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def cache_holding_bert(folder: Path) -> Path:
    """A Hugging Face home whose hub cache holds a loadable 'bert-base-uncased' tokenizer and config."""
    entry = folder / "hub" / "models--bert-base-uncased"
    commit = "0" * 40
    (entry / "refs").mkdir(parents=True)
    (entry / "refs" / "main").write_text(commit, encoding="utf-8")
    snapshot = entry / "snapshots" / commit
    ab.load_tokenizer("smoke").save_pretrained(snapshot)
    (snapshot / "config.json").write_text(json.dumps({"model_type": "bert", "vocab_size": 100}), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, smoke_run):
    """The files the cases name, keyed by their placeholder."""
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "columns.csv").write_text("headline,topic\nStocks fell,1\n", encoding="utf-8")
    (folder / "labels.csv").write_text("text,label\nStocks fell on Monday,7\nThe striker scored,1\n", encoding="utf-8")
    (folder / "empty.csv").write_text("", encoding="utf-8")
    (folder / "empty_folder").mkdir()
    text_boolean_run = folder / "text_boolean_run"
    shutil.copytree(Path(smoke_run["run_dir"]) / "model", text_boolean_run / "model")
    config = json.loads((Path(smoke_run["run_dir"]) / "config.json").read_text(encoding="utf-8"))
    (text_boolean_run / "config.json").write_text(json.dumps({**config, "trust_remote_code": "false"}))
    run_dir = Path(smoke_run["run_dir"])
    return {"<inputs>": str(folder), "<out>": str(folder / "out"), "<empty_folder>": str(folder / "empty_folder"),
            "<run>": str(run_dir), "<run_parent>": str(run_dir.parent), "<run_name>": run_dir.name,
            "<text_boolean_run>": str(text_boolean_run), "<hf_home>": str(tmp_path_factory.mktemp("hf_home")),
            "<poisoned_hf_home>": str(cache_holding_bert(tmp_path_factory.mktemp("poisoned_hf_home")))}


def fill(text: str, inputs: dict) -> str:
    for placeholder, value in inputs.items():
        text = text.replace(placeholder, value)
    return text


def run_case(name: str, inputs: dict) -> subprocess.CompletedProcess:
    arguments = [fill(argument, inputs) for argument in CASES[name][0]]
    base = dict(os.environ)
    if name in HUB_CASES:  # as on a machine that once ran the default preset, with the Hub switched on
        base.update(HF_HOME=inputs["<poisoned_hf_home>"], HF_HUB_OFFLINE="0",
                    HF_HUB_CACHE=str(Path(inputs["<poisoned_hf_home>"]) / "hub"))
    return subprocess.run([CONSOLE_SCRIPT, *arguments], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env=offline_environment(base, Path(inputs["<hf_home>"])), timeout=300)


@pytest.fixture(scope="module")
def outcomes(inputs):
    """Every case's finished process, run two at a time (each one mostly waits for imports)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(CASES, pool.map(lambda name: run_case(name, inputs), CASES)))


def test_there_are_at_least_25_distinct_cases():
    assert len(CASES) >= 25
    assert len({tuple(arguments) for arguments, _ in CASES.values()}) == len(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_exits_2_with_one_line_on_stderr(name, outcomes, inputs):
    finished = outcomes[name]
    assert finished.returncode == 2, finished.stderr[-2000:]
    assert finished.stdout == ""
    lines = finished.stderr.splitlines()
    assert len(lines) == 1, finished.stderr[-2000:]
    assert re.match(r"agnews-bert( [a-z]+)?: error: ", lines[0])
    assert fill(CASES[name][1], inputs) in lines[0]


def test_the_bad_input_cases_left_no_run_behind(outcomes, inputs):
    assert not Path(inputs["<out>"]).exists() or not any(Path(inputs["<out>"]).rglob("*"))
    assert not any(Path(inputs["<hf_home>"]).rglob("models--*"))  # nothing was downloaded or cached


def test_offline_environment_drops_the_shells_hub_settings(tmp_path):
    shell = {"PATH": "/bin", "HF_HUB_OFFLINE": "0", "HF_HUB_CACHE": "/cache", "TRANSFORMERS_CACHE": "/t",
             "HUGGINGFACE_HUB_CACHE": "/h"}
    assert offline_environment(shell, tmp_path) == {
        "PATH": "/bin", "HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
