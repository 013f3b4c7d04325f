"""The README's "Test" section and `.ci/run` run the same commands, each CI stage under a time limit."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
ON_DEMAND = "# on demand"  # a README line's comment that says CI does not run it


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


def test_each_ci_stage_has_a_time_limit_and_prints_its_time():
    script = ROOT.joinpath(".ci", "run").read_text(encoding="utf-8")
    assert 'timeout --kill-after=30 "$limit"' in script and "s, exit status $status" in script
    stages = re.findall(r"^stage ([\w-]+) (\d+) '", script, flags=re.M)
    assert [name for name, _ in stages] == ["install", "tests", "browser", "lower-bound", "colab-like"]
    assert sum(int(limit) for _, limit in stages) <= 90 * 60  # the ceiling for a whole CI run


def test_apt_get_update_comes_before_apt_get_install():
    for lines in (readme_test_commands(), ci_lines()):
        text = "\n".join(lines)
        assert "apt-get update" in text and text.index("apt-get update") < text.index("apt-get install")


def test_on_demand_commands_of_the_readme_run_a_script_that_exists_and_ci_leaves_out():
    on_demand = readme_test_commands(on_demand=True)
    assert on_demand == ["python3 tests/mutation_check.py"]
    assert all(ROOT.joinpath(command.split()[1]).is_file() for command in on_demand)
    assert not [command for command in on_demand if command in ci_lines()]
