"""The exercise registry: what an exercise is, and how its checks are found.

Each notebook from 01 on ends with one exercise, id "exN" for notebook N. Its checks live in
`minikv/grading/exN.py`, which defines

    EXERCISE = Exercise(id="ex1", title="Keys and partitions", module="ex1_partitions",
                        checks=[check_partition_id, check_succession_row])

A check is `def check_something(learner) -> None`: it gets the learner's module, freshly imported
from `exercises/` (or `solutions/`), calls into it with fixed seeds, and raises `CheckFailed` (or
fails an `assert`) with a message that shows the failing case. The registry finds every
`minikv/grading/ex*.py` by itself; nobody edits a list. Modules are imported only when asked for,
so one broken check module never stops the others.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

Check = Callable[[ModuleType], None]
_EXERCISE_MODULE = re.compile(r"ex(\d+)")


class CheckFailed(Exception):
    """A learner's code gave a wrong answer. The message is shown to the learner as it is, so it
    names the case: the inputs, what was expected and what came back (and for a cluster scenario
    the seed, so the run can be replayed)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def call(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)`, where an exception from the learner's code becomes a CheckFailed that
    names the call, so the report shows the failing case. NotImplementedError passes through: the
    report says "not written yet" instead."""
    try:
        return function(*args)
    except NotImplementedError:
        raise
    except Exception as error:
        shown = ", ".join(repr(arg) for arg in args)
        name = getattr(function, "__name__", repr(function))
        raise CheckFailed(f"{name}({shown}) raised {type(error).__name__}: {error}") from error


@dataclass(frozen=True)
class Exercise:
    """One graded exercise: its checks and the learner module they exercise.

    `module` is the file name without ".py" in exercises/ and solutions/ (e.g. "ex1_partitions").
    `points` is what the whole exercise is worth; by default one point per check.
    """

    id: str
    title: str
    module: str
    points: int | None = None
    checks: Sequence[Check] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        assert _EXERCISE_MODULE.fullmatch(self.id), f"exercise ids look like 'ex1', not {self.id!r}"
        assert self.checks, f"{self.id} has no checks"
        object.__setattr__(self, "checks", tuple(self.checks))
        if self.points is None:
            object.__setattr__(self, "points", len(self.checks))

    @property
    def number(self) -> int:
        return int(self.id[2:])


def exercise_ids() -> list[str]:
    """The ids of every checks module in minikv/grading, in notebook order ("ex1", "ex2", ...)."""
    import minikv.grading as package

    found = [info.name for info in pkgutil.iter_modules(package.__path__)]
    return sorted((name for name in found if _EXERCISE_MODULE.fullmatch(name)), key=lambda name: int(name[2:]))


def get_exercise(exercise_id: str) -> Exercise:
    """The Exercise defined by minikv/grading/<exercise_id>.py (imported on first use)."""
    known = exercise_ids()
    if exercise_id not in known:
        raise ValueError(f"no exercise {exercise_id!r}; the exercises are {known}")
    module = importlib.import_module(f"minikv.grading.{exercise_id}")
    exercise = getattr(module, "EXERCISE", None)
    assert isinstance(exercise, Exercise), f"minikv/grading/{exercise_id}.py must define EXERCISE = Exercise(...)"
    assert exercise.id == exercise_id, f"minikv/grading/{exercise_id}.py defines {exercise.id!r}"
    return exercise


def all_exercises() -> list[Exercise]:
    """Every registered exercise, in notebook order."""
    return [get_exercise(exercise_id) for exercise_id in exercise_ids()]
