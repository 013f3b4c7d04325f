"""A run's model card (model/README.md) and `push`: the card loads and matches results.json; the token stays secret.

The push cases run offline: offline mode, a Hub address where nothing listens, and a
local stand-in Hub (an HTTP server on 127.0.0.1) that refuses the upload and echoes the
Authorization header it got into its error, as a careless server could. After all of
them, no file of the run folder, no output and no error line holds the token.
"""

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import types
from dataclasses import replace
from pathlib import Path

import pytest

import agnews_bert as ab
from agnews_bert.lab.folders import load_run_config
from agnews_bert.lab.sharing import hub_token
from test_cli_errors import CONSOLE_SCRIPT, closed_loopback_port, offline_environment

FAKE_TOKEN = "hf_fakeTokenForTests0123456789abcdefXYZ"


@pytest.fixture(scope="module")
def card(smoke_run):
    from huggingface_hub import ModelCard

    return ModelCard.load(Path(smoke_run["run_dir"]) / "model" / "README.md")


@pytest.fixture
def run_copy(smoke_run, tmp_path):
    """A copy of the smoke run folder, to change and to push from."""
    return Path(shutil.copytree(smoke_run["run_dir"], tmp_path / Path(smoke_run["run_dir"]).name))


def metric_values(card) -> dict:
    return {result.metric_type: result.metric_value for result in card.data.eval_results}


def test_the_card_of_a_saved_run_loads_with_its_metadata(card, smoke_run):
    assert card.data.datasets == ["fancyzhx/ag_news"]
    assert (card.data.pipeline_tag, card.data.library_name) == ("text-classification", "transformers")
    assert card.data.base_model is None  # the smoke model is no Hub model
    assert card.data.model_name == smoke_run["run_name"]
    assert {result.dataset_split for result in card.data.eval_results} == {"test"}


def test_the_cards_metrics_equal_results_json(card, smoke_run):
    saved = json.loads((Path(smoke_run["run_dir"]) / "results.json").read_text(encoding="utf-8"))
    assert metric_values(card) == {"accuracy": saved["test"]["accuracy"], "f1": saved["test"]["macro_f1"]}


def test_the_cards_text_holds_the_settings_method_protocol_scores_and_calibration(card, smoke_run):
    config = json.loads((Path(smoke_run["run_dir"]) / "config.json").read_text(encoding="utf-8"))
    text = card.text
    assert "## Method: full" in text and "every weight" in text
    for setting in (f"| Peak learning rate | {config['lr']:g} |", f"| Epochs (planned) | {config['epochs']:g} |",
                    f"| Tokens kept per text (max_length) | {config['max_length']} |", f"| Seed | {config['seed']} |"):
        assert setting in text
    assert "best validation macro-F1 is the one kept" in text and "scored once" in text
    for name, scores in smoke_run["test"]["per_class"].items():
        assert f"| {name} | {scores['precision']:.4f} | {scores['recall']:.4f} | {scores['f1']:.4f} |" in text
    assert f"T = {smoke_run['test']['calibration']['temperature']}" in text
    assert "## Intended use and limitations" in text and "random" in text


def test_a_lora_card_names_its_adapter_settings_trainable_share_and_early_stop(run_copy):
    from huggingface_hub import ModelCard

    config = replace(load_run_config(run_copy), method="lora", lora_r=4, lora_alpha=32, lora_dropout=0.05,
                     model="answerdotai/ModernBERT-base")
    results = ab.lab.load_results(run_copy)
    results["parameters"].update(trainable=12_345, total=150_000, trainable_share=12_345 / 150_000)
    results["early_stopping"] = {"patience": 2, "stopped": True, "stopped_at_epoch": 5.0, "best_epoch": 3.0,
                                 "epochs_planned": 10.0, "reason": "validation macro-F1 did not improve for 2 epochs"}
    card = ModelCard.load(ab.lab.model_card.write_model_card(run_copy, config, results))
    assert (card.data.library_name, card.data.base_model) == ("peft", "answerdotai/ModernBERT-base")
    assert "r = 4, alpha = 32 (a scale of alpha / r = 8)" in card.text and "dropout 0.05" in card.text
    assert "Trainable parameters: 12,345 of 150,000 (8.23%)" in card.text
    assert "stopped at epoch 5.0 of 10.0: validation macro-F1 did not improve for 2 epochs" in card.text
    assert "epoch 3.0" in card.text


def test_a_linear_probe_card_from_a_local_folder_has_no_base_model(run_copy):
    from huggingface_hub import ModelCard

    config = replace(load_run_config(run_copy), method="linear-probe", model=str(run_copy / "model"))
    card = ModelCard.load(ab.lab.model_card.write_model_card(run_copy, config, ab.lab.load_results(run_copy)))
    assert (card.data.library_name, card.data.base_model) == ("transformers", None)
    assert "encoder stayed frozen" in card.text and "the local model folder `model`" in card.text


def test_the_token_comes_from_colab_secrets_when_hf_token_is_unset(monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert hub_token() is None  # the tests' own empty HF_HOME holds no login
    colab = types.ModuleType("google.colab")
    colab.userdata = types.SimpleNamespace(get=lambda name: FAKE_TOKEN if name == "HF_TOKEN" else None)
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    assert hub_token() == FAKE_TOKEN
    monkeypatch.setenv("HF_TOKEN", "hf_fromTheEnvironment")
    assert hub_token() == "hf_fromTheEnvironment"


def test_push_offline_fails_in_one_line_without_showing_the_token(run_copy, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    with pytest.raises(ab.AgNewsError, match="offline mode is on") as raised:
        ab.push_to_hub(run_copy, "your-name/agnews-smoke")
    captured = capsys.readouterr()
    assert FAKE_TOKEN not in str(raised.value) + captured.out + captured.err
    assert files_holding(run_copy, FAKE_TOKEN) == []


class EchoingHub(http.server.BaseHTTPRequestHandler):
    """A stand-in Hub: answers HEAD, and refuses every other request with an error that quotes its Authorization."""

    status = 400
    seen = []

    def do_HEAD(self):
        self.send_response(200)
        self.end_headers()

    def do_POST(self):
        EchoingHub.seen.append((self.command, self.path, self.headers.get("Authorization")))
        body = json.dumps({"error": f"cannot create this repo for {self.headers.get('Authorization')}"}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST

    def log_message(self, *args):
        pass


@pytest.fixture
def echoing_hub():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoingHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    EchoingHub.seen.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def push_command(run_dir: Path, tmp_path: Path, **environment) -> subprocess.CompletedProcess:
    env = offline_environment(os.environ, tmp_path / "hf_home")
    env = {key: value for key, value in env.items() if "proxy" not in key.lower()}  # nothing leaves the machine
    env.update(environment)
    return subprocess.run([CONSOLE_SCRIPT, "push", str(run_dir), "--repo-id", "your-name/agnews-smoke"],
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)


def files_holding(folder: Path, secret: str) -> list:
    return [str(path) for path in folder.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()]


@pytest.mark.parametrize("status, fragment", [
    (400, "cannot push to 'your-name/agnews-smoke' (cannot create this repo for Bearer hf_***)"),  # the token masked
    (401, "the Hub refused the token (401)")])
def test_push_console_script_fails_in_one_line_and_never_shows_or_writes_the_token(
        run_copy, tmp_path, echoing_hub, status, fragment):
    EchoingHub.status = status
    attempts = {
        "offline": push_command(run_copy, tmp_path, HF_TOKEN=FAKE_TOKEN),
        "unreachable": push_command(run_copy, tmp_path, HF_TOKEN=FAKE_TOKEN, HF_HUB_OFFLINE="0",
                                    HF_ENDPOINT=f"http://127.0.0.1:{closed_loopback_port()}"),
        "refused": push_command(run_copy, tmp_path, HF_TOKEN=FAKE_TOKEN, HF_HUB_OFFLINE="0", HF_ENDPOINT=echoing_hub),
    }
    expected = {"offline": "offline mode is on (HF_HUB_OFFLINE=1)", "unreachable": "cannot be reached",
                "refused": fragment}
    for name, finished in attempts.items():
        assert (finished.returncode, finished.stdout) == (2, ""), (name, finished.stderr[-2000:])
        lines = finished.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("agnews-bert: error: "), (name, finished.stderr[-2000:])
        assert expected[name] in lines[0], (name, lines[0])
        assert FAKE_TOKEN not in finished.stderr + finished.stdout
    # the token reached the stand-in Hub with the upload's requests, and no other Authorization did
    assert ("POST", "/api/repos/create", f"Bearer {FAKE_TOKEN}") in EchoingHub.seen
    assert {seen[2] for seen in EchoingHub.seen} <= {None, f"Bearer {FAKE_TOKEN}"}
    assert files_holding(run_copy, FAKE_TOKEN) == [] and files_holding(tmp_path / "hf_home", FAKE_TOKEN) == []


def test_push_uses_the_token_a_login_stored(run_copy, tmp_path, echoing_hub):
    (tmp_path / "hf_home").mkdir()
    (tmp_path / "hf_home" / "token").write_text(FAKE_TOKEN, encoding="utf-8")  # as `hf auth login` leaves it
    EchoingHub.status = 401
    finished = push_command(run_copy, tmp_path, HF_HUB_OFFLINE="0", HF_ENDPOINT=echoing_hub)
    assert finished.returncode == 2 and "the Hub refused the token (401)" in finished.stderr
    assert ("POST", "/api/repos/create", f"Bearer {FAKE_TOKEN}") in EchoingHub.seen
    assert FAKE_TOKEN not in finished.stderr + finished.stdout and files_holding(run_copy, FAKE_TOKEN) == []
