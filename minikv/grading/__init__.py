"""Grading: run an exercise's checks against your code and say what passed.

    import minikv
    minikv.grading.check("ex1")                        # your code, in exercises/ex1_partitions.py
    minikv.grading.check("ex1", source="solutions")    # the reference answers

`check` imports your module afresh every time (edit the file, save, run the cell again: no kernel
restart), runs each check of the exercise and returns a `GradeReport`, which a notebook shows as a
small table. It never raises because of your code: a `NotImplementedError` from a stub, a wrong
answer or any exception your code throws becomes a failed row with the failing case in it.
`python -m minikv.grade` does the same for every exercise from a terminal.

The checks themselves live in `minikv/grading/exN.py`, one module per exercise (see registry.py).
"""

from __future__ import annotations

import html
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

from minikv.grading.registry import Check, CheckFailed, Exercise, all_exercises, call, exercise_ids, get_exercise

__all__ = ["CheckFailed", "CheckResult", "Exercise", "GradeReport", "REPO_ROOT", "all_exercises", "call",
           "check", "exercise_ids", "get_exercise", "load_learner"]

# exercises/ and solutions/ sit next to the minikv package, at the root of the repository
REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("exercises", "solutions")


class CheckResult(NamedTuple):
    """One row of a report: the check's name, whether it passed, and what to tell the learner."""

    name: str
    passed: bool
    message: str


@dataclass(frozen=True)
class GradeReport:
    """The outcome of grading one exercise: a row per check, and the points they earn."""

    exercise_id: str
    title: str
    path: str  # the graded file, relative to the repository root: "exercises/ex1_partitions.py"
    rows: tuple[CheckResult, ...]
    max_points: int

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.rows)

    @property
    def points(self) -> int:
        """Points earned: the exercise's points shared out over its checks, rounded down."""
        return self.max_points * sum(row.passed for row in self.rows) // len(self.rows)

    def __str__(self) -> str:
        verdict = "all checks pass" if self.passed else f"{sum(not row.passed for row in self.rows)} failing"
        lines = [f"{self.exercise_id} {self.title} ({self.path}): {self.points}/{self.max_points} points, {verdict}"]
        for row in self.rows:
            lines.append(f"  {'PASS' if row.passed else 'FAIL'}  {row.name}")
            lines.extend(f"        {line}" for line in row.message.splitlines() if not row.passed)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.passed else "#c62828"
        head = (f"<b>{html.escape(self.exercise_id)} {html.escape(self.title)}</b> "
                f"<code>{html.escape(self.path)}</code>: "
                f"<b style='color:{colour}'>{self.points}/{self.max_points} points</b>")
        cells = "".join(_html_row(row) for row in self.rows)
        return f"<div>{head}<table style='text-align:left'>{cells}</table></div>"


def _html_row(row: CheckResult) -> str:
    mark = "<span style='color:#2e7d32'>&#10004; pass</span>" if row.passed else \
        "<span style='color:#c62828'>&#10008; FAIL</span>"
    message = f"<pre style='margin:0'>{html.escape(row.message)}</pre>" if row.message else ""
    return (f"<tr><td style='text-align:left;vertical-align:top'>{mark}</td>"
            f"<td style='text-align:left;vertical-align:top'><code>{html.escape(row.name)}</code>{message}</td></tr>")


# loading the learner's module


def load_learner(module: str, source: str = "exercises", root: Path | None = None) -> ModuleType:
    """Import <root>/<source>/<module>.py afresh, as `<source>.<module>`, and return it.

    The file is compiled from its current text, bypassing Python's bytecode cache, so an edit
    saved a moment ago always counts. The new module replaces any older copy in sys.modules and,
    for the repository's own folders, the repository root goes on sys.path: then
    `import exercises.ex1_partitions` in a notebook and LocalCluster's node processes (which
    import plugins by name) find the same code.
    """
    root = Path(root or REPO_ROOT).resolve()
    path = root / source / f"{module}.py"
    name = f"{source}.{module}"
    if root == REPO_ROOT and str(root) not in sys.path:
        sys.path.append(str(root))
    learner = ModuleType(name)
    learner.__file__ = str(path)
    learner.__package__ = source
    code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
    sys.modules[name] = learner  # dataclasses and pickling look a module up while it runs
    try:
        exec(code, learner.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return learner


# running the checks


def check(exercise_id: str, source: str = "exercises", root: Path | None = None) -> GradeReport:
    """Grade one exercise: run its checks on <source>/<module>.py and report, never raise.

    `source` is "exercises" (your code) or "solutions" (the reference answers). `root` is the
    folder holding exercises/ and solutions/; it defaults to the repository root.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    exercise = get_exercise(exercise_id)
    root = Path(root or REPO_ROOT)
    rows = [_run_check(exercise, check_fn, source, root) for check_fn in exercise.checks]
    return GradeReport(exercise.id, exercise.title, f"{source}/{exercise.module}.py", tuple(rows),
                       exercise.points)


def _run_check(exercise: Exercise, check_fn: Check, source: str, root: Path) -> CheckResult:
    """Run one check on a freshly loaded learner module; any failure becomes the row's message."""
    name = check_fn.__name__.removeprefix("check_")
    learner_dir = root / source
    try:
        learner = load_learner(exercise.module, source, root)
    except FileNotFoundError:
        return CheckResult(name, False, f"there is no file {source}/{exercise.module}.py")
    except (Exception, SystemExit) as error:
        return CheckResult(name, False, f"{source}/{exercise.module}.py does not import:\n"
                                        f"{_describe(error, learner_dir, root)}")
    try:
        check_fn(learner)
    except CheckFailed as error:  # `raise CheckFailed(case) from exc`: the case, then where exc rose
        cause = error.__cause__
        where = _where(cause, learner_dir, root) if cause and not isinstance(cause, CheckFailed) else ""
        return CheckResult(name, False, error.message + where)
    except (Exception, SystemExit) as error:  # KeyboardInterrupt still stops the cell
        return CheckResult(name, False, _describe(error, learner_dir, root))
    return CheckResult(name, True, _summary(check_fn))


def _summary(check_fn: Check) -> str:
    """The first line of a check's docstring: what it verified."""
    return (check_fn.__doc__ or "").strip().split("\n")[0]


def _describe(error: BaseException, learner_dir: Path, root: Path) -> str:
    """A learner-facing account of an exception: what it was and where in *their* file it rose."""
    if isinstance(error, NotImplementedError):
        text = f"not written yet: {error}" if str(error) else "not written yet (NotImplementedError)"
    elif isinstance(error, AssertionError):
        text = str(error) or "an assertion failed"
    else:
        text = f"{type(error).__name__}: {error}"
    if isinstance(error, SyntaxError) and error.filename:
        return text + f"\n  at {_relative(error.filename, root)} line {error.lineno}"
    return text if isinstance(error, NotImplementedError) else text + _where(error, learner_dir, root)


def _where(error: BaseException, learner_dir: Path, root: Path) -> str:
    """Lines naming where `error` rose: in the learner's file if it passed through it, else the
    innermost frame (e.g. where minikv choked on a wrong answer)."""
    frames = traceback.extract_tb(error.__traceback__)
    shown = [frame for frame in frames if _inside(frame.filename, learner_dir)][-3:] or frames[-1:]
    return "".join(f"\n  at {_relative(frame.filename, root)} line {frame.lineno}, in {frame.name}: {frame.line}"
                   for frame in shown)


def _inside(filename: str, folder: Path) -> bool:
    try:
        return Path(filename).resolve().is_relative_to(folder.resolve())
    except (OSError, ValueError):
        return False


def _relative(filename: str, root: Path) -> str:
    """A path relative to the repository root when it is inside it (reports stay machine-independent)."""
    path = Path(filename).resolve()
    return path.relative_to(root.resolve()).as_posix() if path.is_relative_to(root.resolve()) else path.name
