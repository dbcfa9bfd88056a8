"""Grade the exercises from a terminal: a table of points, then what failed and why.

    .venv/bin/python -m minikv.grade                  # your code in exercises/
    .venv/bin/python -m minikv.grade ex1 ex3          # only these exercises
    .venv/bin/python -m minikv.grade --solutions      # the reference answers in solutions/

The exit status is 0 only if every check of every graded exercise passes, so a script or a CI job
can use it. The notebooks run the same checks one exercise at a time with `minikv.grading.check`.
"""

from __future__ import annotations

import argparse
import sys

from minikv.grading import GradeReport, check, exercise_ids


def table(reports: list[GradeReport]) -> str:
    """The points table: one line per exercise and a total."""
    width = max([len(report.title) for report in reports] + [len("Total")])
    lines = [f"{'':5} {'Exercise':{width}}  {'Points':>7}  Checks passed"]
    for report in reports:
        passed = sum(row.passed for row in report.rows)
        lines.append(f"{report.exercise_id:5} {report.title:{width}}  {report.points:>3} / {report.max_points:<3}"
                     f" {passed} of {len(report.rows)}")
    points, max_points = sum(r.points for r in reports), sum(r.max_points for r in reports)
    lines.append(f"{'':5} {'Total':{width}}  {points:>3} / {max_points}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Grade, print, and return the exit status (0: everything passes)."""
    parser = argparse.ArgumentParser(prog="python -m minikv.grade", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exercises", nargs="*", metavar="exN", help="exercise ids (default: all)")
    parser.add_argument("--solutions", action="store_true", help="grade solutions/ instead of exercises/")
    args = parser.parse_args(argv)
    known = exercise_ids()
    unknown = [name for name in args.exercises if name not in known]
    if unknown:
        parser.error(f"unknown exercise(s) {unknown}; the exercises are {known}")
    source = "solutions" if args.solutions else "exercises"
    reports = [check(exercise_id, source=source) for exercise_id in args.exercises or known]
    print(f"Grading {source}/\n")
    print(table(reports))
    for report in reports:
        if not report.passed:
            print(f"\n{report}")
    return 0 if reports and all(report.passed for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
