"""pytest set-up for executing the notebooks with nbval: smoke mode, offline, runs in a temporary folder.

nbval starts each notebook's kernel with this process's environment, so the
variables set here reach the notebooks: AGNEWS_BERT_SMOKE switches them to
the smoke preset (a tiny model on the bundled sample, seconds on a CPU), and
AGNEWS_BERT_RUNS_DIR sends their runs to one temporary folder per test session
(notebook 03 finds the run notebook 01 saved there; the working tree stays clean).

Notebooks 03 and 04 open a finished run. Run without notebook 01 (as in
`pytest --nbval-lax notebooks/03_inspect_and_predict.ipynb`), they find none, so
before their first cell the tiny offline run is trained here, as notebook 01 would.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ["AGNEWS_BERT_SMOKE"] = "1"
if "AGNEWS_BERT_RUNS_DIR" not in os.environ:
    os.environ["AGNEWS_BERT_RUNS_DIR"] = tempfile.mkdtemp(prefix="agnews_bert_notebook_runs_")
    atexit.register(shutil.rmtree, os.environ["AGNEWS_BERT_RUNS_DIR"], ignore_errors=True)
for variable in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(variable, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The smoke model is tiny: one thread is fastest, and steady on shared 2-core CI runners.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402

# Lines that say nothing a student needs; a cell that prints one fails, so they cannot creep back.
NOISE = ("Writing model shards",)


NEEDS_A_RUN = ("03_", "04_")  # the notebooks that open a finished run


def pytest_runtest_setup(item):
    """Before a cell of notebook 03 or 04: train the tiny run if the runs folder has no finished run."""
    if not Path(item.path).name.startswith(NEEDS_A_RUN):
        return
    import agnews_bert as ab

    runs_dir = os.environ["AGNEWS_BERT_RUNS_DIR"]
    if ab.lab.runs_table(runs_dir).empty:
        ab.train(ab.RunConfig.from_preset("smoke", output_dir=runs_dir))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After nbval runs a cell, fail it if any of its outputs (text, or a progress bar's text) holds NOISE."""
    result = yield
    for output in getattr(item, "test_outputs", None) or []:
        texts = [output.get("text", "")] + [value for value in output.get("data", {}).values() if isinstance(value, str)]
        found = [noise for noise in NOISE if any(noise in text for text in texts)]
        assert not found, f"{item.name} shows {found[0]!r}; keep such lines out of what students read"
    return result
