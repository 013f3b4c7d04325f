"""The notebooks as files: each .ipynb in sync with its py:percent twin, committed clean, one repo URL.

Executing the notebooks is nbval's job (`python -m pytest` collects
notebooks/*.ipynb with --nbval-lax, in smoke mode). These tests check what
execution cannot: that the .ipynb Colab opens says what its reviewed .py twin
says, that it carries no outputs or widget state, and that notebook 01's form
drives the config its next cell reads.
"""

import json
import re
import shutil
import sys
import types
from pathlib import Path

import jupytext
import nbformat
import pytest

import agnews_bert as ab

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
EXPECTED = ["01_finetune_modernbert", "02_compare_models", "03_inspect_and_predict"]
SYNC_HINT = "run `jupytext --sync notebooks/*.ipynb`, then `jupytext --to ipynb notebooks/0*.py`, and commit both"
BADGE = re.compile(  # the Open-in-Colab link: (owner/repository, branch or tag, notebook name)
    r"https://colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/blob/([\w./-]+?)/notebooks/(\w+)\.ipynb")


def pair_problems(notebook: Path) -> list:
    """Why an .ipynb and its .py twin disagree, as messages; [] when they are in sync.

    The .py is read with jupytext, in memory, and its cells (type and source)
    compared with the committed .ipynb's, as are the kernel and GPU settings.
    """
    twin = notebook.with_suffix(".py")
    if not twin.exists():
        return [f"{twin.name} is missing; {SYNC_HINT}"]
    committed = nbformat.read(notebook, as_version=4)
    from_twin = jupytext.read(twin, fmt="py:percent")
    problems = [f"{notebook.name}: metadata {key!r} differs from {twin.name}; {SYNC_HINT}"
                for key in ("kernelspec", "accelerator") if committed.metadata.get(key) != from_twin.metadata.get(key)]
    committed_cells, twin_cells = _cells(committed), _cells(from_twin)
    if len(committed_cells) != len(twin_cells):
        problems.append(f"{notebook.name} has {len(committed_cells)} cells, {twin.name} {len(twin_cells)}; {SYNC_HINT}")
    for index, (left, right) in enumerate(zip(committed_cells, twin_cells)):
        if left != right:
            problems.append(f"{notebook.name} cell {index} differs from {twin.name}: {right[1][:60]!r}; {SYNC_HINT}")
            break
    return problems


def clean_problems(notebook: Path) -> list:
    """What a committed .ipynb must not carry: outputs, execution counts, widget state."""
    content = nbformat.read(notebook, as_version=4)
    problems = []
    if "widgets" in content.metadata:
        problems.append(f"{notebook.name}: metadata.widgets holds saved widget state; {SYNC_HINT}")
    for index, cell in enumerate(content.cells):
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            problems.append(f"{notebook.name} cell {index} has outputs or an execution count; {SYNC_HINT}")
    return problems


def _cells(notebook) -> list:
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def test_the_three_notebooks_and_their_twins_exist():
    assert [path.stem for path in NOTEBOOKS] == EXPECTED
    assert sorted(path.stem for path in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.py")) == EXPECTED
    assert 'formats = "notebooks///ipynb,notebooks///py:percent"' in (ROOT / "jupytext.toml").read_text()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_ipynb_is_in_sync_with_its_py_twin(notebook):
    assert pair_problems(notebook) == []


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_ipynb_is_committed_without_outputs_or_widget_state(notebook):
    assert clean_problems(notebook) == []


def test_editing_a_py_twin_without_syncing_is_caught(tmp_path):
    for path in (NOTEBOOKS[0], NOTEBOOKS[0].with_suffix(".py")):
        shutil.copy(path, tmp_path / path.name)
    twin = tmp_path / NOTEBOOKS[0].with_suffix(".py").name
    twin.write_text(twin.read_text().replace("OUTPUT_DIR = ab.colab.output_dir()", "OUTPUT_DIR = 'elsewhere'"))
    problems = pair_problems(tmp_path / NOTEBOOKS[0].name)
    assert len(problems) == 1 and "OUTPUT_DIR = 'elsewhere'" in problems[0] and "jupytext --sync" in problems[0]


def test_a_new_cell_in_the_twin_and_a_missing_twin_are_caught(tmp_path):
    notebook = shutil.copy(NOTEBOOKS[1], tmp_path / NOTEBOOKS[1].name)
    assert "is missing" in pair_problems(Path(notebook))[0]
    twin = Path(shutil.copy(NOTEBOOKS[1].with_suffix(".py"), tmp_path))
    twin.write_text(twin.read_text() + "\n# %%\nprint('new cell')\n")
    assert "cells" in pair_problems(Path(notebook))[0]


def test_outputs_and_widget_state_are_caught(tmp_path):
    content = nbformat.read(NOTEBOOKS[0], as_version=4)
    code_cell = next(cell for cell in content.cells if cell.cell_type == "code")
    code_cell.outputs = [nbformat.v4.new_output("stream", text="hello")]
    code_cell.execution_count = 1
    content.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    dirty = tmp_path / "dirty.ipynb"
    nbformat.write(content, dirty)
    assert len(clean_problems(dirty)) == 2


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_each_notebook_opens_with_its_own_colab_badge_and_one_repo_url(notebook):
    cells = nbformat.read(notebook, as_version=4).cells
    assert cells[0].cell_type == "markdown" and "colab-badge.svg" in cells[0].source
    repo, ref, name = BADGE.search(cells[0].source).groups()
    assert name == notebook.stem
    setup = cells[1].source
    assert f'REPO_URL = "https://github.com/{repo}"' in setup and f'REPO_REF = "{ref}"' in setup


def test_every_notebook_and_the_readme_name_the_same_repository_and_ref():
    texts = [path.read_text() for path in NOTEBOOKS] + [(ROOT / "README.md").read_text()]
    badges = {(repo, ref) for text in texts for repo, ref, _ in BADGE.findall(text)}
    assert len(badges) == 1, f"notebooks and README point at different repositories or refs: {badges}"
    readme_badges = {name for _, _, name in BADGE.findall(texts[-1])}
    assert readme_badges == set(EXPECTED)


def _code_cells(name: str) -> list:
    return [cell.source for cell in jupytext.read(NOTEBOOKS_DIR / f"{name}.py").cells if cell.cell_type == "code"]


def test_setup_cell_installs_only_on_colab_and_never_upgrades(monkeypatch):
    setup = _code_cells(EXPECTED[0])[0]
    commands = []
    monkeypatch.setattr("subprocess.run", lambda command, **_: commands.append(command))
    exec(setup, {})
    assert commands == []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    namespace = {}
    exec(setup, namespace)
    (command,) = commands
    assert command[:5] == [sys.executable, "-m", "pip", "install", "-q"]
    assert command[5] == f"agnews_bert @ git+{namespace['REPO_URL']}@{namespace['REPO_REF']}"
    assert namespace["REPO_URL"].startswith("https://github.com/")
    assert not {"-U", "--upgrade", "torch", "transformers", "ipywidgets"} & set(command)


def test_notebook_01_reads_the_form_it_shows(monkeypatch, tmp_path):
    """Run notebook 01 up to its form, move the widgets as a student would, run the next cell."""
    monkeypatch.setenv("AGNEWS_BERT_SMOKE", "1")
    monkeypatch.setenv("AGNEWS_BERT_RUNS_DIR", str(tmp_path))
    cells = _code_cells(EXPECTED[0])
    form_index = next(index for index, source in enumerate(cells) if "RunForm(" in source)
    namespace = {}
    for source in cells[: form_index + 1]:
        exec(source, namespace)
    exec(cells[form_index + 1], namespace)
    assert namespace["config"] == ab.RunConfig.preset("smoke", output_dir=str(tmp_path), overwrite=True)

    form = namespace["form"]
    form.epochs.value, form.lr.value, form.seed.value, form.train_size.value = 2, 1e-3, 7, 1_000
    exec(cells[form_index + 1], namespace)
    config = namespace["config"]
    assert (config.epochs, config.lr, config.seed, config.train_size) == (2, 1e-3, 7, 1_000)
    assert config.resolved_run_name == "smoke_n1000_lr1e-03_ep2_seed7"


def test_committed_notebooks_are_valid_nbformat():
    for notebook in NOTEBOOKS:
        nbformat.validate(nbformat.read(notebook, as_version=4))
        assert json.loads(notebook.read_text())["nbformat"] == 4


def test_notebook_01_step_by_step_writes_the_same_run_folder_as_train(monkeypatch, tmp_path, smoke_run):
    """The notebook's one-call-per-step path and `ab.train` must leave the same kind of run folder."""
    monkeypatch.setenv("AGNEWS_BERT_SMOKE", "1")
    monkeypatch.setenv("AGNEWS_BERT_RUNS_DIR", str(tmp_path))
    namespace = {}
    for source in _code_cells(EXPECTED[0]):
        exec(source, namespace)
    run_dir = namespace["run_dir"]
    saved = json.loads((run_dir / "results.json").read_text())
    assert sorted(saved) == sorted(json.loads((Path(smoke_run["run_dir"]) / "results.json").read_text()))
    assert ab.RunConfig.from_json((run_dir / "config.json").read_text()) == namespace["config"]
    assert saved["test"]["rows"] == 160 and saved["test"]["accuracy"] >= 0.9
    assert list(namespace["ab"].runs_table(str(tmp_path))["run_name"]) == [run_dir.name]
    assert (run_dir / "model" / "config.json").exists()
