"""Surviving kills, interrupts, out-of-memory errors and several processes, on the smoke preset."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import transformers

import agnews_bert as ab
from conftest import out_of_memory_above
from agnews_bert.lab.checkpoints import is_complete_checkpoint, latest_checkpoint, remove_without_trash
from agnews_bert.lab.folders import read_index

LONG_SMOKE = ["train", "--preset", "smoke", "--epochs", "60", "--run-name", "long"]


def start_cli(*arguments, **environment):
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", **environment)
    return subprocess.Popen([sys.executable, "-m", "agnews_bert", *arguments], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_for_checkpoint(folder: Path, process, timeout=300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(is_complete_checkpoint(path) for path in folder.glob("checkpoint-*")):
            return
        assert process.poll() is None, "training ended before its first checkpoint"
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared")


def eval_epochs(results) -> list:
    return [round(row["epoch"], 3) for row in results["log_history"] if "eval_loss" in row]


@pytest.fixture(scope="module")
def two_epoch_checkpoints(tmp_path_factory):
    """A checkpoints folder with the Trainer's real checkpoint-13 and checkpoint-26."""
    run_dir = tmp_path_factory.mktemp("checkpointed")
    config = ab.RunConfig.from_preset("smoke", epochs=2)
    tokenizer = ab.load_tokenizer("smoke")
    tokenized = ab.tokenize_dataset(ab.load_agnews(config), tokenizer, config.max_length)
    trainer = ab.training.build_trainer(config, ab.modeling.load_classifier("smoke"), tokenizer, tokenized, run_dir)
    trainer.train()
    return run_dir / "checkpoints"


def test_sigkill_after_first_checkpoint_then_rerun_takes_over_the_lock_and_continues(tmp_path):
    process = start_cli(*LONG_SMOKE, "--output-dir", str(tmp_path))
    wait_for_checkpoint(tmp_path / "long" / "checkpoints", process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "long" / "results.json").exists()
    left_behind = json.loads((tmp_path / ".long.owner.json").read_text())  # a SIGKILL cannot clean up
    assert left_behind["pid"] == process.pid
    saved_steps = sorted(int(p.name.split("-")[1]) for p in (tmp_path / "long" / "checkpoints").glob("checkpoint-*"))

    rerun = start_cli(*LONG_SMOKE, "--output-dir", str(tmp_path))
    stdout, stderr = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, stderr[-2000:]
    assert (f"Note: taking over the lock of long, left by a run that was stopped without releasing it (pid "
            f"{process.pid} on {left_behind['host']}, started {left_behind['started']}); that run is no longer "
            "running") in stdout.splitlines()
    assert not (tmp_path / ".long.owner.json").exists()  # released when the run was saved
    assert "Resuming from checkpoint-" in stdout
    results = json.loads((tmp_path / "long" / "results.json").read_text())
    resumed_step = int(results["resumed_from"].split("-")[1])
    assert resumed_step in saved_steps and resumed_step >= 13
    assert eval_epochs(results) == [float(epoch) for epoch in range(1, 61)]  # each epoch once, none lost
    assert results["test"]["accuracy"] >= 0.9
    assert len(read_index(tmp_path)) == 1


def best_validation_f1(results) -> float:
    return max(row["eval_macro_f1"] for row in results["log_history"] if "eval_macro_f1" in row)


@pytest.mark.parametrize("second", [[], ["--batch-size", "16", "--no-resume"]], ids=["same-command", "no-resume"])
def test_a_second_writer_is_refused_and_the_first_run_stays_intact(tmp_path, second):
    first = start_cli(*LONG_SMOKE, "--output-dir", str(tmp_path))
    intruder = None
    try:
        wait_for_checkpoint(tmp_path / "long" / "checkpoints", first)
        owner = json.loads((tmp_path / ".long.owner.json").read_text())
        intruder = start_cli(*LONG_SMOKE, "--output-dir", str(tmp_path), *second)
        stdout, stderr = intruder.communicate(timeout=300)
        assert intruder.returncode == 2 and stdout == ""
        assert stderr.splitlines() == [
            f"agnews-bert: error: run folder {tmp_path / 'long'} is in use by another training run (pid {first.pid} "
            f"on {owner['host']}, started {owner['started']}); wait for it to finish or stop it, or pass "
            "--run-name ... to train in another folder"]
        stdout, stderr = first.communicate(timeout=600)
    finally:
        for process in (first, intruder):
            if process is not None and process.poll() is None:
                process.kill()
    assert first.returncode == 0, stderr[-2000:]
    assert "Could not locate the best model" not in stderr
    results = json.loads((tmp_path / "long" / "results.json").read_text())
    assert results["validation"]["macro_f1"] == best_validation_f1(results)  # the best epoch was kept
    assert json.loads((tmp_path / "long" / "config.json").read_text())["batch_size"] == 32  # the first's settings
    assert eval_epochs(results) == [float(epoch) for epoch in range(1, 61)]
    assert not (tmp_path / "long" / "checkpoints").exists()  # no stray checkpoint
    assert sorted(path.name for path in tmp_path.iterdir()) == [".long.lock", "long", "runs.jsonl"]


def test_interrupt_saves_a_checkpoint_and_says_how_to_resume(tmp_path):
    process = start_cli(*LONG_SMOKE, "--output-dir", str(tmp_path))
    wait_for_checkpoint(tmp_path / "long" / "checkpoints", process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "again to resume" in stderr.splitlines()[-1] and "Traceback" not in stderr
    stopped_step = int(stderr.split("training stopped at step ")[1].split()[0])
    assert latest_checkpoint(tmp_path / "long" / "checkpoints").name == f"checkpoint-{stopped_step}"
    assert not (tmp_path / "long" / "results.json").exists() and read_index(tmp_path) == []


def test_truncated_checkpoint_is_skipped_and_removed(two_epoch_checkpoints, tmp_path):
    folder = tmp_path / "checkpoints"
    shutil.copytree(two_epoch_checkpoints, folder)
    assert latest_checkpoint(folder, remove_broken=False).name == "checkpoint-26"
    weights = folder / "checkpoint-26" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    assert latest_checkpoint(folder).name == "checkpoint-13"
    assert not (folder / "checkpoint-26").exists()


@pytest.mark.parametrize("damage", ["optimizer", "state", "weights_missing"])
def test_other_damage_is_detected(two_epoch_checkpoints, tmp_path, damage):
    checkpoint = tmp_path / "checkpoint-26"
    shutil.copytree(two_epoch_checkpoints / "checkpoint-26", checkpoint)
    assert is_complete_checkpoint(checkpoint)
    if damage == "optimizer":
        optimizer = checkpoint / "optimizer.pt"
        optimizer.write_bytes(optimizer.read_bytes()[:-100])
    elif damage == "state":
        (checkpoint / "trainer_state.json").write_text('{"global_step": 2', encoding="utf-8")
    else:
        (checkpoint / "model.safetensors").unlink()
    assert not is_complete_checkpoint(checkpoint)


def test_remove_without_trash_empties_files_before_deleting(tmp_path, monkeypatch):
    folder = tmp_path / "mirror"
    (folder / "last").mkdir(parents=True)
    (folder / "last" / "weights").write_bytes(b"x" * 1000)
    sizes_when_deleted = []
    real_rmtree = shutil.rmtree
    monkeypatch.setattr(shutil, "rmtree", lambda path, **kw: (sizes_when_deleted.extend(
        p.stat().st_size for p in Path(path).rglob("*") if p.is_file()), real_rmtree(path, **kw)))
    remove_without_trash(folder)
    assert sizes_when_deleted == [0] and not folder.exists()


def test_out_of_memory_on_the_first_step_halves_the_batch_and_finishes(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(transformers.Trainer, "training_step", out_of_memory_above(16))
    results = ab.train(ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path)))
    messages = capsys.readouterr().out.splitlines()
    assert results["batch"] == {"per_device": 16, "devices": 1, "gradient_accumulation_steps": 2}
    assert any("retrying with batch_size=16 and gradient_accumulation_steps=2" in m for m in messages)
    assert results["test"]["accuracy"] >= 0.9
    assert json.loads((tmp_path / results["run_name"] / "config.json").read_text())["batch_size"] == 16  # what trained


def test_out_of_memory_below_batch_one_gives_up_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr(transformers.Trainer, "training_step", out_of_memory_above(0))
    with pytest.raises(ab.AgNewsError, match=r"even with batch_size=1; lower max_length=\.\.\.") as raised:
        ab.train(ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), batch_size=4))
    assert raised.value.field == "batch_size"
    assert read_index(tmp_path) == []


def test_hub_token_is_never_written_or_printed(tmp_path):
    secret = "hf_" + "SecretTokenThatMustNotLeak" + "0123456789"
    process = start_cli("train", "--preset", "smoke", "--output-dir", str(tmp_path), HF_TOKEN=secret,
                        HUGGING_FACE_HUB_TOKEN=secret)
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-2000:]
    assert secret not in stdout + stderr
    for file in tmp_path.rglob("*"):
        if file.is_file():
            assert secret.encode() not in file.read_bytes(), file


def test_trust_remote_code_is_off_by_default():
    assert ab.RunConfig.from_preset().trust_remote_code is False


def free_port() -> int:
    """A TCP port nobody listens on now, so two test sessions never meet on the default 29500."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Runs the CLI under an audit hook that logs, per rank, every file this process opens for
# writing, renames, removes or creates under AUDIT_WATCH, and the process group's backend.
# Files written in C++ (torch.save, safetensors) are not seen; the JSON files, the runs
# index and the plots are, which is where an unguarded rank would show.
AUDITED_CLI = """
import json, os, sys
watch, log_dir, rank = os.path.realpath(os.environ["AUDIT_WATCH"]), os.environ["AUDIT_LOG"], os.environ["RANK"]
events, busy = [], []

def target(path):
    try:
        return os.path.realpath(os.fsdecode(path)) if isinstance(path, (str, bytes, os.PathLike)) else None
    except (TypeError, ValueError):
        return None

def hook(event, args):
    if busy or event not in ("open", "os.rename", "os.remove", "os.mkdir", "os.rmdir", "shutil.rmtree"):
        return
    busy.append(1)
    try:
        if event == "open":
            path, mode, flags = args
            writes = any(c in mode for c in "wax+") if mode else bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            paths = [path] if writes else []
        else:
            paths = list(args[:2]) if event == "os.rename" else [args[0]]
        for path in map(target, paths):
            if path and path.startswith(watch + os.sep):
                events.append([event, os.path.relpath(path, watch)])
    finally:
        busy.clear()

sys.addaudithook(hook)
from agnews_bert.cli import main
try:
    code = main(sys.argv[1:])
finally:
    import torch.distributed as dist
    backend = dist.get_backend() if dist.is_available() and dist.is_initialized() else None
    busy.append(1)
    with open(os.path.join(log_dir, f"rank{rank}.json"), "w") as stream:
        json.dump({"events": events, "backend": backend}, stream)
sys.exit(code)
"""


def _launch(launcher, output_dir, log_dir):
    script = log_dir / "audited_cli.py"
    script.write_text(AUDITED_CLI, encoding="utf-8")
    environment = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", AUDIT_WATCH=str(output_dir),
                       AUDIT_LOG=str(log_dir))
    port = str(free_port())
    command = {
        "torchrun": [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", port],
        "accelerate": [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                       "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                       "--main_process_port", port],
    }[launcher]
    return subprocess.run([*command, str(script), "train", "--preset", "smoke", "--output-dir", str(output_dir)],
                          capture_output=True, text=True, env=environment, timeout=600)


def _outside_checkpoints(events) -> list:
    """The audited writes that are not in a checkpoint folder (where the Trainer saves each rank's RNG state)."""
    return [event for event in events if not any(part.startswith("checkpoint") for part in Path(event[1]).parts)]


@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_two_process_run_writes_one_run_folder_from_rank_0_alone(tmp_path, launcher):
    output_dir, log_dir = tmp_path / "runs", tmp_path / "audit"
    output_dir.mkdir()
    log_dir.mkdir()
    finished = _launch(launcher, output_dir, log_dir)
    assert finished.returncode == 0, finished.stderr[-3000:]
    run_folders = [path for path in output_dir.iterdir() if path.is_dir()]
    assert len(run_folders) == 1 and len(read_index(output_dir)) == 1
    results = json.loads((run_folders[0] / "results.json").read_text())
    assert results["batch"]["devices"] == 2
    assert finished.stdout.count("Test accuracy") == 1  # only rank 0 reports
    assert results["test"]["accuracy"] >= 0.9
    ranks = [json.loads((log_dir / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert [rank["backend"] for rank in ranks] == ["gloo", "gloo"]  # no GPU here: CPU processes talk over gloo
    written_by_rank_0 = {Path(event[1]).name for event in ranks[0]["events"]}
    assert {"config.json", "results.json", "runs.jsonl"} <= written_by_rank_0  # the audit sees these writes
    assert _outside_checkpoints(ranks[1]["events"]) == []


def test_rerunning_the_training_cell_after_a_stop_finishes_the_run(tmp_path):
    from agnews_bert.lab.resilience import StopAndSave

    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), epochs=2)
    tokenizer = ab.load_tokenizer("smoke")
    tokenized = ab.tokenize_dataset(ab.load_agnews(config), tokenizer, config.max_length)
    run_dir = ab.lab.prepare_run_dir(config)
    trainer = ab.training.build_trainer(config, ab.modeling.load_classifier("smoke"), tokenizer, tokenized, run_dir)

    class PressStop(transformers.TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:
                next(c for c in trainer.callback_handler.callbacks if isinstance(c, StopAndSave)).requested = True

    trainer.add_callback(PressStop())
    with pytest.raises(ab.AgNewsError, match="training stopped at step 3"):
        ab.lab.checkpoints.train_resumably(trainer, config, run_dir)
    trainer.pop_callback(PressStop)
    _, resumed_from = ab.lab.checkpoints.train_resumably(trainer, config, run_dir)  # the same cell, run again
    assert resumed_from.name == "checkpoint-3"
    assert trainer.state.global_step == 26
    assert sum(isinstance(c, StopAndSave) for c in trainer.callback_handler.callbacks) == 1


def test_an_unfinished_run_is_not_resumed_with_other_settings(tmp_path):
    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), run_name="same-folder")
    ab.lab.prepare_run_dir(config)
    with pytest.raises(ab.AgNewsError, match=r"other settings \(batch_size\).*resume=False") as refused:
        ab.lab.prepare_run_dir(config.with_changes(batch_size=8))
    assert refused.value.field == "resume"
    assert ab.lab.prepare_run_dir(config.with_changes(resume=False, batch_size=8)).name == "same-folder"


# Trains through ab.train, as a notebook cell or the CLI does, with the run folder on "Drive".
MIRRORED_RUN = """
import sys
import agnews_bert as ab
config = ab.RunConfig.from_preset("smoke", output_dir=sys.argv[1], checkpoint_dir=sys.argv[2], epochs=int(sys.argv[3]),
                             run_name="mirrored")
ab.train(config)
"""


def wait_for_second_checkpoint(folder: Path, process, timeout=300) -> None:
    """Return once a second checkpoint folder has appeared: the first one was saved and handed to the
    mirror before training went on to the epoch that wrote the second."""
    seen, deadline = set(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.update(path.name for path in folder.glob("checkpoint-*"))
        if len(seen) >= 2:
            return
        assert process.poll() is None, "training ended before its second checkpoint"
        time.sleep(0.02)
    raise AssertionError(f"no second checkpoint appeared in {folder}")


def test_a_killed_run_on_drive_resumes_on_a_new_runtime_from_the_mirror(tmp_path, capsys):
    drive, local, epochs = tmp_path / "drive", tmp_path / "local", 20
    process = subprocess.Popen([sys.executable, "-c", MIRRORED_RUN, str(drive), str(local), str(epochs)],
                               env=dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for_second_checkpoint(local / "mirrored", process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    shutil.rmtree(local)  # a new runtime: the local disk is empty, Drive is not

    config = ab.RunConfig.from_preset("smoke", output_dir=str(drive), checkpoint_dir=str(local), epochs=epochs,
                                 run_name="mirrored")
    capsys.readouterr()
    results = ab.train(config)
    said = capsys.readouterr().out.splitlines()
    assert results["resumed_from"] is not None and int(results["resumed_from"].split("-")[1]) >= 13
    assert any(line.startswith(f"Resuming from {results['resumed_from']}") for line in said)
    assert eval_epochs(results) == [float(epoch) for epoch in range(1, epochs + 1)]
    assert results["test"]["accuracy"] >= 0.9
    assert json.loads((drive / "mirrored" / "results.json").read_text())["resumed_from"] == results["resumed_from"]


def _interrupt_at_step_3(times: int):
    """A training_step that, entering step 3, sends this process `times` SIGINTs (Ctrl-C presses)."""
    real_training_step = transformers.Trainer.training_step

    def training_step(self, *args, **kwargs):
        if self.state.global_step == 2 and not getattr(self, "_pressed", False):
            self._pressed = True
            for _ in range(times):
                signal.raise_signal(signal.SIGINT)
        return real_training_step(self, *args, **kwargs)

    return training_step


def test_one_interrupt_saves_a_checkpoint_then_stops(tmp_path, monkeypatch):
    monkeypatch.setattr(transformers.Trainer, "training_step", _interrupt_at_step_3(times=1))
    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), run_name="stop", epochs=2)
    with pytest.raises(ab.AgNewsError, match="training stopped at step 3"):
        ab.train(config)
    assert [path.name for path in tmp_path.rglob("checkpoint-*")] == ["checkpoint-3"]


def test_a_second_interrupt_stops_at_once_without_saving(tmp_path, monkeypatch):
    monkeypatch.setattr(transformers.Trainer, "training_step", _interrupt_at_step_3(times=2))
    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), run_name="stop", epochs=2)
    with pytest.raises(KeyboardInterrupt):
        ab.train(config)
    assert list(tmp_path.rglob("checkpoint-*")) == []  # it did not wait to save step 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C works normally again


def test_no_resume_starts_over_instead_of_resuming(tmp_path, monkeypatch):
    monkeypatch.setattr(transformers.Trainer, "training_step", _interrupt_at_step_3(times=1))
    with pytest.raises(ab.AgNewsError, match="training stopped at step 3"):
        ab.train(ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), run_name="again", epochs=2))
    rerun = start_cli("train", "--preset", "smoke", "--epochs", "2", "--run-name", "again", "--output-dir",
                      str(tmp_path), "--no-resume")
    stdout, stderr = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, stderr[-2000:]
    assert "Resuming" not in stdout
    results = json.loads((tmp_path / "again" / "results.json").read_text())
    assert results["resumed_from"] is None
    assert eval_epochs(results) == [1.0, 2.0]


def test_a_resumed_run_records_its_whole_time_loss_and_only_epoch_end_validation(tmp_path, monkeypatch):
    from agnews_bert.lab.resilience import TrainingClock

    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), run_name="resumed", epochs=2)
    with monkeypatch.context() as patched:
        patched.setattr(transformers.Trainer, "training_step", _interrupt_at_step_3(times=1))
        with pytest.raises(ab.AgNewsError, match="training stopped at step 3"):
            ab.train(config)
    seconds_at_step_3 = TrainingClock.seconds_in(tmp_path / "resumed" / "checkpoints" / "checkpoint-3")
    assert seconds_at_step_3 > 0

    results = ab.train(config)  # the same cell, run again
    assert results["resumed_from"] == "checkpoint-3"
    assert eval_epochs(results) == [1.0, 2.0]  # no validation point at the stop (epoch 0.23)
    timing = results["timing"]
    assert timing["seconds_before_resume"] == round(seconds_at_step_3, 2)
    # Both parts are summed before rounding to 0.01 s; resumed_part_seconds is itself rounded, so two
    # roundings of at most 0.005 s each lie between the record and this sum.
    assert abs(timing["train_seconds"] - (seconds_at_step_3 + timing["resumed_part_seconds"])) <= 0.0101
    logged = [row for row in results["log_history"] if "loss" in row]
    assert [row["step"] for row in logged][:3] == [1, 2, 3]  # the part before the resume is in the history
    steps = [row["step"] - before for row, before in zip(logged, [0] + [row["step"] for row in logged])]
    whole_run_loss = sum(row["loss"] * step for row, step in zip(logged, steps)) / logged[-1]["step"]
    (closing,) = [row for row in results["log_history"] if "train_loss" in row]
    assert closing["train_loss"] == pytest.approx(whole_run_loss, rel=1e-12)
    assert closing["train_runtime"] == timing["train_seconds"]
