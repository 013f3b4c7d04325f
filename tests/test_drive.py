"""Google Drive as the run folder: what the checkpoint mirror writes there, and a full Drive.

A temporary folder stands in for Drive and another for the runtime's local
disk. The model is ModernBERT-base's architecture with random weights (its
checkpoints have the real size: weights plus AdamW state), trained for two
tiny epochs on the bundled sample, so the bytes counted here are the bytes a
real ModernBERT-base run writes to Drive per epoch.
"""

import errno
import json
import shutil
from pathlib import Path

import pytest
import transformers

import agnews_bert as ab
from agnews_bert.lab import checkpoints
from agnews_bert.labels import ID2LABEL, LABEL2ID

MODERNBERT_BASE_VOCAB = 50368
GB = 1e9


def folder_bytes(folder: Path) -> int:
    return sum(file.stat().st_size for file in Path(folder).rglob("*") if file.is_file())


@pytest.fixture(scope="module")
def modernbert_base_folder(tmp_path_factory):
    """A local checkpoint folder: ModernBERT-base's config (random weights) and the offline smoke tokenizer."""
    tokenizer = ab.load_tokenizer("smoke")
    config = transformers.ModernBertConfig(
        vocab_size=MODERNBERT_BASE_VOCAB, pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id, cls_token_id=tokenizer.cls_token_id, sep_token_id=tokenizer.sep_token_id,
        num_labels=4, id2label=ID2LABEL, label2id=LABEL2ID)
    folder = tmp_path_factory.mktemp("modernbert-base-random")
    transformers.ModernBertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def drive_run(model_folder, tmp_path, **changes):
    return ab.RunConfig.from_preset(
        "smoke", model=str(model_folder), train_size=16, validation_size=16, test_size=16, epochs=2, batch_size=8,
        max_length=32, lr=1e-5, output_dir=str(tmp_path / "drive"), checkpoint_dir=str(tmp_path / "local"),
        mirror_checkpoints=True, **changes)


def test_each_checkpoint_goes_to_drive_once_and_only_the_model_stays(modernbert_base_folder, tmp_path, monkeypatch):
    copies = []
    mirror_checkpoint = checkpoints.mirror_checkpoint

    def counted(source, copy):
        written = mirror_checkpoint(source, copy)
        copies.append((Path(source).name, written, folder_bytes(Path(copy).parent)))
        return written

    monkeypatch.setattr(checkpoints, "mirror_checkpoint", counted)
    results = ab.train(drive_run(modernbert_base_folder, tmp_path))
    run_dir = Path(results["run_dir"])

    local_sizes = [bytes_ for _name, bytes_, _on_drive in copies]
    assert [name for name, *_ in copies] == ["checkpoint-2", "checkpoint-4"]  # one copy per epoch, never twice
    assert all(1.7 * GB < size < 1.9 * GB for size in local_sizes)  # weights 0.6 GB + AdamW state 1.2 GB
    most_on_drive = max(on_drive for *_, on_drive in copies)
    assert most_on_drive <= 2 * max(local_sizes) + 1e6  # at most the newest and the best at once
    left = folder_bytes(run_dir)
    assert not (run_dir / "checkpoints").exists()
    assert left == pytest.approx(folder_bytes(run_dir / "model"), rel=0.01)  # the model, plus small JSON and plots
    print(json.dumps({"drive_bytes_per_epoch": local_sizes, "drive_bytes_total": sum(local_sizes) + left,
                      "most_on_drive_during_run": most_on_drive, "left_on_drive_after_run": left}))


def test_a_full_drive_warns_and_the_run_finishes_locally(tmp_path, monkeypatch, capsys):
    def drive_is_full(source, copy):
        Path(copy).mkdir(parents=True, exist_ok=True)
        (Path(copy) / "model.safetensors").write_bytes(b"half a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    save_model = transformers.Trainer.save_model

    def save_unless_on_drive(trainer, output_dir=None, *arguments, **keywords):
        if str(tmp_path / "drive") in str(output_dir):
            raise OSError(errno.ENOSPC, "No space left on device")
        return save_model(trainer, output_dir, *arguments, **keywords)

    monkeypatch.setattr(checkpoints, "mirror_checkpoint", drive_is_full)
    monkeypatch.setattr(transformers.Trainer, "save_model", save_unless_on_drive)
    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path / "drive"), checkpoint_dir=str(tmp_path / "local"),
                                 epochs=2, mirror_checkpoints=True)
    results = ab.train(config)
    message = capsys.readouterr().out
    warnings = [line for line in message.splitlines() if line.startswith("Warning: could not copy")]
    assert len(warnings) == 1  # once, not every epoch
    assert "No space left on device" in warnings[0] and "is Google Drive full?" in warnings[0]
    assert str(tmp_path / "local") in warnings[0]  # where the checkpoints are now
    assert not any((tmp_path / "drive").rglob("checkpoint-*"))  # the half copy is gone

    saved_locally = tmp_path / "local" / "saved_runs" / ab.lab.folders.run_dir_for(config).name
    assert results["run_dir"] == str(saved_locally) and ab.lab.is_finished(saved_locally)
    assert results["test"]["accuracy"] >= 0.9
    assert f"It is saved on this runtime instead, in {saved_locally}" in message
    assert f"!cp -r {saved_locally} {tmp_path / 'drive'}/" in message  # how to copy it once Drive has room
    assert ab.predict(["Stocks rally"], saved_locally)[0]["label"] in ab.CLASS_NAMES


def test_a_new_runtime_resumes_from_the_drive_copy(tmp_path, capsys):
    config, run_dir, trainer = train_notebook_style(tmp_path, epochs=2, mirror_checkpoints=True)
    shutil.rmtree(tmp_path / "local")  # a new runtime: the local disk is empty
    capsys.readouterr()
    checkpoint = ab.lab.resume_checkpoint(config, run_dir)
    assert Path(checkpoint).name == f"checkpoint-{trainer.state.global_step}"
    assert capsys.readouterr().out.startswith(f"Resuming from {Path(checkpoint).name}")
    restored = sorted(path.name for path in (tmp_path / "local" / run_dir.name).iterdir())
    best = Path(trainer.state.best_model_checkpoint).name
    assert set(restored) == {best, Path(checkpoint).name}  # the best epoch can still be loaded at the end


def test_without_mirroring_nothing_is_copied_to_drive(tmp_path):
    _, run_dir, _ = train_notebook_style(tmp_path, epochs=1, mirror_checkpoints=False)
    assert not (run_dir / "checkpoints").exists()
    assert any((tmp_path / "local" / run_dir.name).glob("checkpoint-*"))


def train_notebook_style(tmp_path, **changes):
    """A smoke run trained the way notebook 01 does it, on "Drive" with checkpoints on "local disk"."""
    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path / "drive"), checkpoint_dir=str(tmp_path / "local"),
                                 **changes)
    run_dir = ab.lab.prepare_run_dir(config)
    tokenizer = ab.load_tokenizer(config.model)
    tokenized = ab.tokenize_dataset(ab.load_agnews(config), tokenizer, config.max_length)
    transformers.set_seed(config.seed)
    trainer = ab.training.build_trainer(config, ab.load_model(config), tokenizer, tokenized, run_dir)
    with ab.lab.saving_on_stop(trainer, config, run_dir):
        trainer.train()
    return config, run_dir, trainer


def test_the_mirror_keeps_only_the_newest_and_the_best_copy(tmp_path):
    from types import SimpleNamespace

    local, mirror_dir = tmp_path / "local", tmp_path / "drive" / "checkpoints"
    mirror = checkpoints.CheckpointMirror(mirror_dir)
    sizes = {}
    for step in (10, 20, 30):  # epoch 1 stays the best; epochs 2 and 3 are worse
        checkpoint = local / f"checkpoint-{step}"
        checkpoint.mkdir(parents=True)
        (checkpoint / "model.safetensors").write_bytes(b"w" * step)
        (checkpoint / "trainer_state.json").write_text("{}")
        sizes[step] = folder_bytes(checkpoint)
        state = SimpleNamespace(global_step=step, best_model_checkpoint=str(local / "checkpoint-10"),
                                is_world_process_zero=True)
        mirror.on_save(SimpleNamespace(output_dir=str(local)), state, None)
    assert sorted(path.name for path in mirror_dir.iterdir()) == ["checkpoint-10", "checkpoint-30"]
    assert mirror.bytes_written == sum(sizes.values())  # each checkpoint copied once
    assert (mirror_dir / "checkpoint-30" / checkpoints.MIRROR_MARKER).read_text().strip() == "30"
