"""The report a notebook displays: verdict, counts, anomalies, and the two figures' structure
(issue 4: "a small report object (verdict, counts, figures)"; figures are never rendered here)."""

import pytest

from minikv.jepsen import History, Op, Report

go = pytest.importorskip("plotly.graph_objects")


def stale_read_history() -> History:
    """x: write 1 ok, write 2 in doubt, write 3 ok, then a read of 1 (stale); plus a failed cas."""
    history = History()
    history.invoke(0, "write", "x", 1, time=0.0)
    history.ok(0, time=0.2)
    history.invoke(1, "write", "x", 2, time=0.5)
    history.info(1, time=1.5)
    history.invoke(0, "write", "x", 3, time=1.0)
    history.ok(0, time=1.3)
    history.invoke(0, "read", "x", time=2.0)
    history.ok(0, time=2.2, result=1)
    history.invoke(2, "cas", "x", 7, gen=9, time=2.0)
    history.fail(2, time=2.4)
    return history


def mixed_history() -> list[Op]:
    """A valid register, a counter that lost one increment, a set that lost element 2."""
    return [
        Op(0, 0, "write", "r", 1, None, 0.0, 0.1, "ok"), Op(0, 1, "read", "r", None, None, 0.2, 0.3, "ok", 1),
        Op(0, 0, "incr", "c", 1, None, 1.0, 1.1, "ok"), Op(0, 1, "incr", "c", 1, None, 1.0, 1.2, "ok"),
        Op(0, 2, "read", "c", None, None, 2.0, 2.1, "ok", 1),
        Op(0, 0, "add", "s", 1, None, 3.0, 3.1, "ok"), Op(0, 1, "add", "s", 2, None, 3.0, 3.1, "ok"),
        Op(0, 2, "read", "s", None, None, 4.0, 4.1, "ok", [1]),
    ]


def test_report_of_a_valid_history():
    """A linearizable history gives a VALID report with no anomalies."""
    history = History.of([Op(0, 0, "write", 1, 5, None, 0, 1, "ok"), Op(0, 1, "read", 1, None, None, 2, 3, "ok", 5)])
    report = Report.check(history)
    assert report.valid and report.anomalies == []
    assert str(report).startswith("VALID: 2 ops (2 ok, 0 fail, 0 in doubt) by 2 processes over 1 key")


def test_report_of_an_invalid_history_names_the_anomaly():
    """A stale read makes the report INVALID, with the checker's sentence among the anomalies."""
    report = Report.check(stale_read_history())
    assert not report.valid
    assert report.counts == {"ops": 5, "ok": 3, "fail": 1, "info": 1, "processes": 3, "keys": 1, "anomalies": 1,
                             "lost_increments": 0, "lost_elements": 0}
    assert "stale value" in report.anomalies[0] and report.anomalies[0] in str(report)


def test_report_runs_the_checker_that_fits_each_key():
    """Registers get linearizability, counters lost increments, sets lost elements."""
    report = Report.check(mixed_history())
    assert report.register.valid and set(report.register.keys) == {"r"}
    assert [r.lost for r in report.counters] == [1] and [r.lost for r in report.sets] == [(2,)]
    assert not report.valid and report.counts["lost_increments"] == 1 and report.counts["lost_elements"] == 1
    assert len(report.anomalies) == 2


def test_report_displays_as_html_in_a_notebook():
    """_repr_html_ gives a <pre> block whose first line is the verdict."""
    page = Report.check(stale_read_history())._repr_html_()
    assert page.startswith("<pre><b") and "INVALID" in page


def test_timeline_has_a_bar_per_op_by_outcome_and_marks_the_impossible_one():
    """One bar trace per outcome plus the impossible op, an X marker, one bar per op."""
    fig = Report.check(stale_read_history()).figure_timeline()
    bars = {trace.name: trace for trace in fig.data if trace.type == "bar"}
    assert list(bars) == ["ok", "fail (did not happen)", "info (in doubt)", "impossible"]
    assert [len(bars[name].base) for name in bars] == [2, 1, 1, 1]
    [marker] = [trace for trace in fig.data if trace.type == "scatter"]
    assert marker.name == "cannot be linearized" and list(marker.x) == [2.2]
    assert set(fig.layout.yaxis.categoryarray) == {"p0", "p1", "p2"}


def test_timeline_outlines_the_window_around_the_impossible_op():
    """Ops in the failing window get an outline; the others do not."""
    fig = Report.check(stale_read_history()).figure_timeline()
    ok = next(trace for trace in fig.data if trace.name == "ok")
    assert list(ok.marker.line.width) == [0, 2]  # write 1 is before the window, write 3 in it


def test_valid_timeline_has_no_impossible_traces():
    """Nothing is crossed out when the history is linearizable."""
    fig = Report.check(mixed_history()[:2]).figure_timeline()
    assert [trace.name for trace in fig.data] == ["ok", "fail (did not happen)", "info (in doubt)"]


def test_figures_shade_the_nemesis_windows():
    """Each nemesis window becomes a shaded band with its label, on both figures."""
    report = Report.check(stale_read_history(), nemesis=[(0.4, 1.5, "isolate n2"), (1.8, 2.0, "kill n1")])
    for fig in (report.figure_timeline(), report.figure_latency()):
        assert len(fig.layout.shapes) == 2
        assert [a.text for a in fig.layout.annotations] == ["isolate n2", "kill n1"]


def test_latency_plot_has_a_point_per_completed_op_by_outcome():
    """Maelstrom-style: one trace per outcome, x = invocation time, y = latency in ms, log scale."""
    history = stale_read_history()
    history.invoke(3, "write", "x", 9, time=3.0)  # never completes: no latency to plot
    fig = Report.check(history).figure_latency()
    assert [trace.name for trace in fig.data] == ["ok", "fail (did not happen)", "info (in doubt)"]
    assert [len(trace.x) for trace in fig.data] == [3, 1, 1]
    assert fig.data[0].y[0] == pytest.approx(200.0) and fig.layout.yaxis.type == "log"
