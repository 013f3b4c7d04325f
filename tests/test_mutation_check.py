"""The mutation check's list stays true to the code: every snippet is still there, every test still exists."""

import re
from pathlib import Path

import mutation_check

ROOT = Path(__file__).resolve().parents[1]


def test_the_check_has_at_least_30_mutants_over_every_stage():
    assert len(mutation_check.MUTANTS) >= 30
    stages = {mutant.name.split(":")[0] for mutant in mutation_check.MUTANTS}
    assert {"splits", "identity", "metrics", "report", "scoring", "truncation", "checkpoints", "resume", "oom",
            "precision", "estimate", "training", "index", "cli", "lock"} <= stages
    assert len({mutant.name for mutant in mutation_check.MUTANTS}) == len(mutation_check.MUTANTS)


def test_every_mutant_snippet_is_in_its_file_exactly_once():
    assert mutation_check.stale_entries() == []
    assert all(mutant.original != mutant.mutant and mutant.why for mutant in mutation_check.MUTANTS)


def test_every_mutant_names_tests_that_exist():
    for mutant in mutation_check.MUTANTS:
        assert mutant.tests, mutant.name
        for test in mutant.tests:
            file, name = test.split("::")
            assert re.search(rf"^def {name}\(", (ROOT / file).read_text(encoding="utf-8"), flags=re.M), test


def test_a_mutant_is_applied_to_a_copy_and_the_file_is_restored(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "lib.py").write_text("ANSWER = 42\n", encoding="utf-8")
    (tmp_path / "tests" / "test_lib.py").write_text("import lib\n\n\ndef test_answer():\n    assert lib.ANSWER == 42\n",
                                                    encoding="utf-8")
    caught = mutation_check.Mutant("lib: answer", "lib.py", "ANSWER = 42", "ANSWER = 41", ["tests/test_lib.py"], "x")
    equivalent = mutation_check.Mutant("lib: same", "lib.py", "ANSWER = 42", "ANSWER = 40 + 2", ["tests/test_lib.py"],
                                       "x")
    stale = mutation_check.Mutant("lib: gone", "lib.py", "ANSWER = 7", "ANSWER = 8", ["tests/test_lib.py"], "x")
    assert mutation_check.check_mutant(tmp_path, caught)[0] == "caught"
    assert mutation_check.check_mutant(tmp_path, equivalent)[0] == "survived"
    assert mutation_check.check_mutant(tmp_path, stale)[0] == "error"
    assert (tmp_path / "lib.py").read_text(encoding="utf-8") == "ANSWER = 42\n"
