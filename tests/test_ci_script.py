"""The README's "Test" section and `.ci/run` run the same commands, each CI stage under a time limit."""

import configparser
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
ON_DEMAND = "# on demand"  # a README line's comment that says CI does not run it
PINS = ROOT / ".ci" / "colab-versions.txt"
CHECK_PINS = ROOT / ".ci" / "check_colab_pins.py"
NOT_ON_COLAB = {"torch", "evaluate", "nbval", "hypothesis"}  # torch: another build; the others: absent there


def readme_test_commands(on_demand: bool = False) -> list:
    """The command lines (python3 ..., apt-get ...) of the bash blocks in the README's Test section.

    on_demand: the lines marked "# on demand" instead of the others.
    """
    readme = ROOT.joinpath("README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Test\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    lines = [line for block in blocks for line in block.splitlines() if (ON_DEMAND in line) == on_demand]
    lines = [line.split("  #")[0].strip() for line in lines]
    return [line for line in lines if line and not line.startswith("#")]


def ci_lines() -> list:
    return [line.strip() for line in ROOT.joinpath(".ci", "run").read_text(encoding="utf-8").splitlines()]


def test_every_python_command_of_the_readme_test_section_is_run_by_ci():
    python_commands = [line for line in readme_test_commands() if line.startswith("python3 ")]
    assert len(python_commands) >= 9
    assert [command for command in python_commands if command not in ci_lines()] == []


def test_every_pytest_command_of_ci_is_in_the_readme():
    ci_pytest = [line for line in ci_lines() if line.startswith("python3 -m pytest")]
    assert len(ci_pytest) == 4
    assert [command for command in ci_pytest if command not in readme_test_commands()] == []


def test_the_suite_collects_the_librarys_docstring_examples_but_not_the_notebooks_twins():
    """`python3 -m pytest -q` (setup.cfg's addopts) runs each library module's >>> examples; notebooks/0*.py,
    the jupytext twins, are left to nbval's .ipynb (importing one would run the whole notebook)."""
    import os

    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "agnews_bert/errors.py",
                                "agnews_bert/lab", "notebooks"], cwd=ROOT, capture_output=True, text=True,
                               env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)), timeout=300)
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    items = collected.stdout.splitlines()
    assert "agnews_bert/errors.py::agnews_bert.errors.setting" in items
    assert "agnews_bert/lab/lock.py::agnews_bert.lab.lock" in items
    assert any(item.startswith("notebooks/01_finetune_modernbert.ipynb::") for item in items)
    assert not [item for item in items if re.match(r"notebooks/0.*\.py", item)]


def test_the_lower_bound_stage_runs_no_doctests():
    """Its explicit test files and its own addopts leave setup.cfg's --doctest-modules out."""
    [command] = [line for line in ci_lines() if line.startswith("python3 -m pytest") and "tests/test_config.py" in line]
    assert '-o addopts="-p no:cacheprovider"' in command and "agnews_bert" not in command.split("addopts")[1]


def test_each_ci_stage_has_a_time_limit_and_prints_its_time():
    script = ROOT.joinpath(".ci", "run").read_text(encoding="utf-8")
    assert 'timeout --kill-after=30 "$limit"' in script and "s, exit status $status" in script
    stages = re.findall(r"^stage ([\w-]+) (\d+) '", script, flags=re.M)
    assert [name for name, _ in stages] == ["install", "tests", "browser", "lower-bound", "colab"]
    assert sum(int(limit) for _, limit in stages) <= 90 * 60  # the limits, with room to spare (the README's Test section gives the measured times)


def test_apt_get_update_comes_before_apt_get_install():
    for lines in (readme_test_commands(), ci_lines()):
        text = "\n".join(lines)
        assert "apt-get update" in text and text.index("apt-get update") < text.index("apt-get install")


def test_on_demand_commands_of_the_readme_run_a_script_that_exists_and_ci_leaves_out():
    on_demand = readme_test_commands(on_demand=True)
    assert on_demand == ["python3 tests/mutation_check.py"]
    assert all(ROOT.joinpath(command.split()[1]).is_file() for command in on_demand)
    assert not [command for command in on_demand if command in ci_lines()]


def pinned_versions() -> dict:
    """{name: version} of .ci/colab-versions.txt, names lower-cased with "-" (as pip compares them)."""
    pairs = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", PINS.read_text(encoding="utf-8"), flags=re.M)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pairs}


def stage_script(name: str) -> str:
    script = ROOT.joinpath(".ci", "run").read_text(encoding="utf-8")
    return re.search(rf"^stage {name} \d+ '\n(.*?)^'", script, flags=re.M | re.S).group(1)


def requirement_names() -> set:
    """Every distribution setup.cfg asks for: install_requires, the test extra and the lora extra (Colab has peft)."""
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg", encoding="utf-8")
    extras = setup["options.extras_require"]
    lines = setup["options"]["install_requires"].split("\n") + extras["test"].split("\n") + extras["lora"].split("\n")
    return {re.split(r"[<>=!~ ;\[]", line.strip())[0].lower() for line in lines if line.strip()}


def test_the_colab_stage_installs_the_pinned_file_and_only_it():
    script = stage_script("colab")
    assert "python3 -m pip install -q -r .ci/colab-versions.txt" in script
    assert "python3 .ci/check_colab_pins.py .ci/colab-versions.txt" in script
    assert re.findall(r"[\w.-]+==[\w.+]+", script) == ["torch==2.13.0"]  # no version pinned beside the file
    assert script.index("-r .ci/colab-versions.txt") < script.index('-e ".[test,explain,lora]"') < script.index("pytest")
    assert script.strip().endswith("python3 -m pytest -q")  # the whole suite and every notebook in notebooks/


def test_every_package_the_project_needs_and_colab_has_is_pinned():
    pins = pinned_versions()
    assert sorted(requirement_names() - NOT_ON_COLAB - set(pins)) == []
    assert not NOT_ON_COLAB & set(pins)
    assert {"transformers": "5.15.0", "datasets": "4.0.0", "huggingface-hub": "1.27.0", "ipywidgets": "7.7.1",
            "accelerate": "1.14.0", "tokenizers": "0.22.2"}.items() <= pins.items()
    header = PINS.read_text(encoding="utf-8").split("\ntransformers==")[0]
    assert "googlecolab/backend-info" in header and "2026-08-19" in header and "torch" in header


def test_the_readme_names_the_pinned_versions():
    section = ROOT.joinpath("README.md").read_text(encoding="utf-8").split("\n## Test\n", 1)[1].split("\n## ", 1)[0]
    named = dict(re.findall(r"\b(transformers|datasets|huggingface_hub|accelerate|tokenizers|ipywidgets) "
                            r"(\d+\.\d+\.\d+)\b", " ".join(section.split())))
    assert len(named) == 6
    assert {name.replace("_", "-"): version for name, version in named.items()}.items() <= pinned_versions().items()


def run_check(tmp_path, before: str, after: str):
    (tmp_path / "before.txt").write_text(before)
    (tmp_path / "after.txt").write_text(after)
    pins = tmp_path / "pins.txt"
    pins.write_text("# Colab\ntransformers==5.15.0\nipywidgets==7.7.1\n")
    return subprocess.run([sys.executable, str(CHECK_PINS), str(pins), str(tmp_path / "before.txt"),
                           str(tmp_path / "after.txt")], capture_output=True, text=True)


def test_the_pin_check_passes_when_installing_only_adds_packages(tmp_path):
    colab = "transformers==5.15.0\nipywidgets==7.7.1\nPyYAML==6.0.3\n"
    checked = run_check(tmp_path, colab, colab + "evaluate==0.4.6\nnbval==0.11.0\n")
    assert checked.returncode == 0
    assert checked.stdout.strip() == ("2 packages at Colab's pinned versions; installing agnews_bert added "
                                      "evaluate==0.4.6, nbval==0.11.0")


def test_the_pin_check_fails_when_installing_changes_or_removes_a_colab_package(tmp_path):
    colab = "transformers==5.15.0\nipywidgets==7.7.1\nPyYAML==6.0.3\n"
    checked = run_check(tmp_path, colab, "transformers==5.24.0\nipywidgets==7.7.1\n")
    assert checked.returncode == 1
    assert "transformers: installing agnews_bert changed 5.15.0 to 5.24.0" in checked.stdout
    assert "pyyaml: installing agnews_bert changed 6.0.3 to nothing" in checked.stdout


def test_the_pin_check_fails_when_the_environment_is_not_at_the_pins(tmp_path):
    checked = run_check(tmp_path, "transformers==5.24.0\nipywidgets==7.7.1\n", "transformers==5.24.0\nipywidgets==7.7.1\n")
    assert checked.returncode == 1
    assert "transformers: pinned 5.15.0, installed 5.24.0 (before installing agnews_bert)" in checked.stdout
