"""Plots of a run: learning curves, confusion matrix, per-class scores, and a comparison of runs.

Each `plot_*` function returns a matplotlib Figure. In a notebook, a Figure
returned as a cell's last value is drawn inline once (Colab and Jupyter both
register a PNG formatter for figures). The figure is closed in pyplot before it
is returned, so the inline backend does not draw it a second time and a loop
of plots does not pile up open figures. Nothing here calls `plt.show`, so the
same code runs on a headless machine (Agg) and in a terminal.

`plot_reliability` and `plot_embedding_map` draw notebook 04's calibration and
embedding map. `save_run_plots` writes the four plots of one run as PNG files into the run
folder; `save_run` calls it at the end of training.

Example:
    >>> figure = plot_confusion_matrix({"confusion_matrix": [[3, 1], [0, 4]], "class_names": ["World", "Sports"]})
    >>> [axes.get_title() for axes in figure.axes]
    ['Test counts (8 rows)', 'Share of each true class']
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ..errors import AgNewsError

PLOT_FILES = {"learning_curves": "learning_curves.png", "confusion_matrix": "confusion_matrix.png",
              "per_class": "per_class_metrics.png", "reliability": "reliability.png"}
DPI = 120
COMPARISON_METRICS = {"test_macro_f1": "test macro-F1", "test_accuracy": "test accuracy",
                      "train_seconds": "training time (s)", "train_samples_per_second": "training rows per second",
                      "peak_gpu_memory_gb": "peak GPU memory (GB)"}


def plot_learning_curves(log_history) -> "plt.Figure":
    """Training loss at each logging step, and validation loss and macro-F1 after each epoch.

    `log_history` is `trainer.state.log_history` (also `results["log_history"]`): a list
    of dicts; training rows carry "loss", per-epoch validation rows carry "eval_loss".
    Example: [{"epoch": 0.5, "loss": 1.3}, {"epoch": 1.0, "eval_loss": 0.9, "eval_macro_f1": 0.7}]
    """
    validation = [row for row in log_history if "eval_loss" in row and "epoch" in row]
    if not validation and not any("loss" in row and "epoch" in row for row in log_history):
        raise AgNewsError("the log history holds no training or validation losses to plot; "
                          "train for at least one epoch")
    figure, (loss_axes, score_axes) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    _line(loss_axes, log_history, "loss", "training loss (per logging step)", marker=".")
    _line(loss_axes, validation, "eval_loss", "validation loss (per epoch)", marker="o")
    loss_axes.set(title="Loss", xlabel="epoch", ylabel="cross-entropy loss")
    loss_axes.legend()
    _line(score_axes, validation, "eval_macro_f1", "validation macro-F1", marker="o")
    _line(score_axes, validation, "eval_accuracy", "validation accuracy", marker="s", linestyle="--")
    _mark_best_epoch(score_axes, validation)
    score_axes.set(title="Validation scores per epoch", xlabel="epoch", ylabel="score", ylim=(0, 1.02))
    score_axes.legend(loc="lower right")
    return _closed(figure)


def plot_training_loss(runs: dict) -> "plt.Figure":
    """The training loss of several runs on one axes, with the ln 4 line where an untrained model starts.

    `runs` maps a label to a log history, e.g. {"lr 1e-3": results["log_history"], ...}.
    A healthy run starts near ln 4 = 1.39 (four classes guessed evenly) and falls;
    a line that stays there learns nothing, one that breaks off hit NaN. Notebook 01's exercises.
    """
    figure, axes = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for label, log_history in runs.items():
        _line(axes, log_history, "loss", label, marker=".")
    if not axes.lines:
        raise AgNewsError("none of these runs logged a training loss; train for at least one epoch")
    axes.axhline(np.log(4), color="grey", linestyle=":", label="ln 4 = 1.39 (guessing)")
    axes.set(title="Training loss by run", xlabel="epoch", ylabel="cross-entropy loss")
    axes.legend()
    return _closed(figure)


def plot_confusion_matrix(report: dict) -> "plt.Figure":
    """The test confusion matrix: counts on the left, each row divided by its total on the right.

    `report` is `results["test"]`, with "confusion_matrix" (rows = true class,
    columns = predicted) and "class_names". A row's shares are that class's recall
    and its errors. Example: row [38, 1, 1, 0] -> shares [0.95, 0.025, 0.025, 0.0]
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    counts = np.asarray(report["confusion_matrix"])
    figure, grid = plt.subplots(1, 2, figsize=(11, 4.8), constrained_layout=True)
    panels = ((counts, "d", {}, f"Test counts ({counts.sum():,} rows)"),
              (row_shares(counts), ".2f", {"vmin": 0, "vmax": 1}, "Share of each true class"))
    for axes, (values, values_format, scale, title) in zip(grid, panels):
        ConfusionMatrixDisplay(values, display_labels=list(report["class_names"])).plot(
            ax=axes, cmap="Blues", values_format=values_format, colorbar=False, im_kw=scale)
        axes.set_title(title)
        _slanted_tick_labels(axes)
    return _closed(figure)


def row_shares(counts) -> np.ndarray:
    """Each row divided by its total; an empty row stays zeros. Example: [[3, 1], [0, 0]] -> [[0.75, 0.25], [0, 0]]"""
    counts = np.asarray(counts, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def plot_per_class(report: dict) -> "plt.Figure":
    """Precision, recall and F1 of each class as grouped bars, from the test report's "per_class"."""
    import pandas as pd

    names = list(report["class_names"])
    scores = pd.DataFrame(report["per_class"]).T.loc[names, ["precision", "recall", "f1"]].rename(columns={"f1": "F1"})
    figure, axes = plt.subplots(figsize=(8, 4), constrained_layout=True)
    scores.plot.bar(ax=axes, rot=0, width=0.8)
    for bars in axes.containers:
        axes.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    axes.set(title=f"Per-class test scores (macro-F1 {report.get('macro_f1', scores['F1'].mean()):.3f})",
             ylabel="score", ylim=(0, 1.1))
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, frameon=False)
    return _closed(figure)


def plot_comparison(table) -> "plt.Figure":
    """One bar chart per metric, one bar per run: the comparison notebook 02 draws.

    `table` is a DataFrame with a "model" (or "run_name") column and any of the
    columns in COMPARISON_METRICS (test_macro_f1, test_accuracy, train_seconds,
    train_samples_per_second, peak_gpu_memory_gb), as `compare_models` and
    `runs_table` return; missing or empty columns are left out (GPU memory on a CPU).
    """
    metrics = [column for column in COMPARISON_METRICS if column in table and table[column].notna().any()]
    if table.empty or not metrics:
        raise AgNewsError("nothing to compare: the table needs rows and one of the columns "
                          + ", ".join(COMPARISON_METRICS))
    labels = _run_labels(table)
    columns = min(3, len(metrics))
    rows = -(-len(metrics) // columns)
    figure = plt.figure(figsize=(4.2 * columns, 4 * rows), constrained_layout=True)
    for position, column in enumerate(metrics, start=1):
        axes = figure.add_subplot(rows, columns, position)
        values = table[column].astype(float)
        bars = axes.bar(labels, values.fillna(0), color=[f"C{index}" for index in range(len(table))])
        axes.bar_label(bars, labels=[_short_number(value) for value in values], fontsize=8)
        axes.set_title(COMPARISON_METRICS[column])
        _slanted_tick_labels(axes)
        axes.margins(y=0.15)
    return _closed(figure)


def plot_reliability(calibration: dict) -> "plt.Figure":
    """Reliability diagrams of the test split, before and after temperature scaling, side by side.

    `calibration` is `results["test"]["calibration"]` (calibration.py). Each bar is one
    confidence bin: its height the accuracy of the rows in it, the dotted line where a
    calibrated model's bars would end (accuracy = confidence). Bars below the line are
    over-confident. Notebook 04 teaches it.
    """
    figure, grid = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True, sharey=True)
    for axes, when in zip(grid, ("before", "after")):
        scores = calibration[when]
        table = scores["reliability"]
        edges = np.asarray(table["edges"])
        accuracy = np.asarray(table["accuracy"], dtype=float)  # an empty bin (None) draws no bar
        axes.bar(edges[:-1], accuracy, width=np.diff(edges), align="edge", edgecolor="black", color="C0",
                 label="accuracy in the bin")
        axes.plot([0, 1], [0, 1], ":", color="grey", label="calibrated (accuracy = confidence)")
        for left, width, rows in zip(edges[:-1], np.diff(edges), table["rows"]):
            if rows:
                axes.text(left + width / 2, 0.02, str(rows), ha="center", fontsize=6, rotation=90)
        temperature = 1.0 if when == "before" else calibration["temperature"]
        axes.set(title=f"{when} temperature scaling (T = {temperature:.2f}): ECE {scores['ece']:.3f}, "
                       f"Brier {scores['brier']:.3f}", xlabel="confidence (top probability)", xlim=(0, 1), ylim=(0, 1))
    grid[0].set_ylabel("accuracy")
    grid[0].legend(loc="upper left", fontsize=8)
    return _closed(figure)


def plot_embedding_map(embedding_map: dict, class_names=None) -> "plt.Figure":
    """The test texts' sentence vectors in 2-D, before and after fine-tuning, coloured by true class.

    `embedding_map` is what `embedding_map.embedding_map` returns: "before" and "after",
    each with "points" (rows x 2) and "silhouette", plus "labels" and "method" (UMAP or PCA).
    Notebook 04 teaches it.
    """
    from ..labels import CLASS_NAMES

    labels = np.asarray(embedding_map["labels"])
    figure, grid = plt.subplots(1, 2, figsize=(11, 5), constrained_layout=True)
    for axes, when, title in zip(grid, ("before", "after"), ("pretrained encoder", "fine-tuned encoder")):
        points = np.asarray(embedding_map[when]["points"])
        for class_id, name in enumerate(class_names or CLASS_NAMES):
            axes.scatter(*points[labels == class_id].T, s=6, alpha=0.6, color=f"C{class_id}", label=name)
        axes.set(title=f"{title}: silhouette {embedding_map[when]['silhouette']:.3f}",
                 xlabel=f"{embedding_map['method']} 1", ylabel=f"{embedding_map['method']} 2", xticks=[], yticks=[])
    grid[1].legend(markerscale=3, loc="best")
    figure.suptitle(f"{len(labels):,} test texts, {embedding_map['method']} of the vectors the classifier reads")
    return _closed(figure)


def save_run_plots(run_dir, results: dict) -> list:
    """Write the learning curves, confusion matrix, per-class and reliability plots of a run as PNG files.

    Returns the paths written. Example: [run_dir/learning_curves.png, run_dir/confusion_matrix.png, ...]
    """
    test = results["test"]
    figures = {"learning_curves": plot_learning_curves(results["log_history"]),
               "confusion_matrix": plot_confusion_matrix(test), "per_class": plot_per_class(test)}
    if "calibration" in test:  # not in a run scored without a validation split
        figures["reliability"] = plot_reliability(test["calibration"])
    for name, figure in figures.items():
        figure.savefig(Path(run_dir) / PLOT_FILES[name], dpi=DPI)
    return [Path(run_dir) / PLOT_FILES[name] for name in figures]


def _line(axes, rows: list, key: str, label: str, **style) -> None:
    """Plot `key` against the epoch, over the rows that have both."""
    points = [(row["epoch"], row[key]) for row in rows if key in row and "epoch" in row]
    if points:
        axes.plot(*zip(*points), label=label, **style)


def _mark_best_epoch(axes, validation: list) -> None:
    """Star the epoch whose validation macro-F1 is highest: the one the Trainer keeps."""
    scored = [row for row in validation if "eval_macro_f1" in row]
    if scored:
        best = max(scored, key=lambda row: row["eval_macro_f1"])
        axes.plot(best["epoch"], best["eval_macro_f1"], "*", markersize=14, color="gold", markeredgecolor="black",
                  label=f"best epoch ({best['eval_macro_f1']:.3f})")


def _run_labels(table) -> list:
    """Bar labels: the model name without its Hub owner, or the run name when models repeat."""
    column = "model" if "model" in table and table["model"].is_unique else "run_name"
    names = table[column] if column in table else range(len(table))
    return [str(name).rsplit("/", 1)[-1] for name in names]


def _short_number(value) -> str:
    """Example: 0.9451 -> "0.945", 6.1 -> "6.1", 612.3 -> "612", NaN (not measured) -> "n/a" """
    return "n/a" if value != value else f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _slanted_tick_labels(axes) -> None:
    """x labels at 30 degrees, each ending under its own bar or column."""
    plt.setp(axes.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")


def _closed(figure):
    """Unregister the figure from pyplot so a notebook draws it once, from the returned value."""
    plt.close(figure)
    return figure
