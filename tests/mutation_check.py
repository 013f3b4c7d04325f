"""The mutation check: break the library in realistic ways, one at a time, and see the tests catch each.

Each mutant is one small, plausible bug (a snippet of a library file replaced by
another) and the few tests that should catch it. The check copies the working
tree to a temporary folder once, and for each mutant edits the copy, runs only
its tests there, and puts the file back. The heavy libraries (torch,
transformers, datasets, ...) are imported once, with the tests' offline settings,
and each mutant's pytest runs in a forked child that imports agnews_bert afresh
from the copy: that saves some 10 seconds of imports per mutant. Before the
mutants, the same tests run once unmutated the same way (the baseline): a test
that fails there would make every mutant look caught. A mutant is *caught* when pytest reports a failing test (exit status 1),
*survived* when its tests pass, and an *error* when the snippet is no longer in
the file or pytest cannot run (the list went stale: fix the entry). A mutant
that cannot change behaviour is listed under EQUIVALENT with the reason, and is
not run.

    python3 tests/mutation_check.py               # every mutant: 19 minutes on 2 shared CPU cores (7 of CPU time)
    python3 tests/mutation_check.py --only oom    # the mutants whose name contains "oom"
    python3 tests/mutation_check.py --list        # the mutants and their tests, without running

It exits 1 if any mutant survived or went stale. Adding a mutant is one entry in
MUTANTS: (name, file, original snippet, mutant snippet, tests, why it matters).

Why not mutmut or cosmic-ray: both generate hundreds of mechanical mutants
(operator swaps, constants) and run a test command chosen per session, not per
mutant: mutmut 3 first runs the whole suite (about 7 minutes here) and most of
its mutants sit in messages and docstrings; cosmic-ray runs one command for
every mutant. Here each mutant is a bug a student or a maintainer could really
write, run against the tests that name the invariant it breaks, which keeps the
whole check well under 30 minutes on a 2-core machine.
"""

import argparse
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
INVARIANTS = "tests/test_invariants.py"


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    original: str
    mutant: str
    tests: list = field(default_factory=list)
    why: str = ""


def invariant(test_name: str) -> str:
    return f"{INVARIANTS}::{test_name}"


# A held lock, a killed holder's lock taken over, the same kernel asking twice, the owner note removed.
LOCK_TESTS = ["tests/test_runs.py::test_a_notebook_meets_a_held_lock_with_a_message_and_takes_over_once_its_holder_is_killed"]

MUTANTS = [
    # --- splits and identity -------------------------------------------------------------------
    Mutant("splits: validation not stratified", "agnews_bert/data.py",
           'rows.train_test_split(test_size=int(count), stratify_by_column="label", seed=seed)',
           "rows.train_test_split(test_size=int(count), seed=seed)",
           [invariant("test_splits_keep_each_class_share_and_never_train_on_a_test_text")],
           "a 5 % class can vanish from validation, and per-epoch macro-F1 then lies"),
    Mutant("splits: training rows seen in test are kept", "agnews_bert/data.py",
           "    pool = _drop_texts_seen_in(pool, test)\n", "",
           ["tests/test_data.py::test_no_test_text_in_train_or_validation"],
           "a duplicate leaks the test answer into training"),
    Mutant("splits: validation taken from the test split", "agnews_bert/data.py",
           "validation, rest = stratified_take(pool, validation_size, seed, \"validation_size\")",
           "validation, _ = stratified_take(test, validation_size, seed, \"validation_size\"); rest = pool",
           [invariant("test_splits_keep_each_class_share_and_never_train_on_a_test_text")],
           "picking the best epoch on test rows makes the test score optimistic"),
    Mutant("identity: lr=None differs from the family default", "agnews_bert/config.py",
           '        values["lr"] = self.learning_rate  # lr=None and the family default train the same way\n', "",
           [invariant("test_identity_and_index_treat_lr_none_as_the_family_default_of_every_preset")],
           "the same run gets two folders, and an unfinished one is never resumed"),
    Mutant("identity: seed counted as bookkeeping", "agnews_bert/config.py",
           'BOOKKEEPING_FIELDS = ("output_dir",', 'BOOKKEEPING_FIELDS = ("seed", "output_dir",',
           ["tests/test_runs.py::test_every_result_affecting_setting_gets_its_own_run_folder"],
           "two seeds would share one run folder and one finished result"),
    Mutant("identity: 2 and 2.0 are different settings", "agnews_bert/config.py",
           'return f"{float(value):.10g}"', "return str(value)",
           ["tests/test_runs.py::test_bookkeeping_settings_and_equal_numbers_keep_the_run_folder"],
           "epochs=2 from the CLI and 2.0 from the form would train twice"),
    # --- metrics and the report ------------------------------------------------------------------
    Mutant("metrics: labels= left out", "agnews_bert/metrics.py",
           "labels, predictions, labels=ALL_LABELS, zero_division=0", "labels, predictions, zero_division=0",
           [invariant("test_macro_f1_counts_a_class_absent_from_both_predictions_and_labels")],
           "a class missing from a small split drops out of the mean"),
    Mutant("report: macro-F1 weighted by support", "agnews_bert/metrics.py",
           '"macro_f1": float(f1.mean()),', '"macro_f1": float(np.average(f1, weights=support)),',
           [invariant("test_macro_f1_is_the_mean_over_all_four_classes_never_the_weighted_mean")],
           "results.json's test macro-F1 would be a weighted F1"),
    Mutant("report: confusion matrix transposed", "agnews_bert/metrics.py",
           "confusion_matrix(labels, predictions, labels=ALL_LABELS)",
           "confusion_matrix(predictions, labels, labels=ALL_LABELS)",
           [invariant("test_macro_f1_is_the_mean_over_all_four_classes_never_the_weighted_mean")],
           "rows would be predictions: the confused pairs read backwards"),
    # --- scoring order and truncation -------------------------------------------------------------
    Mutant("scoring: logits left in length order", "agnews_bert/scoring.py",
           "    in_order[order] = logits\n", "    in_order[:] = logits\n",
           [invariant("test_score_returns_logits_in_the_rows_order")],
           "each text would get another text's prediction"),
    Mutant("scoring: logits put back with the wrong permutation", "agnews_bert/scoring.py",
           "    in_order[order] = logits\n", "    in_order = logits[order]\n",
           [invariant("test_score_returns_logits_in_the_rows_order")],
           "argsort applied twice: right only when the rows are already sorted"),
    Mutant("truncation: predict ignores the run's max_length", "agnews_bert/prediction.py",
           "tokenize_texts(texts, run.tokenizer, max_length or run.max_length)",
           "tokenize_texts(texts, run.tokenizer, max_length or 128)",
           [invariant("test_texts_are_cut_to_the_run_max_length_in_training_and_in_predict")],
           "long texts are scored on tokens the model never saw in training"),
    Mutant("truncation: the end of a text kept instead of its start", "agnews_bert/tokenization.py",
           "backend.enable_truncation(max_length, direction=side)",
           'backend.enable_truncation(max_length, direction="left")',
           [invariant("test_texts_are_cut_to_the_run_max_length_in_training_and_in_predict")],
           "the title, AG News's most telling words, is cut off"),
    # --- checkpoints and resume -------------------------------------------------------------------
    Mutant("checkpoints: newest by name, not by step", "agnews_bert/lab/checkpoints.py",
           "sorted(_checkpoint_folders(Path(checkpoints_dir)), key=checkpoint_step, reverse=True)",
           "sorted(_checkpoint_folders(Path(checkpoints_dir)), key=lambda path: path.name, reverse=True)",
           [invariant("test_the_newest_checkpoint_is_the_highest_step_not_the_last_name"),
            invariant("test_a_resumed_run_continues_from_its_newest_checkpoint_and_evaluates_each_epoch_once")],
           "checkpoint-84 sorts after checkpoint-168: a resume throws away an epoch"),
    Mutant("checkpoints: mirror restored by name", "agnews_bert/lab/checkpoints.py",
           "sorted(_mirrored_checkpoints(Path(mirror_dir)), key=checkpoint_step)",
           "sorted(_mirrored_checkpoints(Path(mirror_dir)), key=lambda path: path.name)",
           [invariant("test_the_newest_checkpoint_is_the_highest_step_not_the_last_name")],
           "a new Colab runtime resumes from an old checkpoint"),
    Mutant("checkpoints: a cut-off weights file passes", "agnews_bert/lab/checkpoints.py",
           "bool(weights) and all(map(_is_whole_file, weights + torch_files))", "bool(weights)",
           ["tests/test_resilience.py::test_truncated_checkpoint_is_skipped_and_removed"],
           "a kill mid-save leaves a checkpoint that crashes the resume"),
    Mutant("resume: the checkpoint found is not passed to train()", "agnews_bert/lab/checkpoints.py",
           "trainer.train(resume_from_checkpoint=checkpoint)", "trainer.train()",
           [invariant("test_a_resumed_run_continues_from_its_newest_checkpoint_and_evaluates_each_epoch_once")],
           "a rerun after a disconnect silently starts over"),
    Mutant("resume: the Drive mirror keeps only the newest copy", "agnews_bert/lab/checkpoints.py",
           "keep = {newest.name, Path(state.best_model_checkpoint or newest).name}", "keep = {newest.name}",
           ["tests/test_drive.py::test_the_mirror_keeps_only_the_newest_and_the_best_copy"],
           "after a new runtime the best epoch is gone"),
    # --- the OOM retry ----------------------------------------------------------------------------
    Mutant("oom: accumulation set to 2 instead of doubled", "agnews_bert/lab/resilience.py",
           "gradient_accumulation_steps=config.gradient_accumulation_steps * 2,", "gradient_accumulation_steps=2,",
           [invariant("test_two_out_of_memory_halvings_keep_the_effective_batch_and_record_what_ran")],
           "right from accumulation 1 only: a second halving halves the effective batch"),
    Mutant("oom: accumulation not raised", "agnews_bert/lab/resilience.py",
           "gradient_accumulation_steps=config.gradient_accumulation_steps * 2,",
           "gradient_accumulation_steps=config.gradient_accumulation_steps,",
           [invariant("test_two_out_of_memory_halvings_keep_the_effective_batch_and_record_what_ran")],
           "the effective batch, and so the learning dynamics, change after a retry"),
    Mutant("oom: evaluation batch not halved", "agnews_bert/lab/resilience.py",
           "eval_batch_size=max(1, config.per_device_eval_batch_size // 2),",
           "eval_batch_size=config.eval_batch_size,",
           [invariant("test_two_out_of_memory_halvings_keep_the_effective_batch_and_record_what_ran")],
           "evaluation at 4x the new batch runs out of memory at the end of the epoch"),
    Mutant("oom: the config that trained is not returned", "agnews_bert/training.py",
           "trainer, train_output, checkpoint, config = fit(", "trainer, train_output, checkpoint, _ = fit(",
           [invariant("test_two_out_of_memory_halvings_keep_the_effective_batch_and_record_what_ran")],
           "config.json and the index record a batch that never trained"),
    # --- precision --------------------------------------------------------------------------------
    Mutant("precision: score never uses fp16", "agnews_bert/scoring.py",
           'fp16=precision == "fp16", use_cpu=device == "cpu",', 'fp16=False, use_cpu=device == "cpu",',
           [invariant("test_score_builds_the_16_bit_arguments_it_is_given_on_a_gpu")],
           "on a T4 scoring runs in fp32: slower, and other numbers than training's"),
    Mutant("precision: the test pass scores in fp32", "agnews_bert/scoring.py",
           "batch_size=arguments.per_device_eval_batch_size, precision=precision_of(arguments),",
           'batch_size=arguments.per_device_eval_batch_size, precision="fp32",',
           [invariant("test_the_test_pass_scores_in_the_trainers_precision")],
           "results.json's test metrics come from another precision than `evaluate` uses"),
    Mutant("precision: a saved run is rescored in fp32 on a GPU", "agnews_bert/scoring.py",
           'return choose_precision(self.config.precision, self.hardware) if self.config else "fp32"',
           'return "fp32"',
           [invariant("test_a_run_is_rescored_in_its_training_precision_on_a_gpu")],
           "`agnews-bert evaluate` on a T4 no longer reproduces results.json"),
    Mutant("precision: bf16 from compute capability 9.0", "agnews_bert/hardware.py",
           "BF16_MIN_CAPABILITY = (8, 0)", "BF16_MIN_CAPABILITY = (9, 0)",
           [invariant("test_training_arguments_carry_the_precision_chosen_for_each_gpu")],
           "an A100 would train in fp16 and risk overflow"),
    Mutant("precision: no TF32 for bf16 runs", "agnews_bert/training.py",
           "    if precision == \"bf16\":\n        _compat.enable_tf32_matmuls()\n", "",
           [invariant("test_training_arguments_carry_the_precision_chosen_for_each_gpu")],
           "what stays in float32 on an A100 runs at a fraction of the speed"),
    Mutant("estimate: tokens per text changed", "agnews_bert/notebook/widgets.py",
           "AG_NEWS_TOKENS_PER_TEXT = 55", "AG_NEWS_TOKENS_PER_TEXT = 64",
           [invariant("test_run_length_estimate_is_pinned_for_the_t4_and_cpu_tables")],
           "the form's estimate, and the Drive-mirroring choice it drives, drift unnoticed"),
    Mutant("estimate: GPU step cost ignores epochs", "agnews_bert/notebook/widgets.py",
           "GPU_SECONDS_PER_STEP * train_rows * config.epochs / config.batch_size",
           "GPU_SECONDS_PER_STEP * train_rows / config.batch_size",
           [invariant("test_run_length_estimate_is_pinned_for_the_t4_and_cpu_tables")],
           "a 4-epoch T4 run is promised in half its time"),
    # --- training: the epoch kept, the test split ---------------------------------------------------
    Mutant("training: per-epoch evaluation on the test split", "agnews_bert/training.py",
           'eval_dataset=sorted_by_length(tokenized["validation"]),', 'eval_dataset=sorted_by_length(tokenized["test"]),',
           [invariant("test_the_test_split_is_never_scored_before_the_final_pass")],
           "the best epoch is picked on the test set"),
    Mutant("training: best epoch by accuracy", "agnews_bert/training.py",
           'metric_for_best_model="macro_f1",', 'metric_for_best_model="accuracy",',
           [invariant("test_the_epoch_kept_is_the_best_by_validation_macro_f1")],
           "on skewed data the kept epoch can be poor on the small classes"),
    Mutant("training: the worst epoch kept", "agnews_bert/training.py",
           'metric_for_best_model="macro_f1",', 'metric_for_best_model="macro_f1", greater_is_better=False,',
           [invariant("test_the_epoch_kept_is_the_best_by_validation_macro_f1")],
           "the saved model is the least good epoch"),
    Mutant("training: the last epoch kept", "agnews_bert/training.py",
           "load_best_model_at_end=True,", "load_best_model_at_end=False,",
           [invariant("test_the_epoch_kept_is_the_best_by_validation_macro_f1")],
           "an over-trained last epoch replaces the best one"),
    # --- the runs index ------------------------------------------------------------------------------
    Mutant("index: lr recorded as given (null for the default)", "agnews_bert/lab/saving.py",
           '"lr": config.learning_rate,', '"lr": config.lr,',
           [invariant("test_the_runs_index_row_equals_what_ran_lr_included")],
           "the runs table cannot compare learning rates of default runs"),
    Mutant("index: precision recorded as asked", "agnews_bert/lab/saving.py",
           '"precision": results["hardware"]["precision"],', '"precision": config.precision,',
           [invariant("test_the_runs_index_row_equals_what_ran_lr_included")],
           "'auto' instead of the fp16 or bf16 that ran"),
    Mutant("index: training rows recorded as asked", "agnews_bert/lab/saving.py",
           '"train_rows": results["data"]["train"]["rows"],', '"train_rows": config.train_size,',
           [invariant("test_the_runs_index_row_equals_what_ran_lr_included")],
           "'all rows' runs show no row count"),
    # --- the CLI's exit codes --------------------------------------------------------------------------
    Mutant("cli: a bad input exits 1", "agnews_bert/cli.py", "EXIT_USAGE = 2", "EXIT_USAGE = 1",
           ["tests/test_cli.py::test_evaluate_refuses_a_zero_batch_size"],
           "scripts cannot tell a bad input (2) from a crash (1)"),
    Mutant("cli: a stop that saved exits 0", "agnews_bert/cli.py",
           "        print(f\"agnews-bert: {message}\", file=sys.stderr)\n        return EXIT_INTERRUPTED",
           "        print(f\"agnews-bert: {message}\", file=sys.stderr)\n        return 0",
           ["tests/test_resilience.py::test_interrupt_saves_a_checkpoint_and_says_how_to_resume"],
           "a shell loop would take an interrupted run for a finished one"),
    # --- the run lock ---------------------------------------------------------------------------------
    Mutant("lock: never taken", "agnews_bert/lab/lock.py",
           "        lock.acquire()\n", "        pass  # lock.acquire()\n",
           LOCK_TESTS,
           "a second writer in the same folder wipes the first one's checkpoints and reports its scores"),
    Mutant("lock: a lock left by a killed run is taken over silently", "agnews_bert/lab/lock.py",
           "    if (left_behind := read_owner(run_dir)) is not None:", "    if False:",
           LOCK_TESTS,
           "the student is not told that an earlier run was cut off in this folder"),
    Mutant("lock: the same process is refused its own lock", "agnews_bert/lab/lock.py",
           "    if lock_file in _held:\n        return\n", "",
           LOCK_TESTS,
           "rerunning a notebook cell would be refused by the kernel's own earlier run"),
    Mutant("lock: the owner note outlives its run", "agnews_bert/lab/lock.py",
           "        lock_file_for(run_dir, OWNER).unlink(missing_ok=True)\n        lock.release()",
           "        lock.release()",
           LOCK_TESTS,
           "every later run in the folder would say it took over a killed run's lock"),
]

MUTANTS += [
    # --- early stopping, LoRA and the linear probe, sharing ------------------------------------------
    Mutant("stop: a stopped run trains on after a resume", "agnews_bert/lab/checkpoints.py",
           "    trainer.args.max_steps = checkpoint_step(checkpoint)", "    pass",
           ["tests/test_early_stopping.py::test_a_stopped_run_killed_before_its_results_resumes_without_training_further"],
           "a run killed between its stop and its results would train the epochs early stopping had ruled out"),
    Mutant("stop: the patience count restarts on resume", "agnews_bert/training.py",
           "restore_callback_states_from_checkpoint=config.early_stopping_patience is not None,",
           "restore_callback_states_from_checkpoint=False,",
           ["tests/test_early_stopping.py::test_an_interrupted_run_keeps_its_patience_count_across_the_resume"],
           "every Colab disconnect would give the run its whole patience back"),
    Mutant("identity: LoRA settings count for a full run", "agnews_bert/config.py",
           'if values[name] == default or (name in LORA_SETTINGS and self.method != "lora"):',
           "if values[name] == default:",
           ["tests/test_runs.py::test_settings_added_later_keep_the_names_of_older_runs_and_lora_settings_matter_only_for_lora"],
           "moving a LoRA control on a full run would train the same run again in a new folder"),
    Mutant("probe: the encoder is not frozen", "agnews_bert/methods.py",
           "        parameter.requires_grad = name.startswith(head)", "        parameter.requires_grad = True",
           ["tests/test_methods.py::test_trainable_parameters_probe_is_the_head_and_lora_is_fewer_than_full"],
           "the frozen baseline would be full fine-tuning under another name"),
    Mutant("lora: a saved LoRA run loads as a plain model", "agnews_bert/scoring.py",
           "    adapter = is_adapter_folder(model_dir)\n", "    adapter = False\n",
           ["tests/test_methods.py::test_a_finished_run_loads_into_the_trainer_as_notebook_01_does_when_run_again"],
           "Run all twice on a LoRA run would fail where it should load the finished run"),
    Mutant("push: the token in an error message", "agnews_bert/lab/sharing.py",
           '[:200].replace(token, "hf_***")', "[:200]",
           ["tests/test_model_card.py::test_push_console_script_fails_in_one_line_and_never_shows_or_writes_the_token"],
           "a Hub error that echoes the request would print the student's write token"),
]

# Mutants that cannot change behaviour, with the reason; listed, never run.
EQUIVALENT = [
    ("scoring: longest rows first", "agnews_bert/scoring.py",
     'order = np.argsort(lengths, kind="stable")', 'order = np.argsort(lengths, kind="stable")[::-1]',
     "only which rows share a batch changes; the logits are put back by the same permutation, so each text "
     "keeps its own scores (up to float rounding in padded batches)"),
    ("metrics: zero_division=0 left out in the report", "agnews_bert/metrics.py",
     "labels, predictions, labels=ALL_LABELS, zero_division=0", "labels, predictions, labels=ALL_LABELS",
     "scikit-learn's default ('warn') also scores an undefined F1 as 0; only a warning is added"),
]


def stale_entries(root: Path = ROOT) -> list:
    """Mutants and equivalents whose original snippet is not exactly once in its file (the code moved on)."""
    entries = [(mutant.name, mutant.file, mutant.original) for mutant in MUTANTS]
    entries += [(name, file, original) for name, file, original, _, _ in EQUIVALENT]
    return [f"{name}: {file} holds its snippet {(root / file).read_text(encoding='utf-8').count(original)} times"
            for name, file, original in entries
            if (root / file).read_text(encoding="utf-8").count(original) != 1]


PRELOADED = ("numpy", "torch", "transformers", "datasets", "sklearn.metrics", "tokenizers", "accelerate",
             "safetensors", "pytest", "hypothesis")


def preload_libraries(work: Path) -> None:
    """Import the heavy libraries once, after the environment tests/conftest.py sets (offline, a fresh HF home)."""
    for variable in [name for name in os.environ if name.startswith(("HF_", "HUGGINGFACE_", "TRANSFORMERS_"))]:
        del os.environ[variable]
    os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1",
                      HF_HOME=str(work / "hf_home"), TOKENIZERS_PARALLELISM="false", CI="1",
                      PYTHONDONTWRITEBYTECODE="1")
    for name in PRELOADED:
        importlib.import_module(name)


def copy_tree(root: Path, copy: Path) -> None:
    """Copy the files git tracks, and the untracked ones it does not ignore: the tree as a commit would hold it."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                            capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        if (root / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, copy / name)


def modules_from_elsewhere(copy: Path, already_imported: set) -> list:
    """agnews_bert modules imported since `already_imported` from outside the copy (say, the editable install)."""
    return [name for name, module in list(sys.modules.items())
            if name not in already_imported and name.split(".")[0] == "agnews_bert"
            and getattr(module, "__file__", None) and not Path(module.__file__).resolve().is_relative_to(copy.resolve())]


def pytest_arguments(tests: list) -> list:
    return ["-q", "-x", "-p", "no:cacheprovider", "-o", "addopts=", *tests]


def run_tests(copy: Path, tests: list) -> tuple:
    """(pytest's exit status, seconds, the last lines of its output) for tests in the copy, in a forked child."""
    log = copy.parent / "pytest.log"
    started = time.perf_counter()
    child = os.fork()
    if child == 0:  # the child: agnews_bert and the tests are imported from the copy, never from this tree
        status = 3
        try:
            output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(output, 1)
            os.dup2(output, 2)
            os.chdir(copy)
            sys.path[:] = [str(copy)] + [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
            # A test that runs `agnews-bert` or `python -m agnews_bert` in a new process must meet the copy too.
            inherited = [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
            os.environ["PYTHONPATH"] = os.pathsep.join([str(copy), *inherited])
            import pytest

            already_imported = set(sys.modules)
            status = int(pytest.main(pytest_arguments(tests)))
            strays = modules_from_elsewhere(copy, already_imported)
            if strays:  # the mutant may not have been under test at all
                print(f"imported from outside the copy: {', '.join(strays)}")
                status = 4
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    _, wait_status = os.waitpid(child, 0)
    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
    return os.waitstatus_to_exitcode(wait_status), time.perf_counter() - started, tail


def check_mutant(copy: Path, mutant: Mutant) -> tuple:
    """('caught' | 'survived' | 'error', seconds, detail): apply the mutant, run its tests, restore the file."""
    path = copy / mutant.file
    source = path.read_text(encoding="utf-8")
    if source.count(mutant.original) != 1:
        return "error", 0.0, [f"the original snippet occurs {source.count(mutant.original)} times in {mutant.file}"]
    path.write_text(source.replace(mutant.original, mutant.mutant), encoding="utf-8")
    try:
        status, seconds, tail = run_tests(copy, mutant.tests)
    finally:
        path.write_text(source, encoding="utf-8")
    verdict = {0: "survived", 1: "caught"}.get(status, "error")
    return verdict, seconds, tail


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the mutants whose name contains this text")
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests; run nothing")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run of all tests first")
    arguments = parser.parse_args(argv)
    chosen = [mutant for mutant in MUTANTS if not arguments.only or arguments.only in mutant.name]
    if arguments.list:
        for mutant in chosen:
            print(f"{mutant.name}\n    {mutant.file}: {mutant.why}\n    tests: {' '.join(mutant.tests)}")
        for name, file, _, _, reason in EQUIVALENT:
            print(f"{name} (equivalent)\n    {file}: {reason}")
        print("\n".join(stale_entries()) or f"{len(chosen)} mutants, every snippet found once")
        return 1 if stale_entries() else 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="agnews_bert_mutants_") as work:
        copy = Path(work) / "tree"
        copy_tree(ROOT, copy)
        preload_libraries(Path(work))
        if not arguments.no_baseline:
            tests = sorted({test for mutant in chosen for test in mutant.tests})
            status, seconds, tail = run_tests(copy, tests)
            print(f"baseline: {len(tests)} tests unmutated, exit status {status}, {seconds:.0f} s", flush=True)
            if status != 0:
                print("\n".join(tail) + "\nthe tests fail without any mutant; fix them first")
                return 1
        verdicts = []
        for number, mutant in enumerate(chosen, start=1):
            verdict, seconds, tail = check_mutant(copy, mutant)
            verdicts.append(verdict)
            print(f"{number:2d}/{len(chosen)} {verdict:8s} {seconds:5.0f} s  {mutant.name}", flush=True)
            if verdict != "caught":
                print("    " + "\n    ".join(tail), flush=True)
    for name, _, _, _, reason in EQUIVALENT:
        print(f"   equivalent        {name}: {reason}")
    counts = {kind: verdicts.count(kind) for kind in ("caught", "survived", "error")}
    print(f"{len(chosen)} mutants run: {counts['caught']} caught, {counts['survived']} survived, "
          f"{counts['error']} errors; {len(EQUIVALENT)} listed as equivalent; {time.perf_counter() - started:.0f} s")
    return 0 if counts["caught"] == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
