import ast
import copy
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers

import agnews_bert as ab
from conftest import out_of_memory_above
from agnews_bert.lab.folders import read_index


def test_smoke_run_learns_the_sample(smoke_run):
    assert smoke_run["test"]["accuracy"] >= 0.9
    assert smoke_run["test"]["macro_f1"] >= 0.9
    assert smoke_run["test"]["rows"] == 160
    assert sum(map(sum, smoke_run["test"]["confusion_matrix"])) == 160


def test_smoke_run_folder_holds_model_config_and_results(smoke_run):
    run_dir = Path(smoke_run["run_dir"])
    results = json.loads((run_dir / "results.json").read_text())
    assert results["test"]["accuracy"] == smoke_run["test"]["accuracy"]
    assert {"accuracy", "macro_f1"} <= set(results["validation"])
    assert results["versions"]["transformers"]
    assert ab.RunConfig.from_json((run_dir / "config.json").read_text()) == ab.RunConfig.from_preset(
        "smoke", output_dir=str(run_dir.parent)
    )
    assert (run_dir / "model" / "model.safetensors").exists()
    assert not (run_dir / "checkpoints").exists()


def test_best_epoch_is_chosen_on_validation(smoke_run):
    epoch_scores = [row["eval_macro_f1"] for row in smoke_run["log_history"] if "eval_macro_f1" in row]
    assert len(epoch_scores) == 6
    assert smoke_run["validation"]["macro_f1"] == pytest.approx(max(epoch_scores))
    assert not any(key.startswith("test_") for row in smoke_run["log_history"] for key in row)


def test_the_validation_scores_are_the_trainers_record_of_the_kept_epoch(smoke_run):
    """Not a second scoring pass: the log_history row of the first epoch with the best macro-F1, as logged."""
    rows = [row for row in smoke_run["log_history"] if "eval_macro_f1" in row]
    kept = next(row for row in rows if row["eval_macro_f1"] == max(r["eval_macro_f1"] for r in rows))
    assert smoke_run["validation"] == {"epoch": kept["epoch"], **{key.removeprefix("eval_"): value
                                                                  for key, value in kept.items() if key.startswith("eval_")}}


def test_validation_is_scored_by_the_trainer_during_training_and_once_for_calibration(watched_run):
    _, _, _ = watched_run
    validation_passes = [call for call in WATCHED_SCORES if call["kwargs"]["metric_key_prefix"] == "validation"]
    assert len(validation_passes) == 1  # the temperature fit's logits; the reported scores are the Trainer's


def test_only_the_main_process_reports_progress(tmp_path, monkeypatch):
    """A worker of a multi-GPU run logs warnings only, for the run; afterwards the level is back."""
    from agnews_bert import training

    package_log = logging.getLogger("agnews_bert")
    levels = []

    def refuse(config):
        levels.append(package_log.getEffectiveLevel())
        raise ab.AgNewsError("stop here")

    monkeypatch.setattr(training, "refuse_finished_run", refuse)
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(ab.AgNewsError, match="stop here"):
        ab.train(ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path)))
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(ab.AgNewsError, match="stop here"):
        ab.train(ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path)))
    assert levels == [logging.WARNING, logging.INFO] and package_log.level == logging.INFO


def test_finished_run_is_indexed_and_not_overwritten(smoke_run):
    run_dir = Path(smoke_run["run_dir"])
    assert [row["run_name"] for row in read_index(run_dir.parent)] == [run_dir.name]
    before = (run_dir / "results.json").read_bytes()
    with pytest.raises(ab.AgNewsError, match="already holds a finished run with these settings; pass overwrite=True"):
        ab.train(ab.RunConfig.from_preset("smoke", output_dir=str(run_dir.parent)))
    assert (run_dir / "results.json").read_bytes() == before


def test_training_arguments_follow_the_config(tmp_path):
    config = ab.RunConfig.from_preset("smoke", batch_size=8, epochs=2, lr=1e-3, warmup_ratio=0.2)
    arguments = ab.build_training_args(config, tmp_path, train_rows=400, hardware=ab.hardware.Hardware("cpu", "CPU"))
    assert arguments.per_device_train_batch_size == 8
    assert arguments.per_device_eval_batch_size == 32
    assert arguments.learning_rate == 1e-3
    assert arguments.metric_for_best_model == "macro_f1" and arguments.load_best_model_at_end
    assert arguments.save_total_limit == 2
    assert not arguments.fp16 and not arguments.bf16
    assert arguments.get_warmup_steps(100) == 20
    assert arguments.logging_steps == 5  # 100 steps over the run, 20 log points


def _spy(monkeypatch, module, name, calls):
    """Wrap module.name so that each call's arguments and result are kept in `calls`."""
    real = getattr(module, name)

    def spy(*args, **kwargs):
        snapshot = copy.deepcopy(args[3]) if name == "save_run" else None
        result = real(*args, **kwargs)
        calls.append({"args": args, "kwargs": kwargs, "result": result, "given": snapshot})
        return result

    monkeypatch.setattr(module, name, spy)


WATCHED_SCORES = []  # every `score` call of the watched run


@pytest.fixture(scope="module")
def watched_run(tmp_path_factory):
    """A smoke run trained with spies on the test pass and on save_run."""
    from agnews_bert import scoring, training

    monkeypatch = pytest.MonkeyPatch()
    scores, saves = [], []
    _spy(monkeypatch, scoring, "score", scores)
    _spy(monkeypatch, training, "save_run", saves)
    output_dir = tmp_path_factory.mktemp("watched")
    try:
        results = ab.train(ab.RunConfig.from_preset("smoke", output_dir=str(output_dir), epochs=3))
    finally:
        monkeypatch.undo()
    WATCHED_SCORES[:] = scores
    test_pass = next(call for call in scores if call["kwargs"]["metric_key_prefix"] == "test")
    return results, test_pass, saves[0]


def test_evaluate_command_rescores_the_saved_model_to_the_same_numbers(watched_run, capsys):
    from agnews_bert.cli import main

    results, _, _ = watched_run
    assert main(["evaluate", results["run_dir"], "--json"]) == 0
    rescored = json.loads(capsys.readouterr().out)
    saved = json.loads((Path(results["run_dir"]) / "results.json").read_text())["test"]
    assert rescored["accuracy"] == saved["accuracy"]
    assert rescored["macro_f1"] == saved["macro_f1"]
    assert rescored["confusion_matrix"] == saved["confusion_matrix"]
    assert rescored["rows"] == saved["rows"] == 160


def test_predict_gives_the_test_pass_probabilities(watched_run):
    from agnews_bert.calibration import scaled_probabilities as softmax

    results, test_pass, _ = watched_run
    test = ab.load_agnews(ab.RunConfig.from_preset("smoke"))["test"]
    expected = softmax(test_pass["result"].predictions)
    rows = ab.predict(test["text"], results["run_dir"])
    got = np.array([[row["probabilities"][name] for name in ab.CLASS_NAMES] for row in rows])
    assert got.shape == expected.shape == (160, 4)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert [row["label_id"] for row in rows] == list(expected.argmax(axis=1))


def test_save_run_returns_new_results_and_leaves_its_argument_alone(watched_run):
    results, _, save = watched_run
    given = save["args"][3]
    assert given == save["given"] and "run_dir" not in given and "versions" not in given
    assert save["result"] is not given and save["result"]["run_dir"] == results["run_dir"]


def test_an_out_of_memory_retry_is_recorded_alike_in_config_results_and_index(tmp_path, monkeypatch):
    monkeypatch.setattr(transformers.Trainer, "training_step", out_of_memory_above(16))
    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path), epochs=2)
    results = ab.train(config)
    run_dir = Path(results["run_dir"])
    saved_config = json.loads((run_dir / "config.json").read_text())
    saved_results = json.loads((run_dir / "results.json").read_text())
    [index_row] = read_index(tmp_path)
    trained_with = (16, 2)
    assert (saved_config["batch_size"], saved_config["gradient_accumulation_steps"]) == trained_with
    assert (saved_results["batch"]["per_device"], saved_results["batch"]["gradient_accumulation_steps"]) == trained_with
    assert (index_row["batch_size"], index_row["gradient_accumulation_steps"]) == trained_with
    assert run_dir.name == config.resolved_run_name  # the folder the first try made, named in config.json too
    assert ab.RunConfig.from_json((run_dir / "config.json").read_text()).resolved_run_name == run_dir.name


def _subclasses_of_a_trainer(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(ast.unparse(base).endswith("Trainer") for base in node.bases):
            yield node


def test_no_private_trainer_method_is_overridden():
    package = Path(ab.__file__).parent
    overridden = []
    for module in package.rglob("*.py"):
        source = module.read_text(encoding="utf-8")
        assert "_get_eval_sampler" not in source, module.name
        for cls in _subclasses_of_a_trainer(ast.parse(source)):
            overridden += [f"{module.name}:{cls.name}.{f.name}" for f in cls.body
                           if isinstance(f, ast.FunctionDef) and f.name.startswith("_") and f.name != "__init__"]
    assert overridden == []


def _smoke_decisions(source: str) -> list:
    """Comparisons with "smoke" (the word, or the SMOKE constant) in a module's code."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
            if any(isinstance(p, ast.Constant) and p.value == "smoke" or ast.unparse(p) == "SMOKE" for p in parts):
                found.append(ast.unparse(node))
    return found


PIPELINE_MODULES = ["data.py", "readers.py", "tokenization.py", "collate.py", "modeling.py", "training.py",
                    "prediction.py", "scoring.py", "lab/saving.py", "hardware.py", "cli.py"]


def test_smoke_is_decided_in_smoke_py_alone():
    package = Path(ab.__file__).parent
    assert _smoke_decisions((package / "smoke.py").read_text()) != []  # the check can see a decision
    for name in PIPELINE_MODULES:
        assert _smoke_decisions((package / name).read_text(encoding="utf-8")) == [], name


def _package_imports() -> dict:
    """{module: the agnews_bert modules it imports}, from every import statement (those inside functions too)."""
    package = Path(ab.__file__).parent
    graph = {}
    for path in package.rglob("*.py"):
        parts = ["agnews_bert", *path.relative_to(package).with_suffix("").parts]
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        here = parts[:-1]  # the package a relative import starts from
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(here[:len(here) - node.level + 1] + ([node.module] if node.module else [])) \
                    if node.level else node.module
                imported |= {base} | {f"{base}.{alias.name}" for alias in node.names}
        graph[name] = {module for module in imported if module.startswith("agnews_bert")}
    return graph


def test_scoring_sits_below_training_and_only_the_cli_lab_and_notebooks_import_training():
    graph = _package_imports()
    assert "agnews_bert.training" in graph["agnews_bert.cli"]  # the check sees a real import
    reached, waiting = set(), ["agnews_bert.scoring"]
    while waiting:  # everything scoring imports, directly or through other modules
        module = waiting.pop()
        for imported in graph.get(module, ()):
            if imported not in reached:
                reached.add(imported)
                waiting.append(imported)
    assert "agnews_bert.training" not in reached
    importers = {module for module, imported in graph.items() if "agnews_bert.training" in imported}
    assert {module for module in importers if module != "agnews_bert.cli"
            and not module.startswith(("agnews_bert.lab.", "agnews_bert.notebook."))} == set()


def test_get_last_checkpoint_falls_short_on_a_cut_off_checkpoint(tmp_path):
    """Why checkpoints.latest_checkpoint walks the folders itself."""
    from safetensors.torch import save_file
    from transformers.trainer_utils import get_last_checkpoint

    from agnews_bert.lab.checkpoints import latest_checkpoint

    for step in (13, 26):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
        save_file({"weight": torch.ones(64)}, str(folder / "model.safetensors"))
        torch.save({"state": {}}, folder / "optimizer.pt")
    cut = tmp_path / "checkpoint-26" / "model.safetensors"
    cut.write_bytes(cut.read_bytes()[:-10])
    assert Path(get_last_checkpoint(str(tmp_path))).name == "checkpoint-26"
    assert latest_checkpoint(tmp_path, remove_broken=False).name == "checkpoint-13"
