"""Notebook 01 in a real browser: JupyterLab on 127.0.0.1, driven by Debian's Chromium through Playwright.

This is its own CI stage (`python -m pytest -m browser`, run by .ci/run after the
unit and nbval tests); the default `python -m pytest` deselects it. Selected, it
never skips: a missing Chromium, Playwright or JupyterLab is a failure.

It checks what nbval cannot: the lab loop of notebook 01 as a student lives it
(Run all; Run all again with the form untouched, which loads the finished run,
because the page sends back the form's values unchanged; one setting changed by
a click, then the cells below; the linear probe picked in the method dropdown,
then the cells below, and LoRA's controls shown only for LoRA), and that notebook 03's prediction widget
answers a click. Screenshots (the form after the second Run all, the runs view
with two runs, the prediction box) go to test-artifacts/browser/ (paths
printed; last_page.png shows the page as the last test left it).

Set BROWSER_TEST_NOTEBOOK to another notebook to try the harness on it.
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = Path(os.environ.get("BROWSER_TEST_NOTEBOOK", REPO / "notebooks" / "01_finetune_modernbert.ipynb"))
WIDGET_NOTEBOOK = REPO / "notebooks" / "03_inspect_and_predict.ipynb"
ARTIFACTS = REPO / "test-artifacts" / "browser"
# Flags that let Debian's Chromium run headless as root in a container, and keep it off the network.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HEADLINE = "Shares of the chip maker rose after strong quarterly earnings"
NEW_BATCH_SIZE = "16"  # the smoke preset trains with 32
SERVER_START_SECONDS = 120
CELL_SECONDS = float(os.environ.get("BROWSER_TEST_CELL_SECONDS", 300))  # a cell on a busy two-core machine


def test_the_lab_loop_through_the_page(lab, page):
    """Run all twice with the form untouched (one run), then change one setting on the page and run the cells below.

    The second Run all must load the finished run: whatever the page sent back for the form's
    sliders, the config and so the run folder stay the same. The setting changed by a click must be
    the only setting that differs between the two runs' config.json.
    """
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    form_cell, last_cell = form_cell_index(notebook), last_code_cell(notebook)
    prepare_cell = code_cell_with(notebook, "prepare_run_dir(")
    runs_dir = Path(lab[2]) / "runs"
    open_notebook(page, lab, NOTEBOOK.name)

    run_all(page, last_cell)
    assert len(finished_runs(runs_dir)) == 1 and len(index_rows(runs_dir)) == 1
    run_all(page, last_cell)  # the form untouched, rendered by the page a second time
    assert "Already trained with these settings" in output_text(page, prepare_cell)
    assert len(finished_runs(runs_dir)) == 1 and len(index_rows(runs_dir)) == 1, "Run all trained a second run"
    form = cell(page, form_cell).locator(".jp-OutputArea-output").last
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    form.screenshot(path=str(ARTIFACTS / "hyperparameter_form.png"))  # after the second Run all

    batch_size = form.locator(".widget-dropdown", has=page.locator("label", has_text="batch size")).locator("select")
    before = batch_size.input_value()
    batch_size.select_option(label=NEW_BATCH_SIZE)  # as a student picks it
    page.wait_for_timeout(500)
    run_from(page, form_cell + 1, last_cell)
    runs = finished_runs(runs_dir)
    assert len(runs) == 2 and len(index_rows(runs_dir)) == 2
    first, second = (json.loads((run / "config.json").read_text(encoding="utf-8")) for run in runs)
    assert {name for name in first if first[name] != second[name]} == {"batch_size"}
    assert {first["batch_size"], second["batch_size"]} == {int(before), int(NEW_BATCH_SIZE)}

    runs_view = cell(page, code_cell_with(notebook, "ab.notebook.runs_view(")).locator(".jp-OutputArea-output").last
    runs_view.screenshot(path=str(ARTIFACTS / "runs_view_two_runs.png"))
    assert all(run.name in runs_view.inner_text() for run in runs)
    print(f"\nscreenshots of the form and the runs view: {ARTIFACTS}")


def test_the_method_picked_on_the_page_is_the_method_that_trains(lab, page):
    """LoRA's controls appear only with LoRA; the linear probe picked in the page's dropdown reaches config.json.

    After the lab loop it goes on on that test's page (the form shows batch size 16 there); alone, it
    runs all cells first. The new run differs from the last one by its method only (the smoke model's
    lr is the same for every method).
    """
    from agnews_bert.notebook.widgets import METHOD_LABELS

    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    form_cell, last_cell = form_cell_index(notebook), last_code_cell(notebook)
    runs_dir = Path(lab[2]) / "runs"
    if not finished_runs(runs_dir):  # run on its own
        open_notebook(page, lab, NOTEBOOK.name)
        run_all(page, last_cell)
    form = cell(page, form_cell).locator(".jp-OutputArea-output").last
    method = form.locator(".widget-dropdown", has=page.locator("label", has_text="method")).locator("select")
    lora_rank = form.locator(".widget-dropdown", has=page.locator("label", has_text="LoRA rank r"))
    assert method.locator("option:checked").inner_text().replace("\xa0", " ") == METHOD_LABELS["full"]  # the page spaces hard
    assert not lora_rank.is_visible()  # hidden for full fine-tuning
    method.select_option(label=METHOD_LABELS["lora"])
    lora_rank.wait_for(state="visible")
    method.select_option(label=METHOD_LABELS["linear-probe"])
    lora_rank.wait_for(state="hidden")
    page.wait_for_timeout(500)
    before = finished_runs(runs_dir)
    run_from(page, form_cell + 1, last_cell)
    runs = finished_runs(runs_dir)
    assert len(runs) == len(before) + 1 and len(index_rows(runs_dir)) == len(runs)
    last, new = (json.loads((run / "config.json").read_text(encoding="utf-8")) for run in runs[-2:])
    assert new["method"] == "linear-probe" and "_linear-probe_" in runs[-1].name
    assert {name for name in new if new[name] != last[name]} == {"method"}


def test_prediction_widget_labels_a_headline_and_shades_its_words(lab, page):
    """Notebook 03 opens the best finished run; its box labels what we type and shades each word."""
    import agnews_bert as ab

    runs_dir = Path(lab[2]) / "runs"
    if ab.lab.runs_table(runs_dir).empty:  # this test run alone: notebook 01's test has trained nothing
        ab.train(ab.RunConfig.from_preset("smoke", output_dir=str(runs_dir)))
    notebook = json.loads(WIDGET_NOTEBOOK.read_text(encoding="utf-8"))
    widget_cell = code_cell_with(notebook, "prediction_widget(")
    open_notebook(page, lab, WIDGET_NOTEBOOK.name)
    run_cells(page, notebook, up_to=widget_cell)

    widget = cell(page, widget_cell).locator(".jp-OutputArea-output").last
    widget.locator("textarea").fill(HEADLINE)
    widget.get_by_role("button", name="Predict").click()
    widget.get_by_text("Predicted class").wait_for()
    widget.get_by_text("green: for, red: against").wait_for()  # the shading comes with the answer (captum installed)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "prediction_widget.png"
    widget.screenshot(path=str(screenshot))
    print(f"\nscreenshot of the prediction widget, its headline shaded: {screenshot}")

    expected = ab.predict([HEADLINE], runs_dir / ab.lab.runs_table(runs_dir)["run_name"][0])[0]
    assert f"Predicted class: {expected['label']}" in widget.inner_text()
    shown = widget.locator(".widget-hbox > .widget-label").all_inner_texts()
    assert shown == [f"{expected['probabilities'][name]:.1%}" for name in ab.CLASS_NAMES]

    shaded = widget.locator("span[title]")
    assert "".join(shaded.all_inner_texts()) == HEADLINE.replace(" ", "")  # every word (or piece) shaded, in order
    colours = shaded.evaluate_all("spans => spans.map(s => [getComputedStyle(s).backgroundColor, "
                                  "getComputedStyle(s).color])")
    assert all(background.startswith("rgb(") and text == "rgb(17, 17, 17)" for background, text in colours)
    assert len({background for background, _ in colours}) > 1  # shades differ from word to word


# --- the notebook's cells -------------------------------------------------------------------------------


def form_cell_index(notebook: dict) -> int:
    """The code cell that builds the hyperparameter form (its source calls settings_form)."""
    return code_cell_with(notebook, "settings_form(")


def code_cell_with(notebook: dict, fragment: str) -> int:
    for index, notebook_cell in enumerate(notebook["cells"]):
        if notebook_cell["cell_type"] == "code" and fragment in "".join(notebook_cell["source"]):
            return index
    raise AssertionError(f"the notebook has no code cell with {fragment!r}")


def last_code_cell(notebook: dict) -> int:
    return max(index for index, notebook_cell in enumerate(notebook["cells"]) if notebook_cell["cell_type"] == "code")


def finished_runs(runs_dir: Path) -> list:
    """The run folders that hold a finished run, oldest first."""
    return sorted((path.parent for path in runs_dir.glob("*/results.json")), key=lambda run: run.stat().st_mtime)


def index_rows(runs_dir: Path) -> list:
    index = runs_dir / "runs.jsonl"
    return index.read_text(encoding="utf-8").splitlines() if index.exists() else []


# --- JupyterLab and Chromium ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 with a random token, serving copies of the notebooks: (url, token, root)."""
    root = tmp_path_factory.mktemp("lab")
    for notebook in (NOTEBOOK, WIDGET_NOTEBOOK):
        shutil.copy(notebook, root / notebook.name)
    write_lab_settings(root / ".settings")
    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--ServerApp.allow_root=True", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log_path = root / "jupyterlab.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=root, env=lab_environment(root), stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_server(url, token, server, log_path)
            yield url, token, root
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def lab_environment(root: Path) -> dict:
    """The server's (and so the kernels') environment: smoke mode, offline, one thread, settings in `root`."""
    return dict(
        os.environ, AGNEWS_BERT_SMOKE="1", AGNEWS_BERT_RUNS_DIR=str(root / "runs"), HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false",
        JUPYTERLAB_SETTINGS_DIR=str(root / ".settings"), JUPYTERLAB_WORKSPACES_DIR=str(root / ".workspaces"),
        JUPYTER_RUNTIME_DIR=str(root / ".runtime"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A page of a fresh headless Chromium profile, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Chromium is not installed; on Debian: apt-get install -y chromium"
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1000})
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(CELL_SECONDS * 1000)
        try:
            yield page
        finally:  # the page as the test left it, to see why a test failed
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "last_page.png"), full_page=True)
            context.close()


def write_lab_settings(settings_dir: Path) -> None:
    """No "Jupyter news?" pop-up over the page (and no fetching news from the network), and every cell drawn.

    JupyterLab 4 draws only the cells near the viewport by default; the test reads cells far below it.
    """
    settings = {("apputils-extension", "notification"): {"fetchNews": "false"},
                ("notebook-extension", "tracker"): {"windowingMode": "none"}}
    for (extension, name), values in settings.items():
        path = settings_dir / "@jupyterlab" / extension / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_server(url: str, token: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"JupyterLab exited with status {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urlopen(f"{url}/api/status?token={token}", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"JupyterLab did not answer within {SERVER_START_SECONDS} s:\n{log.read_text()[-3000:]}")


# --- driving the notebook through the page ---------------------------------------------------------------


def open_notebook(page, lab, name: str) -> None:
    """Open the notebook and wait until its kernel is idle."""
    url, token, _ = lab
    page.goto(f"{url}/lab/workspaces/{Path(name).stem}/tree/{name}?reset&token={token}")  # one notebook per page
    cell(page, 0).wait_for()
    # The status bar reads "Python 3 (ipykernel) | Idle" once the kernel is connected; cells run before that are lost.
    page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"\| Idle")).first.wait_for()


def cell(page, index: int):
    return page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index)


def run_cells(page, notebook: dict, up_to: int, start: int = 0) -> None:
    """Run cells start..up_to with Shift+Enter, as a student would, and wait for the last code cell to finish."""
    cell(page, start).locator(".jp-InputPrompt").first.click()
    page.keyboard.press("Escape")  # command mode: Shift+Enter runs the cell and selects the next
    for _ in range(start, up_to + 1):
        page.keyboard.press("Shift+Enter")
    last_code = max(index for index in range(start, up_to + 1) if notebook["cells"][index]["cell_type"] == "code")
    wait_until_ran(page, last_code)


def run_all(page, last_cell: int) -> None:
    """Run > Run All Cells, from the menu, and wait until the last code cell has run again."""
    run_from_menu(page, "Run All Cells", last_cell)


def run_from(page, first: int, last_cell: int) -> None:
    """Select cell `first`, then Run > Run Selected Cell and All Below."""
    cell(page, first).locator(".jp-InputPrompt").first.click()
    run_from_menu(page, "Run Selected Cell and All Below", last_cell)


def run_from_menu(page, item: str, last_cell: int) -> None:
    before = prompt_text(page, last_cell)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}$")).click()
    wait_until_ran(page, last_cell, not_count=before)


def prompt_text(page, index: int) -> str:
    return cell(page, index).locator(".jp-InputArea-prompt").inner_text().strip()


def wait_until_ran(page, index: int, not_count: str = "") -> None:
    """Wait until a code cell shows an execution count ([3], not [*] or [ ]) other than `not_count`.

    Fail at once on a traceback.
    """
    prompt = cell(page, index).locator(".jp-InputArea-prompt")
    deadline = time.monotonic() + CELL_SECONDS
    while True:
        # A failed cell stops the queue, so the cell waited for would never run: report the traceback instead.
        tracebacks = [text for text in page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output").all_inner_texts()
                      if "Traceback (most recent call last)" in text]
        assert not tracebacks, tracebacks[0][-3000:]
        shown = prompt.inner_text().strip()
        if re.fullmatch(r"\[\d+\]:", shown) and shown != not_count:
            return
        assert time.monotonic() < deadline, f"cell {index} did not finish within {CELL_SECONDS} s"
        page.wait_for_timeout(500)


def output_text(page, index: int) -> str:
    return "\n".join(cell(page, index).locator(".jp-OutputArea-output").all_inner_texts())
