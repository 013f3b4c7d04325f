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
import socket
import subprocess
import sys
import time
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
    "zero-patience": (["train", "--preset", "smoke", "--early-stopping-patience", "0", "--output-dir", "<out>"],
                      "(try 2, or --early-stopping-patience None to train every epoch)"),
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
    "model-folder-that-is-empty": (["train", "--preset", "smoke", "--model", "<empty_folder>", "--output-dir",
                                    "<out>"], "has no config.json and no tokenizer files"),
    "model-folder-without-a-tokenizer": (
        ["train", "--preset", "smoke", "--model", "<no_tokenizer>", "--output-dir", "<out>"],
        "agnews-bert: error: model folder '<no_tokenizer>' has no tokenizer files (tokenizer.json, vocab.txt, "
        "vocab.json, *.model); a checkpoint folder needs both: save them with model.save_pretrained(folder) and "
        "tokenizer.save_pretrained(folder)"),
    "model-folder-without-a-config": (["train", "--preset", "smoke", "--model", "<no_config>", "--output-dir",
                                       "<out>"], "model folder '<no_config>' has no config.json;"),
    "tokenizer-of-another-model": (
        ["train", "--preset", "smoke", "--model", "<other_tokenizer>", "--output-dir", "<out>"],
        "the tokenizer of '<other_tokenizer>' has 7 tokens, too few to tell texts apart (a real one has thousands; "
        "the model's embeddings have 1,500 rows); put the model's own tokenizer files in its folder"),
    "local-model-that-does-not-exist": (["train", "--preset", "smoke", "--model", "./my-checkpoint", "--output-dir",
                                         "<out>"], "agnews-bert: error: model folder './my-checkpoint' does not "
                                        "exist; check the path, or pass a Hub id such as --model "
                                        "answerdotai/ModernBERT-base"),
    "output-dir-is-a-file": (["train", "--preset", "smoke", "--output-dir", "<inputs>/columns.csv"],
                             "agnews-bert: error: --output-dir <inputs>/columns.csv cannot hold run folders: "
                             "<inputs>/columns.csv is a file; choose another --output-dir ..."),
    # the data
    "missing-data-file": (["train", "--preset", "smoke", "--data", "<inputs>/missing.csv", "--output-dir", "<out>"],
                          "agnews-bert: error: --data <inputs>/missing.csv does not exist; check the path, or use "
                          "--data smoke"),
    "missing-test-data-file": (["train", "--preset", "smoke", "--test-data", "<inputs>/missing-test.csv",
                                "--output-dir", "<out>"],
                               "agnews-bert: error: --test-data <inputs>/missing-test.csv does not exist; check the "
                               "path"),
    "one-class-training-data": (
        ["train", "--preset", "smoke", "--data", "<inputs>/one_class.csv", "--output-dir", "<out>"],
        "agnews-bert: error: the training rows of '<inputs>/one_class.csv' have no Sports, Business, Sci/Tech rows "
        "(only World); every class needs some: check the file's label column, add rows of the missing classes, or "
        "hold out fewer rows with a smaller --validation-size ..."),
    "original-csv-with-class-0": (
        ["train", "--preset", "smoke", "--data", "<inputs>/class_0.csv", "--output-dir", "<out>"],
        "agnews-bert: error: class_0.csv line 2 has class '0' in its first column: expected the original AG News "
        "format, which numbers the classes 1-4 (1 World, 2 Sports, 3 Business, 4 Sci/Tech)"),
    "original-csv-with-a-missing-column": (
        ["train", "--preset", "smoke", "--data", "<inputs>/two_columns.csv", "--output-dir", "<out>"],
        "two_columns.csv line 1 has 2 column(s): expected the original AG News format (3 columns"),
    "csv-without-text-and-label": (["train", "--preset", "smoke", "--data", "<inputs>/columns.csv", "--output-dir",
                                    "<out>"], "AG News format"),
    "bad-label": (["train", "--preset", "smoke", "--data", "<inputs>/labels.csv", "--output-dir", "<out>"],
                  "label '7'"),
    "empty-data-file": (["train", "--preset", "smoke", "--data", "<inputs>/empty.csv", "--output-dir", "<out>"],
                        "empty.csv is empty"),
    "more-training-rows-than-the-data-has": (["train", "--preset", "smoke", "--train-size", "5000", "--output-dir",
                                              "<out>"], "--train-size 5000 asks for 5000 rows"),
    "training-rows-and-validation-too-many": (
        ["train", "--preset", "smoke", "--train-size", "420", "--output-dir", "<out>"],
        "--train-size 420 asks for 420 rows but only 416 are left after holding out validation; lower --train-size "
        "... or --validation-size ..."),
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
                                   "agnews-bert: error: --data <inputs>/missing.csv does not exist"),
    # push (the environment holds no token and is offline)
    "push-without-a-repo-id": (["push", "<run>"], "the following arguments are required: --repo-id"),
    "push-a-folder-that-is-not-a-run": (["push", "<inputs>", "--repo-id", "your-name/agnews-smoke"],
                                        "agnews-bert: error: <inputs> is not a finished run"),
    "push-a-bad-repo-id": (["push", "<run>", "--repo-id", "your name/agnews smoke"],
                           "agnews-bert: error: --repo-id your name/agnews smoke is not a Hub repo name"),
    "push-without-a-token": (["push", "<run>", "--repo-id", "your-name/agnews-smoke"],
                             "agnews-bert: error: no Hugging Face token found: create a write token at "
                             "https://huggingface.co/settings/tokens, then set it as HF_TOKEN"),
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


def model_folders(folder: Path, smoke_model: Path) -> None:
    """Broken copies of the smoke checkpoint: without its tokenizer, without its config, with another tokenizer."""
    import tokenizers
    import transformers

    for name in ("no_tokenizer", "no_config", "other_tokenizer"):
        shutil.copytree(smoke_model, folder / name)
    for tokenizer_file in ("tokenizer.json", "tokenizer_config.json"):
        (folder / "no_tokenizer" / tokenizer_file).unlink()
    (folder / "no_config" / "config.json").unlink()
    words = {word: index for index, word in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "stocks", "fell", "rose"])}
    tiny = tokenizers.Tokenizer(tokenizers.models.WordLevel(words, unk_token="[UNK]"))
    tiny.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    for tokenizer_file in ("tokenizer.json", "tokenizer_config.json"):
        (folder / "other_tokenizer" / tokenizer_file).unlink()
    transformers.PreTrainedTokenizerFast(tokenizer_object=tiny, pad_token="[PAD]", unk_token="[UNK]").save_pretrained(
        folder / "other_tokenizer")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, smoke_run):
    """The files the cases name, keyed by their placeholder."""
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "columns.csv").write_text("headline,topic\nStocks fell,1\n", encoding="utf-8")
    (folder / "labels.csv").write_text("text,label\nStocks fell on Monday,7\nThe striker scored,1\n", encoding="utf-8")
    (folder / "empty.csv").write_text("", encoding="utf-8")
    (folder / "empty_folder").mkdir()
    (folder / "one_class.csv").write_text("".join(f'"1","World title {n}","World story {n}"\n' for n in range(200)))
    (folder / "class_0.csv").write_text('"1","Title","Story"\n"0","Title two","Story two"\n', encoding="utf-8")
    (folder / "two_columns.csv").write_text('"1","Title only"\n', encoding="utf-8")
    model_folders(folder, ab.smoke.smoke_checkpoint())
    text_boolean_run = folder / "text_boolean_run"
    shutil.copytree(Path(smoke_run["run_dir"]) / "model", text_boolean_run / "model")
    config = json.loads((Path(smoke_run["run_dir"]) / "config.json").read_text(encoding="utf-8"))
    (text_boolean_run / "config.json").write_text(json.dumps({**config, "trust_remote_code": "false"}))
    run_dir = Path(smoke_run["run_dir"])
    return {"<inputs>": str(folder), "<out>": str(folder / "out"), "<empty_folder>": str(folder / "empty_folder"),
            **{f"<{name}>": str(folder / name) for name in ("no_tokenizer", "no_config", "other_tokenizer")},
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


def _finished_run_config(inputs):
    from agnews_bert.lab.folders import load_run_config

    return load_run_config(inputs["<run>"])


def _refuse_finished(inputs):
    from agnews_bert.lab.folders import refuse_finished_run

    refuse_finished_run(_finished_run_config(inputs))


def _unreachable_model(inputs):
    from agnews_bert.hub import unreachable_error

    raise unreachable_error("bert-base-uncased", "model")


def _bad_repo_id(inputs):
    from agnews_bert.lab.sharing import check_repo_id

    check_repo_id("your name/agnews smoke")


# A case above, raised again from Python: (the call, its field, the keyword wording, the flag wording in the CLI).
BOTH_WAYS = {
    "negative-lr": (lambda inputs: ab.RunConfig.from_preset("smoke", lr=-1), "lr", "lr=-1 is out of range: use a "
                    "number from 1e-07 to 1", "agnews-bert: error: --lr -1.0 is out of range: use a number from 1e-07"),
    "zero-batch-size": (lambda inputs: ab.RunConfig.from_preset("smoke", batch_size=0), "batch_size",
                        "batch_size=0 is out of range", "--batch-size 0 is out of range"),
    "run-name-escapes": (lambda inputs: ab.RunConfig.from_preset("smoke", run_name="../outside"), "run_name",
                         "run_name='../outside' is not allowed", "--run-name ../outside is not allowed"),
    "zero-patience": (lambda inputs: ab.RunConfig.from_preset("smoke", early_stopping_patience=0),
                      "early_stopping_patience", "(try 2, or early_stopping_patience=None to train every epoch)",
                      "(try 2, or --early-stopping-patience None to train every epoch)"),
    "max-length-above-the-model-limit": (
        lambda inputs: ab.notebook.check_max_length(ab.load_tokenizer("smoke"), 512, "smoke"), "max_length",
        "max_length=512 is above smoke's limit of 128", "--max-length 512 is above smoke's limit of 128"),
    "missing-data-file": (lambda inputs: ab.load_agnews(inputs["<inputs>"] + "/missing.csv"), "data",
                          "data='<inputs>/missing.csv' does not exist; check the path, or use data='smoke'",
                          "--data <inputs>/missing.csv does not exist; check the path, or use --data smoke"),
    "missing-test-data-file": (lambda inputs: ab.load_agnews("smoke", test_source=inputs["<inputs>"] +
                                                             "/missing-test.csv"), "test_data",
                               "test_data='<inputs>/missing-test.csv' does not exist",
                               "--test-data <inputs>/missing-test.csv does not exist"),
    "one-class-training-data": (lambda inputs: ab.load_agnews(inputs["<inputs>"] + "/one_class.csv"), "data",
                                "with a smaller validation_size=...", "with a smaller --validation-size ..."),
    "training-rows-and-validation-too-many": (
        lambda inputs: ab.load_agnews("smoke", train_size=420, validation_size=64), "train_size",
        "train_size=420 asks for 420 rows but only 416 are left after holding out validation; lower train_size=... "
        "or validation_size=...", "--train-size 420 asks for 420 rows"),
    "hub-model-unreachable": (_unreachable_model, "model",
                              "a local model folder as model=..., or try preset='smoke'",
                              "a local model folder as --model ..., or try --preset smoke"),
    "finished-run-without-overwrite": (_refuse_finished, "overwrite", "pass overwrite=True to train it again, or "
                                       "run_name=... to keep both", "pass --overwrite to train it again, or "
                                       "--run-name ... to keep both"),
    "push-a-bad-repo-id": (_bad_repo_id, "repo_id", "repo_id='your name/agnews smoke' is not a Hub repo name",
                           "--repo-id your name/agnews smoke is not a Hub repo name"),
}


@pytest.mark.parametrize("name", list(BOTH_WAYS))
def test_a_bad_value_names_its_field_as_a_keyword_in_python_and_as_a_flag_in_the_cli(name, outcomes, inputs):
    call, field, keyword_words, flag_words = BOTH_WAYS[name]
    with pytest.raises(ab.AgNewsError) as error:
        call(inputs)
    assert error.value.field == field
    assert fill(keyword_words, inputs) in str(error.value) and " --" not in str(error.value)
    assert fill(flag_words, inputs) in outcomes[name].stderr and f" {field}=" not in outcomes[name].stderr


def test_an_unfinished_run_with_other_settings_names_resume_as_a_keyword_and_as_the_no_resume_switch(tmp_path):
    from agnews_bert.lab.folders import refuse_other_settings

    (tmp_path / "half").mkdir()  # started with seed 42, never finished
    (tmp_path / "half" / "config.json").write_text(ab.RunConfig.from_preset("smoke").to_json(), encoding="utf-8")
    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), run_name="half", seed=5)
    with pytest.raises(ab.AgNewsError) as error:
        refuse_other_settings(tmp_path / "half", config)
    assert error.value.field == "resume" and "pass resume=False to start it over" in str(error.value)
    finished = subprocess.run([CONSOLE_SCRIPT, "train", "--preset", "smoke", "--output-dir", str(tmp_path),
                               "--run-name", "half", "--seed", "5"], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, env=offline_environment(os.environ, tmp_path / "hf"),
                              timeout=300)
    assert finished.returncode == 2  # after the "Data:" and "Hardware:" lines: the folder is checked once they are
    assert "pass --no-resume to start it over" in finished.stderr.splitlines()[-1]
    assert "resume=False" not in finished.stderr


def test_the_bad_input_cases_left_no_run_behind(outcomes, inputs):
    assert not Path(inputs["<out>"]).exists() or not any(Path(inputs["<out>"]).rglob("*"))
    assert not any(Path(inputs["<hf_home>"]).rglob("models--*"))  # nothing was downloaded or cached


def closed_loopback_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: a connection to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("flag, name, what", [
    ("--model", "answerdotai/ModernBERT-base", "model"), ("--model", "bert-base-uncasd", "model"),
    ("--data", "fancyzhx/ag_news", "data set")])
def test_an_unreachable_hub_gives_its_one_line_within_10_seconds(tmp_path, flag, name, what):
    environment = {key: value for key, value in offline_environment(os.environ, tmp_path / "hf_home").items()
                   if "proxy" not in key.lower()}  # nothing may leave this machine, not even through a proxy
    environment.update(HF_HUB_OFFLINE="0", HF_DATASETS_OFFLINE="0", TRANSFORMERS_OFFLINE="0",
                       HF_ENDPOINT=f"http://127.0.0.1:{closed_loopback_port()}")
    started = time.monotonic()
    finished = subprocess.run([CONSOLE_SCRIPT, "train", "--preset", "smoke", flag, name, "--output-dir",
                               str(tmp_path / "out")], capture_output=True, text=True, env=environment, timeout=300)
    seconds = time.monotonic() - started
    local = "a local file as --data ... (an AG News CSV), or --data smoke" if what == "data set" else \
        "a local model folder as --model ..., or try --preset smoke"
    assert (finished.returncode, finished.stdout) == (2, "")
    assert finished.stderr.splitlines() == [
        f"agnews-bert: error: cannot load the {what} '{name}': the Hugging Face Hub cannot be reached and it is not "
        f"cached; connect to the network, or pass {local}"]
    assert seconds < 10
    assert not (tmp_path / "out").exists()


def test_offline_environment_drops_the_shells_hub_settings(tmp_path):
    shell = {"PATH": "/bin", "HF_HUB_OFFLINE": "0", "HF_HUB_CACHE": "/cache", "TRANSFORMERS_CACHE": "/t",
             "HUGGINGFACE_HUB_CACHE": "/h"}
    assert offline_environment(shell, tmp_path) == {
        "PATH": "/bin", "HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
