"""The lab loop, the way a student lives it: Run all, change the form, run the cells below, Run all again.

A real Jupyter kernel executes notebook 01 in smoke mode (a tiny offline
model), and the test moves the form's widgets from code, as a student's
clicks would. Three passes:
1. Run all: the default settings train and save a run.
2. batch size 16 and max length 32 in the form, then the cells below it: a
   second run, in its own folder; the runs table has two rows.
3. Run all again: the form comes back with 16 and 32, and the finished run is
   loaded instead of failing; still two rows.
"""

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "01_finetune_modernbert.ipynb"


def run_cells(client, cells):
    """Execute cells in the live kernel; returns every text output, in order."""
    texts = []
    for index, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        client.execute_cell(cell, index)
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") + json.dumps(output.get("data", {}).get("text/plain", "")))
    return texts


def kernel_value(client, expression: str):
    cell = nbformat.v4.new_code_cell(f"print(repr({expression}))")
    client.execute_cell(cell, 0)
    return eval(cell.outputs[-1]["text"])  # noqa: S307 - our own expression, printed by our own kernel


@pytest.fixture
def notebook_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("AGNEWS_BERT_SMOKE", "1")
    monkeypatch.setenv("AGNEWS_BERT_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    with client.setup_kernel():
        yield client, notebook, tmp_path / "runs"


def test_change_a_setting_run_again_then_run_all(notebook_kernel):
    client, notebook, runs_dir = notebook_kernel
    cells = notebook.cells
    form_cell = next(index for index, cell in enumerate(cells) if "settings_form(" in cell.source)

    run_cells(client, cells)  # 1. Run all
    assert len(index_rows(runs_dir)) == 1

    client.execute_cell(nbformat.v4.new_code_cell("form.batch_size.value = 16\nform.max_length.value = 32"), 0)
    run_cells(client, cells[form_cell + 1:])  # 2. the cells below the form
    rows = index_rows(runs_dir)
    assert len(rows) == 2 and len({row["run_name"] for row in rows}) == 2
    assert sorted((row["batch_size"], row["max_length"]) for row in rows) == [(16, 32), (32, 64)]
    assert kernel_value(client, "len(ab.lab.runs_table(OUTPUT_DIR))") == 2

    third = run_cells(client, cells)  # 3. Run all again: the form remembers, the run is loaded
    assert kernel_value(client, "(form.batch_size.value, form.max_length.value)") == (16, 32)
    assert any("Already trained with these settings" in text for text in third)
    assert not any("--" in text and "overwrite" in text for text in third)  # no command-line flags in a notebook
    assert len(index_rows(runs_dir)) == 2
    assert kernel_value(client, "len(ab.lab.runs_table(OUTPUT_DIR))") == 2


def index_rows(runs_dir: Path) -> list:
    index = runs_dir / "runs.jsonl"
    return [json.loads(line) for line in index.read_text().splitlines()] if index.exists() else []
