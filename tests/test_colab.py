"""The Colab-only paths, with a fake `google.colab` module: Drive mount, the Drive path, the fallback."""

import sys
import types
from pathlib import Path

import pytest

import agnews_bert as ab
from agnews_bert import colab
from agnews_bert.hardware import Hardware

T4 = Hardware("cuda", "Tesla T4", (7, 5))
CPU = Hardware("cpu", "CPU")


@pytest.fixture
def fake_colab(monkeypatch):
    """A `google.colab` whose drive.mount records its calls, or raises what `mount_error` holds."""
    calls = {"mounted": [], "error": None}

    def mount(mount_point, **_options):
        if calls["error"]:
            raise calls["error"]
        calls["mounted"].append(mount_point)

    package = types.ModuleType("google.colab")
    package.drive = types.SimpleNamespace(mount=mount)
    monkeypatch.setitem(sys.modules, "google.colab", package)
    monkeypatch.setitem(sys.modules, "google.colab.drive", package.drive)
    return calls


@pytest.fixture(autouse=True)
def no_smoke_environment(monkeypatch):
    monkeypatch.delenv(colab.SMOKE_ENV, raising=False)
    monkeypatch.delenv(colab.RUNS_DIR_ENV, raising=False)


def test_on_colab_runs_go_to_drive(fake_colab):
    said = []
    assert colab.in_colab()
    assert colab.output_dir(say=said.append) == "/content/drive/MyDrive/agnews_bert"
    assert fake_colab["mounted"] == ["/content/drive"]
    assert "/content/drive/MyDrive/agnews_bert/<run-name>" in said[0]


def test_a_run_on_drive_lives_in_myDrive_agnews_bert_run_name(fake_colab):
    config = colab.notebook_config(colab.output_dir(say=lambda _: None), hardware=T4)
    assert str(ab.run_dir_for(config)).startswith("/content/drive/MyDrive/agnews_bert/modernbert-base_n12000_lr5e-05_ep2_seed42_")
    assert config.checkpoint_dir == "/content/checkpoints"  # fast local disk, mirrored to Drive


def test_when_mount_fails_runs_go_to_local_runs_with_a_visible_note(fake_colab):
    fake_colab["error"] = ValueError("mount failed: access was not granted")
    said = []
    assert colab.output_dir(say=said.append) == "runs"
    assert said[0].startswith("Note: Google Drive could not be mounted (mount failed: access was not granted)")
    assert "LOST when it disconnects" in said[0]
    assert colab.notebook_config("runs").checkpoint_dir is None


def test_off_colab_nothing_is_mounted_and_the_note_names_the_local_folder(monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    said = []
    assert not colab.in_colab()
    assert colab.output_dir(say=said.append) == "runs"
    assert said == [f"Note: not on Colab, so runs are saved in the local folder runs/ ({Path('runs').resolve()})."]
    monkeypatch.setenv(colab.RUNS_DIR_ENV, str(tmp_path))
    assert colab.output_dir(say=said.append) == str(tmp_path)


@pytest.mark.parametrize("value, expected", [("1", True), ("yes", True), ("0", False), ("", False), (None, False)])
def test_smoke_mode_follows_the_environment(monkeypatch, value, expected):
    if value is not None:
        monkeypatch.setenv(colab.SMOKE_ENV, value)
    assert colab.smoke_mode() is expected
    assert colab.notebook_preset() == ("smoke" if expected else "colab")


def test_notebook_config_in_smoke_mode_is_the_smoke_preset(monkeypatch):
    monkeypatch.setenv(colab.SMOKE_ENV, "1")
    config = colab.notebook_config("some/runs", epochs=2)
    assert config == ab.RunConfig.preset("smoke", output_dir="some/runs", epochs=2)  # a finished run is loaded
    monkeypatch.setenv(colab.SMOKE_ENV, "0")
    assert colab.notebook_config("some/runs", hardware=T4) == ab.RunConfig.preset("colab", output_dir="some/runs")


def test_runtime_report_names_the_gpu_and_its_precision():
    t4 = Hardware("cuda", "Tesla T4", (7, 5))
    assert colab.runtime_report(t4) == "GPU found: Tesla T4 (cuda, compute 7.5): fp16 mixed precision, sdpa attention"
    a100 = Hardware("cuda", "NVIDIA A100-SXM4-40GB", (8, 0))
    assert "bf16 mixed precision" in colab.runtime_report(a100)


@pytest.fixture
def no_gpu(monkeypatch):
    """A CPU-only runtime outside smoke mode (notebooks/conftest.py sets smoke mode for the whole session)."""
    monkeypatch.delenv(colab.SMOKE_ENV, raising=False)
    for name in colab.TPU_ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(colab, "detect_hardware", lambda: CPU)
    return CPU


def test_runtime_report_without_gpu_says_why_the_form_starts_small_and_how_to_switch(no_gpu):
    report = colab.runtime_report(no_gpu)
    assert report.startswith("No GPU found, so training would run on the CPU")
    assert "fp32" in report and "Runtime > Change runtime type > T4 GPU" in report
    assert "starts from the 'cpu' preset" in report and "usage limits" in report


def test_without_gpu_the_notebooks_start_from_the_cpu_preset(no_gpu):
    config = colab.notebook_config("runs")
    assert config == ab.RunConfig.preset("cpu", output_dir="runs")
    assert colab.estimated_minutes(config, no_gpu)["total"] < 10  # a few minutes on 2 CPU cores
    assert colab.notebook_config("runs", hardware=T4).preset == "colab"  # with a GPU, ModernBERT-base


def test_a_tpu_runtime_is_named_and_trains_the_cpu_preset(no_gpu, monkeypatch):
    monkeypatch.setenv("COLAB_TPU_ADDR", "10.0.0.2:8470")
    assert colab.tpu_runtime()
    assert colab.runtime_report(no_gpu).startswith("This is a TPU runtime, and agnews_bert does not use TPUs")
    assert colab.notebook_config("runs").preset == "cpu"


def test_the_estimate_warns_before_a_run_over_30_minutes():
    default = ab.RunConfig.preset("colab")
    on_cpu = colab.describe_estimate(default, CPU)
    assert "hours" in on_cpu and "over 30 minutes" in on_cpu and "T4 GPU" in on_cpu
    on_t4 = colab.describe_estimate(default, T4)
    assert "over 30 minutes" not in on_t4 and on_t4.startswith("estimated time on Tesla T4: about ")
    whole_data = colab.describe_estimate(default.with_changes(train_size=0.9, epochs=4), T4)
    assert "over 30 minutes" in whole_data and "fewer training rows" in whole_data


def test_on_drive_only_long_runs_copy_their_checkpoints_there():
    short = colab.keep_checkpoints(ab.RunConfig.preset("colab", output_dir=colab.DRIVE_RUNS_DIR), T4)
    assert (short.checkpoint_dir, short.mirror_checkpoints) == ("/content/checkpoints", False)
    long = colab.keep_checkpoints(ab.RunConfig.preset("colab", output_dir=colab.DRIVE_RUNS_DIR, train_size=0.9,
                                                      epochs=4), T4)
    assert (long.checkpoint_dir, long.mirror_checkpoints) == ("/content/checkpoints", True)
    local = colab.keep_checkpoints(ab.RunConfig.preset("colab", output_dir="runs"), T4)
    assert local.checkpoint_dir is None


def test_find_run_picks_the_best_run_or_the_named_one(smoke_run):
    output_dir = Path(smoke_run["run_dir"]).parent
    assert colab.find_run(output_dir) == Path(smoke_run["run_dir"])
    assert colab.find_run(output_dir, smoke_run["run_name"]) == Path(smoke_run["run_dir"])
    with pytest.raises(ab.AgNewsError, match="is not a finished run; pick a run_name from ab.runs_table"):
        colab.find_run(output_dir, "no-such-run")


def test_find_run_in_an_empty_folder_says_to_train_first(tmp_path):
    with pytest.raises(ab.AgNewsError, match="no finished run in .*; train one with notebook 01 first"):
        colab.find_run(tmp_path)
