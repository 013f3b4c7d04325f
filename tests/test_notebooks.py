"""The notebooks as files: each .ipynb in sync with its py:percent twin, committed clean, one repo URL.

Executing the notebooks is nbval's job (`python -m pytest` collects
notebooks/*.ipynb with --nbval-lax, in smoke mode). These tests check what
execution cannot: that the .ipynb Colab opens says what its reviewed .py twin
says, that it carries no outputs or widget state, and that notebook 01's form
drives the config its next cell reads.
"""

import json
import os
import re
import shutil
import subprocess
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
EXPECTED = ["01_finetune_modernbert", "02_compare_models", "03_inspect_and_predict", "04_understand_the_model"]
SYNC_HINT = ("run `jupytext --sync notebooks/*.ipynb`, then `jupytext --update --to ipynb notebooks/0*.py`, "
             "and commit both")
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


def test_every_notebook_and_its_twin_exist():
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
    twin.write_text(twin.read_text().replace("OUTPUT_DIR = ab.notebook.output_dir()", "OUTPUT_DIR = 'elsewhere'"))
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


@pytest.mark.parametrize("name", EXPECTED)
def test_setup_cell_installs_only_on_colab_and_never_upgrades(monkeypatch, name):
    setup = _code_cells(name)[0]
    commands = []

    def fake_run(command, **_):
        commands.append(command)
        return subprocess.CompletedProcess(command, 0, stdout="", stderr="")

    monkeypatch.setattr("subprocess.run", fake_run)
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


def test_every_setup_cell_is_the_same_code():
    setups = {name: _code_cells(name)[0] for name in EXPECTED}
    install_parts = {name: setup[: setup.index("\n\n", setup.index('if "google.colab"'))] for name, setup in setups.items()}
    assert len(set(install_parts.values())) == 1, "edit the set-up cell of every notebook alike"


# A real pip that really fails, fast and offline: nothing listens on port 9 of this machine, and the
# second address is a local path that does not exist.
FAILING_REPOSITORIES = {
    "unreachable": ("https://127.0.0.1:9/no-such-org/agnews_bert", "git clone"),
    "missing path": ("file:///nonexistent/agnews_bert", "does not exist"),
}


@pytest.mark.parametrize("case", sorted(FAILING_REPOSITORIES))
def test_setup_cell_shows_why_pip_failed(monkeypatch, capsys, case):
    """On (fake) Colab with a wrong REPO_URL, the cell prints pip's own last lines and says what to check."""
    repo_url, pip_says = FAILING_REPOSITORIES[case]
    setup = _code_cells(EXPECTED[0])[0]
    setup = re.sub(r'REPO_URL = "[^"]*"', f'REPO_URL = "{repo_url}"', setup, count=1)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    with pytest.raises(RuntimeError) as raised:
        exec(setup, {})
    printed = capsys.readouterr().out
    assert pip_says in printed and repo_url.split("://")[1] in printed  # pip's own reason, shown in the cell
    message = str(raised.value)
    ref = re.search(r'REPO_REF = "([^"]*)"', setup).group(1)  # "main" here, a tag in a teacher's fork
    assert repo_url in message and repr(ref) in message
    assert all(hint in message for hint in ("REPO_URL and REPO_REF", "online", "private fork"))


def test_notebook_01_reads_the_form_it_shows(monkeypatch, tmp_path):
    """Run notebook 01 up to its form, move the widgets as a student would, run the next cell."""
    monkeypatch.setenv("AGNEWS_BERT_SMOKE", "1")
    monkeypatch.setenv("AGNEWS_BERT_RUNS_DIR", str(tmp_path))
    cells = _code_cells(EXPECTED[0])
    form_index = next(index for index, source in enumerate(cells) if "settings_form(" in source)
    namespace = {}
    for source in cells[: form_index + 1]:
        exec(source, namespace)
    exec(cells[form_index + 1], namespace)
    assert namespace["config"] == ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path))

    form = namespace["form"]
    form.epochs.value, form.lr.value, form.seed.value, form.train_size.value = 2, 1e-3, 7, 1_000
    exec(cells[form_index + 1], namespace)
    config = namespace["config"]
    assert (config.epochs, config.lr, config.seed, config.train_size) == (2, 1e-3, 7, 1_000)
    assert config.resolved_run_name.startswith("smoke_n1000_lr1e-03_ep2_seed7_")


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
    assert list(namespace["ab"].lab.runs_table(str(tmp_path))["run_name"]) == [run_dir.name]
    assert (run_dir / "model" / "config.json").exists()


# --- what the notebooks teach ---------------------------------------------------------------------------------

HF_STEPS_IN_NOTEBOOK_01 = ("def tokenize(batch)", ".map(tokenize, batched=True)", "DataCollatorWithPadding",
                           "ab.make_collator(", "ab.build_training_args(", "ab.notebook.training_args_table(training_args)",
                           "transformers.Trainer(", "processing_class=tokenizer", "compute_metrics=ab.compute_metrics",
                           "trainer.train(", "trainer.predict(", "f1_score(")


def _sources(name: str, cell_type: str | None = None) -> list:
    cells = jupytext.read(NOTEBOOKS_DIR / f"{name}.py").cells
    return [cell.source for cell in cells if cell_type in (None, cell.cell_type)]


def test_notebook_01_shows_each_hugging_face_step():
    notebook = "\n".join(_sources(EXPECTED[0]))
    assert [step for step in HF_STEPS_IN_NOTEBOOK_01 if step not in notebook] == []


def test_the_helpers_return_the_hugging_face_objects_the_notebook_shows(tmp_path):
    import datasets
    import transformers

    config = ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path))
    splits = ab.load_agnews(config)
    tokenizer = ab.load_tokenizer(config.model)
    tokenized = ab.tokenize_dataset(splits, tokenizer, config.max_length)
    assert isinstance(tokenized, datasets.DatasetDict)
    assert all(isinstance(split, datasets.Dataset) for split in tokenized.values())
    collator = ab.make_collator(tokenizer)
    assert isinstance(collator, transformers.DataCollatorWithPadding)
    batch = collator([tokenized["train"][index] for index in range(3)])
    longest = max(tokenized["train"][:3]["length"])
    assert tuple(batch["input_ids"].shape) == (3, longest)
    assert batch["attention_mask"].sum(dim=1).tolist() == tokenized["train"][:3]["length"]
    run_dir = ab.lab.prepare_run_dir(config)
    training_args = ab.build_training_args(config, run_dir, len(tokenized["train"]))
    assert isinstance(training_args, transformers.TrainingArguments)
    table = ab.notebook.training_args_table(training_args)
    shown = dict(zip(table["field"], table["value"]))
    assert shown["learning_rate"] == config.learning_rate and shown["metric_for_best_model"] == "macro_f1"
    assert shown["eval_strategy"] == "epoch" and shown["num_train_epochs"] == config.epochs
    assert all(why for why in table["why"])
    trainer = ab.training.build_trainer(config, ab.load_model(config), tokenizer, tokenized, run_dir)
    assert type(trainer) is transformers.Trainer
    output = trainer.predict(tokenized["test"].select(range(4)))
    assert isinstance(output, transformers.trainer_utils.PredictionOutput) and output.predictions.shape == (4, 4)


def test_the_tokenize_function_of_notebook_01_gives_the_ids_of_tokenize_dataset():
    config = ab.RunConfig.from_preset("smoke")
    namespace = {"tokenizer": ab.load_tokenizer(config.model), "config": config, "splits": ab.load_agnews(config)}
    exec(next(source for source in _sources(EXPECTED[0], "code") if "def tokenize(batch)" in source), namespace)
    by_library = ab.tokenize_dataset(ab.load_agnews(config), namespace["tokenizer"], config.max_length)
    assert namespace["by_hand"]["input_ids"] == by_library["train"][:8]["input_ids"]


EXERCISE = re.compile(r"^\*\*(\d+)\. ", re.MULTILINE)


def exercises(name: str) -> list:
    """(number, starter cell source) of each exercise after a notebook's "## Exercises" heading."""
    cells = jupytext.read(NOTEBOOKS_DIR / f"{name}.py").cells
    start = next(index for index, cell in enumerate(cells) if cell.source.startswith("## Exercises")
                 or "\n## Exercises" in cell.source or cell.source.startswith("# ## Exercises"))
    found = []
    for index in range(start, len(cells)):
        for number in EXERCISE.findall(cells[index].source) if cells[index].cell_type == "markdown" else []:
            starter = cells[index + 1] if index + 1 < len(cells) else None
            found.append((int(number), starter.source if starter is not None and starter.cell_type == "code" else None))
    return found


@pytest.mark.parametrize("name, at_least", [(EXPECTED[0], 5), (EXPECTED[1], 3), (EXPECTED[2], 3)])
def test_each_notebook_ends_with_exercises_that_each_have_a_starter_cell(name, at_least):
    found = exercises(name)
    assert [number for number, _ in found] == list(range(1, len(found) + 1))
    assert len(found) >= at_least
    assert all(starter and starter.strip() for _, starter in found), "every exercise needs a code cell to start from"
    text = "\n".join(_sources(name, "markdown"))
    assert "**predict**" in text and "**run**" in text and "**explain**" in text


@pytest.mark.parametrize("name", EXPECTED)
def test_no_cell_a_student_reads_mentions_smoke_mode(name):
    assert [source[:80] for source in _sources(name) if "smoke" in source.lower()] == []


@pytest.mark.parametrize("name", EXPECTED)
def test_each_notebook_says_how_long_it_takes_and_marks_estimates(name):
    intro = _sources(name, "markdown")[0]
    assert "minute" in intro and "estimate" in intro


def test_notebook_01_says_what_a_healthy_run_looks_like():
    text = "\n".join(_sources(EXPECTED[0], "markdown"))
    assert all(words in text for words in ("ln 4 = 1.39", "`nan`", "0.91 to 0.94", "**estimate**", "HF_TOKEN",
                                           "newly initialized", "Ġ", "[CLS]", "warm-up share"))


LONG_TEXT = "Stocks " + "rally again and again " * 20 + "at the close."


def test_whole_texts_shows_every_character_where_pandas_cuts():
    import pandas as pd

    frame = pd.DataFrame({"text": [LONG_TEXT], "label": ["Business"]})
    assert LONG_TEXT not in repr(frame) and LONG_TEXT not in frame._repr_html_()  # pandas' 50-character cut
    shown = ab.notebook.whole_texts(frame)
    assert LONG_TEXT in repr(shown) and LONG_TEXT in shown._repr_html_()
    assert list(shown["label"]) == ["Business"] and len(shown) == 1
    assert pd.get_option("display.max_colwidth") == 50  # the student's own settings are left alone


@pytest.mark.parametrize("name, table", [(EXPECTED[0], "preview"), (EXPECTED[2], "mistakes")])
def test_tables_of_texts_to_read_are_shown_whole(name, table):
    assert any(f"ab.notebook.whole_texts({table})" in source for source in _sources(name, "code"))


# --- notebooks 03 and 04 open a finished run; nbval trains one for them when they run alone -----------------


@pytest.mark.parametrize("name", EXPECTED[2:])
def test_without_a_finished_run_the_notebook_says_to_run_notebook_01_first(name, tmp_path):
    pick = next(source for source in _code_cells(name) if source.startswith('RUN_NAME = ""'))
    with pytest.raises(RuntimeError, match="No finished run in .* yet: run notebook 01 first"):
        exec(pick, {"ab": ab, "Path": Path, "OUTPUT_DIR": str(tmp_path)})


@pytest.mark.parametrize("name", EXPECTED[2:])
def test_the_notebook_opens_the_best_run_or_the_one_named(name, smoke_run):
    pick = next(source for source in _code_cells(name) if source.startswith('RUN_NAME = ""'))
    output_dir = str(Path(smoke_run["run_dir"]).parent)
    namespace = {"ab": ab, "Path": Path, "OUTPUT_DIR": output_dir}
    exec(pick.split("results = ")[0], namespace)
    assert namespace["run_dir"] == Path(smoke_run["run_dir"])
    named = pick.replace('RUN_NAME = ""', f'RUN_NAME = "{smoke_run["run_name"]}"').split("results = ")[0]
    exec(named, namespace)
    assert namespace["run_dir"] == Path(smoke_run["run_dir"])


def test_nbval_trains_the_tiny_run_before_notebook_03_only_when_there_is_none(monkeypatch, tmp_path):
    import importlib.util

    monkeypatch.setattr(os, "environ", {**os.environ, "AGNEWS_BERT_RUNS_DIR": str(tmp_path)})  # undone afterwards
    spec = importlib.util.spec_from_file_location("nbval_setup", NOTEBOOKS_DIR / "conftest.py")
    nbval_setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nbval_setup)

    def cell_of(name):
        return types.SimpleNamespace(path=NOTEBOOKS_DIR / f"{name}.ipynb")

    nbval_setup.pytest_runtest_setup(cell_of(EXPECTED[0]))
    assert ab.lab.runs_table(tmp_path).empty  # notebook 01 trains its own run
    nbval_setup.pytest_runtest_setup(cell_of(EXPECTED[2]))
    (trained,) = ab.lab.runs_table(tmp_path)["run_name"]
    assert trained.startswith("smoke_")
    nbval_setup.pytest_runtest_setup(cell_of(EXPECTED[3]))
    assert list(ab.lab.runs_table(tmp_path)["run_name"]) == [trained]  # found, not trained again


# --- what a teacher does to the notebooks ---------------------------------------------------------------

REPOSITORY_PARTS = ("agnews_bert", "notebooks", "tests/test_notebooks.py", "tests/conftest.py", "README.md",
                    "jupytext.toml", "setup.cfg", "pyproject.toml")


def readme_block_after(heading: str) -> str:
    """The first ```bash block of the README after a heading. Example: "Teachers: point" -> "sed -i ..." """
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme[readme.index(heading):], re.S)
    return block.group(1)


def copy_of_the_repository(target: Path) -> Path:
    for part in REPOSITORY_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__", "runs", "*.egg-info"))
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target / part)
    return target


def test_the_readme_fork_recipe_leaves_the_notebook_tests_green(tmp_path):
    fork = copy_of_the_repository(tmp_path / "fork")
    recipe = readme_block_after("Teachers: point the notebooks")
    done = subprocess.run(["bash", "-e", "-c", recipe], cwd=fork, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    setup = (fork / "notebooks" / "01_finetune_modernbert.ipynb").read_text(encoding="utf-8")
    assert "YOUR-ORG/agnews_bert" in setup and 'REPO_REF = \\"v1.0\\"' in setup and "blob/v1.0/notebooks" in setup
    tests = subprocess.run(  # the fork's own copy of this file, on its own package, without this test
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests/test_notebooks.py",
         "-k", "not fork_recipe and not one_line_edit"],
        cwd=fork, capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONPATH": str(fork)})
    assert tests.returncode == 0, tests.stdout[-3000:]


def test_regenerating_after_a_one_line_edit_changes_one_cell(tmp_path):
    copy = copy_of_the_repository(tmp_path / "copy")
    before = nbformat.read(copy / NOTEBOOKS[0].relative_to(ROOT), as_version=4).cells
    twin = copy / NOTEBOOKS[0].with_suffix(".py").relative_to(ROOT)
    twin.write_text(twin.read_text().replace("OUTPUT_DIR = ab.notebook.output_dir()",
                                             "OUTPUT_DIR = ab.notebook.output_dir()  # where runs go"), encoding="utf-8")
    regenerate = next(line for line in readme_block_after("Teachers: point the notebooks").splitlines()
                      if line.startswith("jupytext"))
    done = subprocess.run(["bash", "-e", "-c", regenerate], cwd=copy, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = nbformat.read(copy / NOTEBOOKS[0].relative_to(ROOT), as_version=4).cells
    changed = [index for index, (old, new) in enumerate(zip(before, after, strict=True)) if old != new]
    assert len(changed) == 1 and "# where runs go" in after[changed[0]].source
    assert [cell.id for cell in before] == [cell.id for cell in after]


def run_cell(source: str, namespace: dict):
    """exec a cell's code and return the value of its last line, as Jupyter shows it."""
    import ast

    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace) if last else None


def runs_differing_in_one_setting_each(output_dir: Path, smoke_run) -> list:
    """Five finished runs (the smoke run copied, with its real log history): the defaults, then one change each."""
    from agnews_bert.lab.folders import read_index

    source = Path(smoke_run["run_dir"])
    real = read_index(source.parent)[0]
    changes = [{}, {"batch_size": 16}, {"max_length": 32}, {"warmup_ratio": 0.0}, {"seed": 7}]
    rows = []
    for change in changes:
        config = ab.RunConfig.from_preset("smoke", output_dir=str(output_dir), **change)
        shutil.copytree(source, output_dir / config.resolved_run_name, ignore=shutil.ignore_patterns("model"))
        rows.append({**real, **change, "run_name": config.resolved_run_name})
    (output_dir / "runs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return rows


def test_exercise_1_draws_one_curve_per_finished_run(tmp_path, smoke_run):
    from agnews_bert.hardware import Hardware

    rows = runs_differing_in_one_setting_each(tmp_path, smoke_run)
    source = next(cell for cell in _code_cells(EXPECTED[0]) if "plot_training_loss(" in cell)
    form = ab.notebook.widgets.RunForm(ab.RunConfig.from_preset("smoke", output_dir=str(tmp_path)), Hardware("cpu", "CPU"))
    figure = run_cell(source, {"ab": ab, "OUTPUT_DIR": str(tmp_path), "form": form})
    axes = figure.axes[0]
    labels = [line.get_label() for line in axes.lines if not line.get_label().startswith("ln 4")]
    assert len(labels) == len(rows) == len(set(labels))
    assert {"batch_size 16", "max_length 32", "warmup_ratio 0", "seed 7"} <= {part for label in labels
                                                                             for part in label.split(", ")}


def test_exercise_6_puts_both_runs_side_by_side_and_says_what_is_missing(tmp_path, smoke_run, capsys):
    runs_differing_in_one_setting_each(tmp_path, smoke_run)
    source = next(cell for cell in _code_cells(EXPECTED[0]) if "first_losses(" in cell)
    shown = run_cell(source.replace("lr=1e-4", "lr=3e-3, batch_size=32, max_length=64, seed=42"),
                     {"ab": ab, "OUTPUT_DIR": str(tmp_path)})
    assert set(shown.columns) == {"warmup_ratio 0.1", "warmup_ratio 0"} and len(shown) == 5
    capsys.readouterr()
    lonely = ab.notebook.first_losses(str(tmp_path), lr=1e-4)
    assert lonely.empty and "0 finished run(s) with lr=0.0001" in capsys.readouterr().out


def test_notebook_01_shows_predictions_as_a_small_table(smoke_run):
    source = next(cell for cell in _code_cells(EXPECTED[0]) if "ab.predict(headlines" in cell)
    shown = run_cell(source, {"ab": ab, "run_dir": smoke_run["run_dir"]})
    expected = ab.predict(shown["text"].tolist(), smoke_run["run_dir"])
    assert list(shown.columns) == ["text", "label", "probability"] and len(shown) == 4
    assert shown["label"].tolist() == [row["label"] for row in expected]
    assert shown["probability"].tolist() == [round(row["probabilities"][row["label"]], 3) for row in expected]
    assert all(len(repr(value).split(".")[-1]) <= 3 for value in shown["probability"])


def test_notebook_01_tells_the_real_modernberts_facts_and_prints_its_pooling():
    cells = jupytext.read(NOTEBOOKS_DIR / f"{EXPECTED[0]}.py").cells
    prose = " ".join(cell.source for cell in cells if cell.cell_type == "markdown")
    assert "`head.*`" not in prose  # the real checkpoint has them: only classifier.* is new
    assert 'classifier_pooling="mean"' in prose and "`classifier.weight` and `classifier.bias`" in prose
    model_cell = next(cell.source for cell in cells if "ab.load_model(" in cell.source)
    assert 'getattr(model.config, "classifier_pooling"' in model_cell
