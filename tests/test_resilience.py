"""Surviving kills, interrupts, out-of-memory errors and several processes, on the smoke preset."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import transformers

import agnews_bert as ab
from agnews_bert.checkpoints import (
    MIRROR_MARKER, is_complete_checkpoint, latest_checkpoint, mirror_checkpoint, remove_without_trash,
    restore_from_mirror,
)
from agnews_bert.runs import read_index

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
    config = ab.RunConfig.preset("smoke", epochs=2)
    tokenizer = ab.load_tokenizer("smoke")
    tokenized = ab.tokenize_dataset(ab.load_agnews(config), tokenizer, config.max_length)
    trainer = ab.build_trainer(config, ab.load_model("smoke"), tokenizer, tokenized, run_dir)
    trainer.train()
    return run_dir / "checkpoints"


def test_sigkill_after_first_checkpoint_then_rerun_continues(tmp_path):
    process = start_cli(*LONG_SMOKE, "--output-dir", str(tmp_path))
    wait_for_checkpoint(tmp_path / "long" / "checkpoints", process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "long" / "results.json").exists()
    saved_steps = sorted(int(p.name.split("-")[1]) for p in (tmp_path / "long" / "checkpoints").glob("checkpoint-*"))

    rerun = start_cli(*LONG_SMOKE, "--output-dir", str(tmp_path))
    stdout, stderr = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, stderr[-2000:]
    assert "Resuming from checkpoint-" in stdout
    results = json.loads((tmp_path / "long" / "results.json").read_text())
    resumed_step = int(results["resumed_from"].split("-")[1])
    assert resumed_step in saved_steps and resumed_step >= 13
    epochs = eval_epochs(results)
    assert len(epochs) == len(set(epochs)) and max(epochs) == 60  # no epoch evaluated twice
    assert results["test"]["accuracy"] >= 0.9
    assert len(read_index(tmp_path)) == 1


def test_interrupt_saves_a_checkpoint_and_says_how_to_resume(tmp_path):
    process = start_cli(*LONG_SMOKE, "--output-dir", str(tmp_path))
    wait_for_checkpoint(tmp_path / "long" / "checkpoints", process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "run the same command or cell again to resume" in stderr and "Traceback" not in stderr
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


def test_mirror_overwrites_slots_in_place_and_restores(two_epoch_checkpoints, tmp_path):
    mirror = tmp_path / "drive" / "checkpoints"
    mirror_checkpoint(two_epoch_checkpoints / "checkpoint-13", mirror / "last")
    names_before = sorted(p.name for p in (mirror / "last").iterdir())
    mirror_checkpoint(two_epoch_checkpoints / "checkpoint-26", mirror / "last")
    assert sorted(p.name for p in (mirror / "last").iterdir()) == names_before
    assert (mirror / "last" / MIRROR_MARKER).read_text().strip() == "26"
    restored = restore_from_mirror(mirror, tmp_path / "local")
    assert restored.name == "checkpoint-26" and is_complete_checkpoint(restored)
    (mirror / "last" / MIRROR_MARKER).write_text("incomplete\n")
    assert restore_from_mirror(mirror, tmp_path / "elsewhere") is None


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


def test_checkpoints_on_local_disk_are_mirrored_and_a_new_runtime_resumes(tmp_path):
    drive, local = tmp_path / "drive", tmp_path / "local"
    config = ab.RunConfig.preset("smoke", output_dir=str(drive), checkpoint_dir=str(local), epochs=3, run_name="m")
    trainer = ab.build_trainer(config, ab.load_model("smoke"), ab.load_tokenizer("smoke"),
                               ab.tokenize_dataset(ab.load_agnews(config), ab.load_tokenizer("smoke"), 64), drive / "m")
    from agnews_bert.checkpoints import CheckpointMirror

    trainer.add_callback(CheckpointMirror(drive / "m" / "checkpoints"))
    trainer.train()
    assert (local / "m").is_dir() and (drive / "m" / "checkpoints" / "last" / MIRROR_MARKER).read_text().strip() == "39"
    shutil.rmtree(local)  # the runtime is gone; Drive is not
    results = ab.train(config, say=lambda *_: None)
    assert results["resumed_from"] == "checkpoint-39"
    assert not (drive / "m" / "checkpoints").exists() and results["test"]["accuracy"] >= 0.9


def _fail_above(batch_size_limit):
    real_training_step = transformers.Trainer.training_step

    def training_step(self, *args, **kwargs):
        if self.args.per_device_train_batch_size > batch_size_limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_training_step(self, *args, **kwargs)

    return training_step


def test_out_of_memory_on_the_first_step_halves_the_batch_and_finishes(tmp_path, monkeypatch):
    monkeypatch.setattr(transformers.Trainer, "training_step", _fail_above(16))
    messages = []
    results = ab.train(ab.RunConfig.preset("smoke", output_dir=str(tmp_path)), say=messages.append)
    assert results["batch"] == {"per_device": 16, "devices": 1, "gradient_accumulation_steps": 2}
    assert any("retrying with batch_size=16 and gradient_accumulation_steps=2" in m for m in messages)
    assert results["test"]["accuracy"] >= 0.9
    assert json.loads((tmp_path / results["run_name"] / "config.json").read_text())["batch_size"] == 32


def test_out_of_memory_below_batch_one_gives_up_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr(transformers.Trainer, "training_step", _fail_above(0))
    with pytest.raises(ab.AgNewsError, match="even with batch_size=1; lower --max-length"):
        ab.train(ab.RunConfig.preset("smoke", output_dir=str(tmp_path), batch_size=4), say=lambda *_: None)
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
    assert ab.RunConfig.preset().trust_remote_code is False


def _launch(launcher, output_dir):
    environment = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    command = {
        "torchrun": [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"],
        "accelerate": [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                       "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"],
    }[launcher]
    return subprocess.run([*command, "-m", "agnews_bert", "train", "--preset", "smoke", "--output-dir", str(output_dir)],
                          capture_output=True, text=True, env=environment, timeout=600)


@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_two_process_run_writes_one_run_folder(tmp_path, smoke_run, launcher):
    finished = _launch(launcher, tmp_path)
    assert finished.returncode == 0, finished.stderr[-3000:]
    run_folders = [path for path in tmp_path.iterdir() if path.is_dir()]
    assert len(run_folders) == 1 and len(read_index(tmp_path)) == 1
    results = json.loads((run_folders[0] / "results.json").read_text())
    assert results["batch"]["devices"] == 2
    assert finished.stdout.count("Test accuracy") == 1  # only rank 0 reports
    assert abs(results["test"]["accuracy"] - smoke_run["test"]["accuracy"]) <= 0.05


def test_rerunning_the_training_cell_after_a_stop_finishes_the_run(tmp_path):
    from agnews_bert.resilience import StopAndSave

    config = ab.RunConfig.preset("smoke", output_dir=str(tmp_path), epochs=2)
    tokenizer = ab.load_tokenizer("smoke")
    tokenized = ab.tokenize_dataset(ab.load_agnews(config), tokenizer, config.max_length)
    run_dir = ab.prepare_run_dir(config)
    trainer = ab.build_trainer(config, ab.load_model("smoke"), tokenizer, tokenized, run_dir)

    class PressStop(transformers.TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:
                next(c for c in trainer.callback_handler.callbacks if isinstance(c, StopAndSave)).requested = True

    trainer.add_callback(PressStop())
    with pytest.raises(ab.AgNewsError, match="training stopped at step 3"):
        ab.train_resumably(trainer, config, run_dir)
    trainer.pop_callback(PressStop)
    _, resumed_from = ab.train_resumably(trainer, config, run_dir)  # the same cell, run again
    assert resumed_from.name == "checkpoint-3"
    assert trainer.state.global_step == 26
    assert sum(isinstance(c, StopAndSave) for c in trainer.callback_handler.callbacks) == 1


def test_an_unfinished_run_is_not_resumed_with_other_settings(tmp_path):
    config = ab.RunConfig.preset("smoke", output_dir=str(tmp_path), run_name="same-folder")
    ab.prepare_run_dir(config)
    with pytest.raises(ab.AgNewsError, match=r"other settings \(batch_size\); pass --no-resume"):
        ab.prepare_run_dir(config.with_changes(batch_size=8))
    assert ab.prepare_run_dir(config.with_changes(resume=False, batch_size=8)).name == "same-folder"


def test_mirror_restores_the_best_checkpoint_too(two_epoch_checkpoints, tmp_path):
    mirror = tmp_path / "drive"
    mirror_checkpoint(two_epoch_checkpoints / "checkpoint-13", mirror / "best")
    mirror_checkpoint(two_epoch_checkpoints / "checkpoint-26", mirror / "last")
    assert restore_from_mirror(mirror, tmp_path / "local").name == "checkpoint-26"
    assert is_complete_checkpoint(tmp_path / "local" / "checkpoint-13")
