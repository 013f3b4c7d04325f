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


def test_predict_stays_the_function_after_its_module_is_imported():
    import agnews_bert as ab
    import agnews_bert.predict  # the import sets the package attribute `predict`; the function must keep it

    assert callable(ab.predict) and ab.predict.__module__ == "agnews_bert.predict"
    assert set(ab.__all__) <= set(dir(ab))
    with pytest.raises(AttributeError):
        ab.no_such_name
