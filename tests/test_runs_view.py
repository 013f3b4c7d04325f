"""The runs view: what a student compares runs with (notebooks 01 and 03, `agnews-bert runs`)."""

import json
import subprocess
from pathlib import Path

import agnews_bert as ab
from agnews_bert.lab.folders import read_index

LONGEST_MODEL = "google/bert_uncased_L-4_H-256_A-4"  # the form's longest run names


def write_three_runs(output_dir: Path, smoke_run) -> list:
    """Three index rows as training writes them, differing in batch size, max length, warm-up and seed."""
    real = read_index(Path(smoke_run["run_dir"]).parent)[0]
    changes = [dict(), dict(batch_size=16, max_length=128, seed=7), dict(warmup_ratio=0.0, test_macro_f1=0.4321)]
    rows = []
    for number, change in enumerate(changes):
        config = ab.RunConfig.from_preset("cpu", **{key: value for key, value in change.items() if key != "test_macro_f1"})
        rows.append({**real, "model": LONGEST_MODEL, **change, "epochs": float(config.epochs),
                     "run_name": config.resolved_run_name, "test_macro_f1": change.get("test_macro_f1", 0.9 - number / 10)})
    output_dir.mkdir()
    (output_dir / "runs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return rows


def test_the_command_shows_name_and_test_f1_early_and_only_the_settings_that_differ(tmp_path, smoke_run):
    rows = write_three_runs(tmp_path / "runs", smoke_run)
    listed = subprocess.run(["agnews-bert", "runs", "--output-dir", str(tmp_path / "runs")], capture_output=True,
                            text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    header, *lines, footer = listed.stdout.splitlines()
    assert header.split() == ["run_name", "test_macro_f1", "test_accuracy", "validation_macro_f1", "batch_size",
                              "max_length", "warmup_ratio", "seed"]  # model, lr, epochs, rows: the same in all three
    best_first = sorted(rows, key=lambda row: -row["test_macro_f1"])
    for line, row in zip(lines, best_first, strict=True):
        assert line.startswith(row["run_name"]) and f"{row['test_macro_f1']:.4f}" in line[:100], line
    assert "  6.0" not in listed.stdout and " 16 " in lines[1] + " "  # whole numbers as whole numbers
    assert "every column: ab.lab.runs_table(output_dir)" in footer


def test_in_a_notebook_the_view_keeps_whole_names_and_the_table_keeps_every_column(tmp_path, smoke_run):
    rows = write_three_runs(tmp_path / "runs", smoke_run)
    view = ab.notebook.runs_view(tmp_path / "runs")
    for line, row in zip(repr(view).splitlines()[1:], sorted(rows, key=lambda row: -row["test_macro_f1"])):
        assert row["run_name"] in line[:100] and f"{row['test_macro_f1']:.4g}" in line[:100], line
    assert "..." not in view._repr_html_() and str(view["seed"].dtype) == "Int64"
    assert len(ab.lab.runs_table(tmp_path / "runs").columns) > len(view.columns) + 10


def test_one_run_is_shown_with_its_main_settings(smoke_run):
    view = ab.notebook.runs_view(Path(smoke_run["run_dir"]).parent)
    assert list(view.columns) == ["run_name", "test_macro_f1", "test_accuracy", "validation_macro_f1", "model",
                                  "train_rows", "epochs", "lr"]
    assert (view["epochs"][0], view["lr"][0]) == (6, "3e-3")
