import json
from pathlib import Path

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import agnews_bert as ab
from agnews_bert.notebook.plots import PLOT_FILES, row_shares

REPORT = {
    "accuracy": 0.75,
    "macro_f1": 0.74,
    "confusion_matrix": [[8, 1, 1, 0], [0, 10, 0, 0], [1, 0, 6, 3], [0, 0, 4, 6]],
    "class_names": ["World", "Sports", "Business", "Sci/Tech"],
    "per_class": {
        "World": {"precision": 0.89, "recall": 0.8, "f1": 0.84, "support": 10},
        "Sports": {"precision": 0.91, "recall": 1.0, "f1": 0.95, "support": 10},
        "Business": {"precision": 0.55, "recall": 0.6, "f1": 0.57, "support": 10},
        "Sci/Tech": {"precision": 0.67, "recall": 0.6, "f1": 0.63, "support": 10},
    },
}


def test_smoke_run_saves_its_plots_as_png_files_that_decode(smoke_run):
    run_dir = Path(smoke_run["run_dir"])
    assert json.loads((run_dir / "results.json").read_text())["plots"] == list(PLOT_FILES.values())
    for name in PLOT_FILES.values():
        image = matplotlib.image.imread(run_dir / name)
        height, width = image.shape[:2]
        assert height > 300 and width > 600, name
        assert image[..., :3].std() > 0.05, f"{name} is blank"


def test_confusion_matrix_shows_the_test_counts_and_row_shares(smoke_run):
    report = smoke_run["test"]
    figure = ab.notebook.plot_confusion_matrix(report)
    counts_axes, shares_axes = figure.axes[:2]
    counts = [int(text.get_text()) for text in counts_axes.texts]
    assert sum(counts) == report["rows"] == smoke_run["data"]["test"]["rows"]
    assert counts == [count for row in report["confusion_matrix"] for count in row]
    shares = np.array([float(text.get_text()) for text in shares_axes.texts]).reshape(4, 4)
    assert shares.sum(axis=1) == pytest.approx([1, 1, 1, 1], abs=0.02)
    assert [label.get_text() for label in counts_axes.get_yticklabels()] == ["World", "Sports", "Business", "Sci/Tech"]


def test_row_shares_divides_each_row_by_its_total():
    assert row_shares([[3, 1], [0, 0]]).tolist() == [[0.75, 0.25], [0.0, 0.0]]


def test_learning_curves_plot_every_logged_loss_and_each_epoch(smoke_run):
    history = smoke_run["log_history"]
    figure = ab.notebook.plot_learning_curves(history)
    loss_axes, score_axes = figure.axes
    lines = {line.get_label(): line for axes in (loss_axes, score_axes) for line in axes.get_lines()}
    training = lines["training loss (per logging step)"]
    assert list(training.get_ydata()) == [row["loss"] for row in history if "loss" in row]
    assert len(lines["validation loss (per epoch)"].get_xdata()) == 6  # the smoke preset's 6 epochs
    assert list(lines["validation macro-F1"].get_ydata()) == [row["eval_macro_f1"] for row in history
                                                             if "eval_macro_f1" in row]
    best = next(label for label in lines if label.startswith("best epoch"))
    assert f"{smoke_run['validation']['macro_f1']:.3f}" in best


def test_learning_curves_need_a_logged_loss():
    with pytest.raises(ab.AgNewsError, match="holds no training or validation losses"):
        ab.notebook.plot_learning_curves([{"epoch": 1.0, "train_runtime": 3.0}])


def test_per_class_bars_are_the_report_scores():
    figure = ab.notebook.plot_per_class(REPORT)
    axes = figure.axes[0]
    heights = [[bar.get_height() for bar in bars] for bars in axes.containers]
    assert heights == [[REPORT["per_class"][name][metric] for name in REPORT["class_names"]]
                       for metric in ("precision", "recall", "f1")]
    assert [label.get_text() for label in axes.get_xticklabels()] == REPORT["class_names"]


def test_comparison_draws_one_panel_per_measured_metric():
    table = pd.DataFrame({
        "model": ["answerdotai/ModernBERT-base", "bert-base-uncased", "TF-IDF + logistic regression"],
        "test_accuracy": [0.94, 0.93, 0.90],
        "test_macro_f1": [0.94, 0.92, 0.89],
        "train_seconds": [600.0, 420.0, 12.5],
        "train_samples_per_second": [40.0, 57.1, None],
        "peak_gpu_memory_gb": [None, None, None],  # a CPU run: nothing to draw
    })
    figure = ab.notebook.plot_comparison(table)
    titles = [axes.get_title() for axes in figure.axes]
    assert titles == ["test macro-F1", "test accuracy", "training time (s)", "training rows per second"]
    macro_f1_axes = figure.axes[0]
    assert [bar.get_height() for bar in macro_f1_axes.containers[0]] == [0.94, 0.92, 0.89]
    assert [label.get_text() for label in macro_f1_axes.get_xticklabels()] == [
        "ModernBERT-base", "bert-base-uncased", "TF-IDF + logistic regression"]
    with pytest.raises(ab.AgNewsError, match="nothing to compare"):
        ab.notebook.plot_comparison(table[["model"]])


def test_plots_leave_no_figure_open_in_pyplot():
    before = plt.get_fignums()
    ab.notebook.plot_per_class(REPORT)
    ab.notebook.plot_confusion_matrix(REPORT)
    assert plt.get_fignums() == before  # so a notebook draws each returned figure once, not twice


def test_a_returned_figure_is_drawn_once_in_a_notebook():
    """The inline backend shows figures left open in pyplot; ours are closed and shown as the cell's value."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        code = f"import agnews_bert.notebook.plots as plots\nplots.plot_per_class({REPORT!r})"
        outputs = run_in_kernel(client, code)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    errors = [output for output in outputs if output["msg_type"] == "error"]
    assert not errors, errors[0]["content"]["traceback"] if errors else None
    images = [output for output in outputs if "image/png" in output["content"].get("data", {})]
    assert len(images) == 1


def run_in_kernel(client, code: str) -> list:
    """Execute code and return its iopub output messages (results, displays, errors)."""
    message_id = client.execute(code)
    outputs = []
    while True:
        message = client.get_iopub_msg(timeout=120)
        if message["parent_header"].get("msg_id") != message_id:
            continue
        if message["msg_type"] in ("execute_result", "display_data", "error", "stream"):
            outputs.append({"msg_type": message["msg_type"], "content": message["content"]})
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return outputs


def test_training_loss_of_several_runs_on_one_axes_with_the_guessing_line():
    runs = {"lr 1e-3": [{"epoch": 0.5, "loss": 1.4}, {"epoch": 1.0, "loss": 1.39}, {"epoch": 1.0, "eval_loss": 1.4}],
            "lr 5e-5": [{"epoch": 0.5, "loss": 0.9}, {"epoch": 1.0, "loss": 0.4}]}
    axes = ab.notebook.plot_training_loss(runs).axes[0]
    lines = {line.get_label(): line for line in axes.lines}
    assert list(lines["lr 5e-5"].get_ydata()) == [0.9, 0.4]
    assert list(lines["lr 1e-3"].get_xdata()) == [0.5, 1.0]  # the validation row is not a training loss
    assert lines["ln 4 = 1.39 (guessing)"].get_ydata()[0] == pytest.approx(np.log(4))
    with pytest.raises(ab.AgNewsError, match="train for at least one epoch"):
        ab.notebook.plot_training_loss({"empty": [{"epoch": 1.0, "eval_loss": 1.0}]})
