"""The Colab-only paths, with a fake `google.colab` module: Drive mount, the Drive path, the fallback."""

import sys
import types
from pathlib import Path

import pytest

import agnews_bert as ab
from agnews_bert.notebook import colab, widgets
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


@pytest.fixture
def said(capsys):
    """The lines the package has printed so far in this test, as a function to call after each step."""
    lines = []

    def read():
        lines.extend(capsys.readouterr().out.splitlines())
        return lines

    return read


@pytest.fixture(autouse=True)
def no_smoke_environment(monkeypatch):
    monkeypatch.delenv(colab.SMOKE_ENV, raising=False)
    monkeypatch.delenv(colab.RUNS_DIR_ENV, raising=False)


def test_on_colab_runs_go_to_drive(fake_colab, said):
    assert colab.in_colab()
    assert colab.output_dir() == "/content/drive/MyDrive/agnews_bert"
    assert fake_colab["mounted"] == ["/content/drive"]
    assert "/content/drive/MyDrive/agnews_bert/<run-name>" in said()[0]


def test_a_run_on_drive_lives_in_myDrive_agnews_bert_run_name(fake_colab):
    config = widgets.notebook_config(colab.output_dir(), hardware=T4)
    assert str(ab.lab.folders.run_dir_for(config)).startswith("/content/drive/MyDrive/agnews_bert/modernbert-base_n12000_lr5e-05_ep2_seed42_")
    assert config.checkpoint_dir == "/content/checkpoints"  # fast local disk, mirrored to Drive


def test_when_mount_fails_runs_go_to_local_runs_with_a_visible_note(fake_colab, said):
    fake_colab["error"] = ValueError("mount failed: access was not granted")
    assert colab.output_dir() == "runs"
    assert said()[0].startswith("Note: Google Drive could not be mounted (mount failed: access was not granted)")
    assert said()[0].count("\n") == 0 and "Run this cell again to retry Drive" in said()[0]
    assert "LOST when it disconnects" in said()[0]
    assert widgets.notebook_config("runs").checkpoint_dir is None


class MessageError(Exception):
    """What google.colab._message raises when the front end answers a request with an error."""


# How drive.mount fails on Colab, as its errors read (colabtools #5694 and #6063, #4897, drive.py).
DRIVE_ERRORS = {
    "credentials": (MessageError("Error: credential propagation was unsuccessful"),
                    "Colab could not pass your sign-in to the runtime", "allow access to all of Drive"),
    "timeout": (ValueError("mount failed: timeout during initial read of root folder; for more info: "
                           "https://research.google.com/colaboratory/faq.html#drive-timeout"),
                "it timed out (large Drives often do the first time)", "Run this cell again to retry"),
    "not empty": (ValueError("Mountpoint must not already contain files"),
                  "/content/drive already holds files written before Drive was mounted",
                  "Runtime > Disconnect and delete runtime"),
}


@pytest.mark.parametrize("case", sorted(DRIVE_ERRORS))
def test_each_way_drive_fails_on_colab_gets_its_own_message_and_local_runs(fake_colab, case, said):
    fake_colab["error"], why, fix = DRIVE_ERRORS[case]
    assert colab.output_dir() == "runs"
    assert len(said()) == 1 and why in said()[0] and fix in said()[0]
    assert "LOST when it disconnects: the last cell of notebook 01 downloads a run as a zip" in said()[0]
    others = [words for name, (_, words, _) in DRIVE_ERRORS.items() if name != case]
    assert not any(words in said()[0] for words in others)


def test_a_timeout_of_pexpect_itself_reads_as_a_timeout():
    class TIMEOUT(Exception):  # pexpect's exception, raised when Drive never answers
        pass

    assert "it timed out" in colab.drive_failure(TIMEOUT("Timeout exceeded."))
    assert "it timed out" not in colab.drive_failure(ValueError("runtime disconnected"))


@pytest.fixture
def fake_files(fake_colab, monkeypatch, tmp_path):
    """google.colab.files, recording what it is asked to download; downloads go to tmp_path."""
    downloaded = []
    files = types.SimpleNamespace(download=downloaded.append)
    sys.modules["google.colab"].files = files
    monkeypatch.setitem(sys.modules, "google.colab.files", files)
    monkeypatch.setattr(colab, "DOWNLOADS_DIR", str(tmp_path))
    return downloaded


def test_a_local_run_on_colab_is_offered_as_a_zip_with_its_model(fake_files, smoke_run, tmp_path, said):
    import zipfile

    run_dir = Path(smoke_run["run_dir"])
    archive = colab.download_run(run_dir, str(run_dir.parent))
    assert fake_files == [str(archive)] and archive == tmp_path / f"{run_dir.name}.zip"
    names = zipfile.ZipFile(archive).namelist()
    assert f"{run_dir.name}/model/model.safetensors" in names and f"{run_dir.name}/results.json" in names
    assert said()[0].startswith(f"Drive is not mounted, so this run lives only on this runtime: downloading {archive.name}")


def test_a_run_on_drive_or_off_colab_is_not_downloaded(fake_files, smoke_run, monkeypatch, said):
    assert colab.download_run(smoke_run["run_dir"], colab.DRIVE_RUNS_DIR) is None
    assert fake_files == [] and "kept on Google Drive" in said()[0]
    monkeypatch.delitem(sys.modules, "google.colab")
    assert colab.download_run(smoke_run["run_dir"], "runs") is None
    assert fake_files == [] and "kept on this machine" in said()[1]


def test_off_colab_nothing_is_mounted_and_the_note_names_the_local_folder(monkeypatch, tmp_path, said):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert not colab.in_colab()
    assert colab.output_dir() == "runs"
    assert said() == [f"Note: not on Colab, so runs are saved in the local folder runs/ ({Path('runs').resolve()})."]
    monkeypatch.setenv(colab.RUNS_DIR_ENV, str(tmp_path))
    assert colab.output_dir() == str(tmp_path)


@pytest.mark.parametrize("value, expected", [("1", True), ("yes", True), ("0", False), ("", False), (None, False)])
def test_smoke_mode_follows_the_environment(monkeypatch, value, expected):
    if value is not None:
        monkeypatch.setenv(colab.SMOKE_ENV, value)
    assert colab.smoke_mode() is expected
    assert widgets.notebook_config("runs", hardware=T4).preset == ("smoke" if expected else "colab")


def test_notebook_config_in_smoke_mode_is_the_smoke_preset(monkeypatch):
    monkeypatch.setenv(colab.SMOKE_ENV, "1")
    config = widgets.notebook_config("some/runs", epochs=2)
    assert config == ab.RunConfig.from_preset("smoke", output_dir="some/runs", epochs=2)  # a finished run is loaded
    monkeypatch.setenv(colab.SMOKE_ENV, "0")
    assert widgets.notebook_config("some/runs", hardware=T4) == ab.RunConfig.from_preset("colab", output_dir="some/runs")


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
    monkeypatch.setattr(widgets, "detect_hardware", lambda: CPU)
    return CPU


def test_runtime_report_without_gpu_says_why_the_form_starts_small_and_how_to_switch(no_gpu):
    report = colab.runtime_report(no_gpu)
    assert report.startswith("No GPU found, so training would run on the CPU")
    assert "fp32" in report and "Runtime > Change runtime type > T4 GPU" in report
    assert "starts from the 'cpu' preset" in report and "usage limits" in report


def test_without_gpu_the_notebooks_start_from_the_cpu_preset(no_gpu):
    config = widgets.notebook_config("runs")
    assert config == ab.RunConfig.from_preset("cpu", output_dir="runs")
    assert widgets.estimated_minutes(config, no_gpu)["total"] < 10  # a few minutes on 2 CPU cores
    assert widgets.notebook_config("runs", hardware=T4).preset == "colab"  # with a GPU, ModernBERT-base


def test_a_tpu_runtime_is_named_and_trains_the_cpu_preset(no_gpu, monkeypatch):
    monkeypatch.setenv("COLAB_TPU_ADDR", "10.0.0.2:8470")
    assert colab.tpu_runtime()
    assert colab.runtime_report(no_gpu).startswith("This is a TPU runtime, and agnews_bert does not use TPUs")
    assert widgets.notebook_config("runs").preset == "cpu"


def test_the_estimate_warns_before_a_run_over_30_minutes():
    default = ab.RunConfig.from_preset("colab")
    on_cpu = widgets.describe_estimate(default, CPU)
    assert "hours" in on_cpu and "over 30 minutes" in on_cpu and "T4 GPU" in on_cpu
    on_t4 = widgets.describe_estimate(default, T4)
    assert "over 30 minutes" not in on_t4 and on_t4.startswith("estimated time on Tesla T4: about ")
    whole_data = widgets.describe_estimate(default.with_changes(train_size=0.9, epochs=4), T4)
    assert "over 30 minutes" in whole_data and "fewer training rows" in whole_data


def test_on_drive_only_long_runs_copy_their_checkpoints_there():
    short = widgets.keep_checkpoints(ab.RunConfig.from_preset("colab", output_dir=colab.DRIVE_RUNS_DIR), T4)
    assert (short.checkpoint_dir, short.mirror_checkpoints) == ("/content/checkpoints", False)
    long = widgets.keep_checkpoints(ab.RunConfig.from_preset("colab", output_dir=colab.DRIVE_RUNS_DIR, train_size=0.9,
                                                      epochs=4), T4)
    assert (long.checkpoint_dir, long.mirror_checkpoints) == ("/content/checkpoints", True)
    local = widgets.keep_checkpoints(ab.RunConfig.from_preset("colab", output_dir="runs"), T4)
    assert local.checkpoint_dir is None



# The environment check of the set-up cells: three lines, then one warning per known-bad combination.
A100 = Hardware("cuda", "NVIDIA A100-SXM4-40GB", (8, 0))
COLAB_VERSIONS = {"agnews_bert": "0.1.0", "transformers": "5.15.0", "datasets": "4.0.0",
                  "torch": "2.11.0+cu128", "ipywidgets": "7.7.1", "flash-attn": None}
FLOORS = {"transformers": "4.48", "datasets": "2.21"}


def check(hardware=T4, **changes):
    return colab.environment_check(hardware, versions={**COLAB_VERSIONS, **changes}, floors=FLOORS).splitlines()


def warnings_of(lines):
    return [line for line in lines if line.startswith("Warning: ")]


def test_a_healthy_colab_t4_gets_three_lines_and_no_warning(fake_colab):
    lines = check()
    assert lines == [
        "Versions: agnews_bert 0.1.0, transformers 5.15.0, datasets 4.0.0, torch 2.11.0+cu128, "
        "ipywidgets 7.7.1",
        "Runtime: Tesla T4 (cuda, compute 7.5): fp16 mixed precision, sdpa attention",
        "If a new Colab runtime breaks this lab: Runtime > Change runtime type > Runtime version, pick an earlier "
        "one (e.g. 2026.07), Save, then run all cells again.",
    ]


@pytest.mark.parametrize("changes, expected", [
    ({"flash-attn": "2.8.3"}, "flash_attn is installed, but the Tesla T4 is older than Ampere and cannot run it"),
    ({"transformers": "4.46.3"}, 'transformers 4.46.3 is below the 4.48 this lab needs: run !pip install -q '
                                 '"transformers>=4.48", then Runtime > Restart session'),
    ({"datasets": "2.19.0"}, 'datasets 2.19.0 is below the 2.21 this lab needs (older ones fail with NumPy 2): run '
                             '!pip install -q "datasets>=2.21"'),
    ({"ipywidgets": "8.1.5"}, 'ipywidgets 8.1.5 under Colab\'s front end can leave the settings form blank: '
                              '!pip install -q "ipywidgets==7.7.1"'),
])
def test_each_known_bad_combination_is_one_warning_with_its_fix(fake_colab, changes, expected):
    lines = check(**changes)
    assert len(lines) == 4 and lines[3].startswith(f"Warning: {expected}")


def test_what_is_fine_elsewhere_is_not_warned_about(monkeypatch):
    assert warnings_of(check(A100, **{"flash-attn": "2.8.3"})) == []  # an Ampere GPU runs FlashAttention
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert warnings_of(check(ipywidgets="8.1.5")) == []  # JupyterLab wants ipywidgets 8
    assert warnings_of(check(transformers="10.0.0", datasets="10.0.0")) == []  # compared as versions, not text


def test_cpu_and_tpu_runtimes_are_told_once_by_the_runtime_report_not_warned_about_again(no_gpu, monkeypatch):
    lines = check(CPU)
    assert warnings_of(lines) == [] and lines[1] == f"Runtime: {colab._training_choice(CPU)}"
    assert colab.runtime_report(CPU).startswith("No GPU found") and "T4 GPU" in colab.runtime_report(CPU)
    monkeypatch.setenv("TPU_NAME", "local")
    assert warnings_of(check(CPU)) == [] and colab.runtime_report(CPU).startswith("This is a TPU runtime")


def test_the_floors_come_from_the_installed_package_and_the_versions_from_what_is_installed():
    from packaging.version import Version

    floors = colab.requirement_floors()
    assert {"transformers", "datasets"} <= set(floors) and "evaluate" not in floors
    assert Version(floors["transformers"]) >= Version("4.48")
    versions = colab.installed_versions()
    assert versions["transformers"] == transformers_version() and versions["flash-attn"] is None


def transformers_version():
    import transformers

    return transformers.__version__
