"""Grading (issue 7): every exercise's checks pass on solutions/ and fail on the untouched stubs,
reports are plain deterministic text, learner files reload on every check, and a learner's
exception is reported, never raised.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import minikv
from minikv import grade
from minikv.grading import REPO_ROOT, CheckFailed, CheckResult, Exercise, GradeReport, check, exercise_ids

STUB = (REPO_ROOT / "exercises" / "ex1_partitions.py").read_text()
PARTITION_ID_BODY = "    return digest[0] | ((digest[1] & 0x0F) << 8)\n"
STUB_1_1 = '    raise NotImplementedError("Exercise 1.1: return the low 12 bits of the digest, read little-endian")\n'
ONLY_PARTITION_ID = STUB.replace(STUB_1_1, PARTITION_ID_BODY)  # 1.1 solved, 1.2 and 1.3 still stubs


@pytest.fixture(autouse=True)
def restore_learner_modules():
    """check() puts the learner's module in sys.modules; keep later tests from seeing a temp copy."""
    before = {name: module for name, module in sys.modules.items() if name.startswith(("exercises", "solutions"))}
    yield
    for name in [name for name in sys.modules if name.startswith(("exercises", "solutions"))]:
        del sys.modules[name]
    sys.modules.update(before)


def learner_root(tmp_path: Path, text: str) -> Path:
    """A folder laid out like the repository root, holding exercises/ex1_partitions.py = text."""
    (tmp_path / "exercises").mkdir(exist_ok=True)
    (tmp_path / "exercises" / "ex1_partitions.py").write_text(text)
    return tmp_path


# the meta test: the checks tell a solved exercise from an untouched one


def test_every_numbered_exercise_is_registered():
    """The registry finds minikv/grading/exN.py by itself, ex1 included, in notebook order."""
    ids = exercise_ids()
    assert "ex1" in ids and ids == sorted(ids, key=lambda name: int(name[2:]))


@pytest.mark.parametrize("exercise_id", exercise_ids())
def test_every_check_passes_on_the_solutions(exercise_id):
    """Each registered exercise earns full points on its reference answers in solutions/."""
    report = check(exercise_id, source="solutions")
    assert report.passed, str(report)
    assert report.points == report.max_points > 0


@pytest.mark.parametrize("exercise_id", exercise_ids())
def test_every_check_fails_on_the_untouched_exercises(exercise_id):
    """Each check of each registered exercise fails on the untouched stub in exercises/."""
    report = check(exercise_id)
    assert not any(row.passed for row in report.rows), str(report)
    assert report.points == 0 and not report.passed


def test_grading_is_reachable_from_the_package():
    """`import minikv; minikv.grading.check("ex1")` works without another import."""
    assert minikv.grading.check is check


# reports


def test_report_text_is_plain_and_deterministic():
    """A report prints its points, then PASS/FAIL per check, with messages only under failures."""
    report = GradeReport("ex9", "Demo", "exercises/ex9_demo.py", (
        CheckResult("first", True, "it did the first thing"),
        CheckResult("second", False, "f(1)\n  expected 2\n  got      3"),
    ), max_points=4)
    assert str(report) == (
        "ex9 Demo (exercises/ex9_demo.py): 2/4 points, 1 failing\n"
        "  PASS  first\n"
        "  FAIL  second\n"
        "        f(1)\n"
        "          expected 2\n"
        "          got      3")
    assert not report.passed


def test_report_html_escapes_the_learners_output():
    """The notebook view escapes messages, so a learner's repr of `<tag>` cannot break the page."""
    report = GradeReport("ex9", "Demo", "exercises/ex9_demo.py",
                         (CheckResult("c", False, "got <script>"),), max_points=1)
    page = report._repr_html_()
    assert "&lt;script&gt;" in page and "<script>" not in page and "0/1 points" in page


def test_the_report_text_is_stable():
    """Grading the same file twice gives the same text, fit for a golden notebook cell."""
    assert str(check("ex1")) == str(check("ex1"))
    header = str(check("ex1")).splitlines()[0]
    assert header == "ex1 Keys and partitions (exercises/ex1_partitions.py): 0/4 points, 4 failing"


def test_points_default_to_one_per_check_and_share_out_rounding_down():
    """An Exercise without points is worth one per check; a partial pass earns its share, rounded down."""
    exercise = Exercise(id="ex9", title="Demo", module="ex9_demo", checks=[len, str, repr])
    assert exercise.points == 3
    rows = (CheckResult("a", True, ""), CheckResult("b", False, ""), CheckResult("c", False, ""))
    assert GradeReport("ex9", "Demo", "p", rows, max_points=5).points == 1


def test_an_unknown_exercise_is_a_clear_error():
    """Asking for an exercise that does not exist names the ones that do."""
    with pytest.raises(ValueError, match="ex1"):
        check("ex99")


# reloading and failures in the learner's code


def test_an_edited_learner_file_counts_without_a_restart(tmp_path):
    """check() reads the learner's file afresh each time: saving a fix turns a failure into a pass."""
    root = learner_root(tmp_path, STUB)
    assert not check("ex1", root=root).rows[0].passed
    (root / "exercises" / "ex1_partitions.py").write_text(ONLY_PARTITION_ID)
    assert [row.passed for row in check("ex1", root=root).rows] == [True, False, False, False]
    # the same length, saved within the same second: Python's bytecode cache would miss this edit
    (root / "exercises" / "ex1_partitions.py").write_text(ONLY_PARTITION_ID.replace("0x0F) << 8", "0x0F) >> 8"))
    assert not check("ex1", root=root).rows[0].passed


def test_a_wrong_answer_shows_the_failing_case(tmp_path):
    """A wrong partition_id is reported with the digest, the expected id and the learner's id."""
    big_endian = "    return int.from_bytes(digest[:2], 'big') & 0xFFF\n"
    root = learner_root(tmp_path, ONLY_PARTITION_ID.replace(PARTITION_ID_BODY, big_endian))
    row = check("ex1", root=root).rows[0]
    assert not row.passed
    assert row.message.splitlines() == [
        "partition_id(bytes.fromhex('607cddba7cd111745ef0a3d783d57f0e83c8f311'))",
        "  expected 3168", "  got      124",
        "  hint: that is the first two bytes read big-endian; Aerospike reads little-endian"]


def test_an_exception_in_learner_code_is_reported_not_raised(tmp_path):
    """An exception thrown by the learner's function becomes a failed row naming the call and the line."""
    root = learner_root(tmp_path, ONLY_PARTITION_ID.replace(PARTITION_ID_BODY, "    return digest[0] // 0\n"))
    report = check("ex1", root=root)
    message = report.rows[0].message
    assert message.startswith("partition_id(b'`|") and "raised ZeroDivisionError: integer division" in message
    assert "at exercises/ex1_partitions.py line 54, in partition_id: return digest[0] // 0" in message
    assert not report.passed and report.points == 0


def test_a_learner_file_that_does_not_import_is_reported(tmp_path):
    """A syntax error fails every check with the file and line, instead of raising."""
    root = learner_root(tmp_path, STUB + "\ndef broken(:\n")
    report = check("ex1", root=root)
    assert not any(row.passed for row in report.rows)
    assert report.rows[0].message.startswith("exercises/ex1_partitions.py does not import:\nSyntaxError")
    assert "at exercises/ex1_partitions.py line" in report.rows[0].message


def test_a_missing_learner_file_is_reported(tmp_path):
    """A missing exercise file is a failed row saying which file, not a FileNotFoundError."""
    (tmp_path / "exercises").mkdir()
    report = check("ex1", root=tmp_path)
    assert report.rows[0].message == "there is no file exercises/ex1_partitions.py"


def test_a_check_failed_message_reaches_the_report_unchanged():
    """CheckFailed carries the learner-facing message as its `message`."""
    assert CheckFailed("f(1)\n  expected 2").message == "f(1)\n  expected 2"


# python -m minikv.grade


def test_grade_command_exits_zero_only_when_everything_passes(capsys):
    """`python -m minikv.grade --solutions ex1` exits 0 with a points table; the stubs exit 1."""
    assert grade.main(["--solutions", "ex1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:4] == [
        "Grading solutions/", "",
        "      Exercise              Points  Checks passed",
        "ex1   Keys and partitions    4 / 4   4 of 4"]
    assert grade.main(["ex1"]) == 1
    out = capsys.readouterr().out
    assert "0 / 4" in out and "not written yet: Exercise 1.1" in out


def test_grade_command_refuses_an_unknown_exercise(capsys):
    """An unknown exercise id is a usage error (exit status 2) listing the known ones."""
    with pytest.raises(SystemExit) as exit_info:
        grade.main(["ex99"])
    assert exit_info.value.code == 2
    assert "ex1" in capsys.readouterr().err
