"""The front door is fast: the command line's help and runs list start without torch."""

import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "datasets", "matplotlib")

PROBE = """
import sys
from agnews_bert.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("IMPORTED", *sorted(name for name in {heavy!r} if name in sys.modules))
"""


@pytest.mark.parametrize("arguments", [["--help"], ["runs", "--output-dir", "{empty}"]])
def test_help_and_runs_import_no_torch(tmp_path, arguments):
    arguments = [argument.format(empty=tmp_path) for argument in arguments]
    finished = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *arguments],
                              capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "agnews-bert" in finished.stdout or "No finished runs" in finished.stdout
    assert finished.stdout.strip().splitlines()[-1] == "IMPORTED"


def test_the_package_exports_its_names_lazily():
    probe = "import sys, agnews_bert as ab; ab.RunConfig; print('torch' in sys.modules, callable(ab.predict))"
    finished = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert finished.stdout.split() == ["False", "True"], finished.stderr[-2000:]


FACE = ["AgNewsError", "CLASS_NAMES", "ID2LABEL", "RunConfig", "build_training_args", "compute_metrics",
        "detect_hardware", "evaluate_on_test", "lab", "load_agnews", "load_model", "load_run", "load_tokenizer",
        "make_collator", "notebook", "predict", "push_to_hub", "tokenize_dataset", "train"]


def test_the_face_is_the_pipeline_the_run_and_two_subpackages():
    import agnews_bert as ab

    assert ab.__all__ == FACE and len(ab.__all__) <= 20
    assert all(getattr(ab, name) is not None for name in ab.__all__)
    assert "prepare_run_dir" in ab.lab.__all__ and "save_run" in ab.lab.__all__ and "settings_form" in ab.notebook.__all__
    assert not set(ab.lab.__all__) & set(ab.__all__) and not set(ab.notebook.__all__) & set(ab.__all__)


def test_every_name_of_a_face_is_used_by_a_notebook_the_cli_or_the_readme():
    from pathlib import Path

    import agnews_bert as ab

    root = Path(ab.__file__).parent.parent
    users = " ".join(path.read_text() for path in [root / "README.md", root / "agnews_bert" / "cli.py",
                                                  *sorted((root / "notebooks").glob("0*.py"))])
    unused = [f"{prefix}{name}" for prefix, names in (("ab.", ab.__all__), ("ab.lab.", ab.lab.__all__),
                                                      ("ab.notebook.", ab.notebook.__all__))
              for name in names if f"{prefix}{name}" not in users and f"import {name}" not in users
              and f"{name}(" not in users]
    assert unused == []


def test_a_module_and_a_name_never_share_a_name():
    import agnews_bert as ab
    import agnews_bert.prediction  # the import sets the package attribute `prediction`, a name of its own

    assert callable(ab.predict) and ab.predict.__module__ == "agnews_bert.prediction"
    assert callable(ab.notebook.embedding_map) and ab.notebook.embeddings.__name__ == "agnews_bert.notebook.embeddings"
    assert set(ab.__all__) <= set(dir(ab))
    with pytest.raises(AttributeError):
        ab.no_such_name
