"""Bin operations (minikv.core.bin_ops): applied in order to a copy, all or nothing."""

from __future__ import annotations

import pytest

from minikv import policies as P
from minikv.core.bin_ops import apply_ops
from minikv.errors import (
    BinIncompatibleType,
    BinNameError,
    InvalidRequest,
    UnsupportedFeature,
)

READ, WRITE, INCR = P.OPERATOR_READ, P.OPERATOR_WRITE, P.OPERATOR_INCR
APPEND, PREPEND, TOUCH, DELETE = P.OPERATOR_APPEND, P.OPERATOR_PREPEND, P.OPERATOR_TOUCH, P.OPERATOR_DELETE


def test_original_bins_untouched() -> None:
    """apply_ops works on a copy: the bins passed in are never changed."""
    bins = {"n": 1}
    out = apply_ops(bins, [(INCR, "n", 1), (WRITE, "s", "x")], exists=True)
    assert bins == {"n": 1}
    assert out.bins == {"n": 2, "s": "x"}


def test_failure_changes_nothing() -> None:
    """When a later operation fails, apply_ops raises and the caller's bins are as before."""
    bins = {"n": 1, "s": "x"}
    with pytest.raises(BinIncompatibleType):
        apply_ops(bins, [(INCR, "n", 1), (APPEND, "n", "z")], exists=True)
    assert bins == {"n": 1, "s": "x"}


def test_reads_see_earlier_operations() -> None:
    """Operations run in order: a read after a write sees the new value, before it the old."""
    out = apply_ops({"n": 1}, [(READ, "n", None), (INCR, "n", 5), (READ, "n", None)], exists=True)
    assert out.reads == [("n", 1), ("n", 6)]


def test_read_all_bins() -> None:
    """A read with no bin name returns every bin."""
    out = apply_ops({"a": 1, "b": 2}, [(READ, None, None)], exists=True)
    assert sorted(out.reads) == [("a", 1), ("b", 2)]
    assert not out.wrote


def test_read_missing_bin_is_none() -> None:
    """Reading a bin the record lacks returns None for it."""
    assert apply_ops({}, [(READ, "x", None)], exists=False).reads == [("x", None)]


def test_write_and_delete_bin() -> None:
    """A write sets a bin; a write of None deletes it; both count as writes."""
    out = apply_ops({"a": 1, "b": 2}, [(WRITE, "a", 10), (WRITE, "b", None)], exists=True)
    assert out.bins == {"a": 10}
    assert out.wrote


def test_write_checks_name_and_value() -> None:
    """Writes refuse long bin names and unsupported values."""
    with pytest.raises(BinNameError):
        apply_ops({}, [(WRITE, "x" * 16, 1)], exists=False)
    with pytest.raises(InvalidRequest):
        apply_ops({}, [(WRITE, "a", {1, 2})], exists=False)


@pytest.mark.parametrize(
    ("start", "by", "result"),
    [({"n": 1}, 2, 3), ({}, 5, 5), ({"n": 1.5}, 1.0, 2.5), ({}, 0.5, 0.5), ({"n": 3}, -4, -1)],
)
def test_increment(start: dict, by: float, result: float) -> None:
    """Increment adds to an int or float bin; a missing bin counts as 0 of the increment's type."""
    out = apply_ops(start, [(INCR, "n", by)], exists=bool(start))
    assert out.bins["n"] == result
    assert type(out.bins["n"]) is type(result)
    assert out.wrote


@pytest.mark.parametrize("start", [{"n": "text"}, {"n": 1.5}, {"n": True}, {"n": [1]}])
def test_increment_type_clash(start: dict) -> None:
    """Incrementing a str, list or bool bin, or a float bin by an int, is BinIncompatibleType."""
    with pytest.raises(BinIncompatibleType):
        apply_ops(start, [(INCR, "n", 1)], exists=True)


@pytest.mark.parametrize("by", ["1", True, None, [1]])
def test_increment_by_non_number(by: object) -> None:
    """Incrementing by something that is not an int or float (bool included) is an InvalidRequest."""
    with pytest.raises(InvalidRequest):
        apply_ops({"n": 1}, [(INCR, "n", by)], exists=True)


def test_increment_overflow_refused() -> None:
    """An increment leaving signed 64 bits is refused rather than wrapped."""
    with pytest.raises(InvalidRequest):
        apply_ops({"n": 2**63 - 1}, [(INCR, "n", 1)], exists=True)


@pytest.mark.parametrize(
    ("op", "start", "value", "result"),
    [
        (APPEND, {"s": "ab"}, "cd", "abcd"),
        (PREPEND, {"s": "ab"}, "cd", "cdab"),
        (APPEND, {"s": b"\x01"}, b"\x02", b"\x01\x02"),
        (PREPEND, {"s": b"\x01"}, b"\x02", b"\x02\x01"),
        (APPEND, {}, "x", "x"),
        (PREPEND, {}, b"x", b"x"),
    ],
)
def test_append_prepend(op: int, start: dict, value: object, result: object) -> None:
    """Append and prepend join str to str and bytes to bytes; a missing bin starts empty."""
    out = apply_ops(start, [(op, "s", value)], exists=bool(start))
    assert out.bins["s"] == result
    assert out.wrote


@pytest.mark.parametrize("start", [{"s": 1}, {"s": b"x"}, {"s": [1]}])
def test_append_type_clash(start: dict) -> None:
    """Appending a str to an int, bytes or list bin is BinIncompatibleType."""
    with pytest.raises(BinIncompatibleType):
        apply_ops(start, [(APPEND, "s", "x")], exists=True)


@pytest.mark.parametrize("value", [1, None, ["x"]])
def test_append_non_string(value: object) -> None:
    """Appending something other than str or bytes is an InvalidRequest."""
    with pytest.raises(InvalidRequest):
        apply_ops({"s": "a"}, [(PREPEND, "s", value)], exists=True)


def test_touch() -> None:
    """A touch marks the record touched (not written) and carries its ttl, if any."""
    out = apply_ops({"a": 1}, [(TOUCH, None, 60)], exists=True)
    assert out.touched and not out.wrote
    assert out.ttl == 60
    assert apply_ops({"a": 1}, [(TOUCH, None, None)], exists=True).ttl is None


@pytest.mark.parametrize("ttl", ["60", 1.5, True])
def test_touch_ttl_must_be_int(ttl: object) -> None:
    """A touch ttl that is not an int is an InvalidRequest."""
    with pytest.raises(InvalidRequest):
        apply_ops({"a": 1}, [(TOUCH, None, ttl)], exists=True)


def test_delete_record() -> None:
    """OPERATOR_DELETE empties the bins and asks for the whole record to go."""
    out = apply_ops({"a": 1}, [(DELETE, None, None)], exists=True)
    assert out.delete_record and out.bins == {}


def test_write_after_delete() -> None:
    """Operations after a delete start from an empty record."""
    out = apply_ops({"a": 1, "b": 2}, [(DELETE, None, None), (WRITE, "c", 3)], exists=True)
    assert out.bins == {"c": 3}


def test_unknown_operator() -> None:
    """An operator minikv does not implement is UnsupportedFeature."""
    with pytest.raises(UnsupportedFeature):
        apply_ops({}, [(99, "a", 1)], exists=False)
