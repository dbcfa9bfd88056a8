"""Golden transcripts: each failure story in tests/testdata replays exactly in the simulator.

Run `pytest tests/sim/test_scenarios.py --rewrite` after an intended behaviour change and read the
diff of tests/testdata/*.txt like prose before committing it.
"""

from pathlib import Path

import pytest

from .scenario import TESTDATA, Scenario, parse, render

FILES = sorted(TESTDATA.glob("*.txt"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript(path: Path, request: pytest.FixtureRequest) -> None:
    """Replaying the commands of a transcript produces exactly its recorded events and output."""
    scenario, cases = Scenario(), parse(path)
    actual = [(comments, command, scenario.run(command)) for comments, command, _ in cases]
    if request.config.getoption("--rewrite"):
        path.write_text(render(actual))
        return
    for (_, command, expected), (_, _, got) in zip(cases, actual, strict=True):
        assert got == expected, f"{path.name}: `{command}` produced a different transcript"
