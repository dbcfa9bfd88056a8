"""Lost increments and lost set elements (issue 4: lost-update counts for counters and sets)."""

import pytest

from minikv.jepsen import History, Op, check_set, count_lost_updates


def incr(process, delta, start, end, outcome="ok", key="c"):
    return Op(0, process, "incr", key, delta, None, start, end, outcome)


def add(process, element, start, end, outcome="ok", key="s"):
    return Op(0, process, "add", key, element, None, start, end, outcome)


def read(process, result, start, end, key):
    return Op(0, process, "read", key, None, None, start, end, "ok", result)


def counter(*ops):
    return count_lost_updates(History.of(ops))


def grow_only_set(*ops):
    return check_set(History.of(ops))


# counters
def test_every_acknowledged_increment_counted_is_valid():
    """Ten acknowledged +1s and a final read of 10: nothing lost."""
    result = counter(*[incr(0, 1, t, t + 0.5) for t in range(10)], read(1, 10, 20, 21, "c"))
    assert result.valid and (result.final, result.lower, result.upper, result.lost) == (10, 10, 10, 0)


def test_lost_increments_are_counted_exactly():
    """Ten acknowledged +1s but a final read of 7: exactly 3 acknowledged increments lost."""
    result = counter(*[incr(0, 1, t, t + 0.5) for t in range(10)], read(1, 7, 20, 21, "c"))
    assert not result.valid and result.lost == 3 and result.acknowledged == 10
    assert "3 acknowledged increment(s) lost" in result.describe()


def test_in_doubt_increments_widen_the_range():
    """Two in-doubt +1s may or may not count: a final read anywhere in [10, 12] is fine."""
    ops = [*[incr(0, 1, t, t + 0.5) for t in range(10)], incr(1, 1, 3, 4, "info"), incr(2, 1, 5, 6, "info")]
    for final in (10, 11, 12):
        result = counter(*ops, read(3, final, 20, 21, "c"))
        assert result.valid and (result.lower, result.upper, result.in_doubt) == (10, 12, 2)
    assert counter(*ops, read(3, 9, 20, 21, "c")).lost == 1


def test_a_count_above_every_possibility_is_excess():
    """A final read above acknowledged plus in-doubt increments counted something twice."""
    result = counter(incr(0, 1, 0, 1), incr(1, 1, 0, 1, "info"), read(2, 5, 2, 3, "c"))
    assert not result.valid and result.excess == 3 and result.lost == 0


def test_failed_increments_do_not_count():
    """A definitely failed increment must not show up in the count."""
    assert counter(incr(0, 1, 0, 1), incr(0, 5, 2, 3, "fail"), read(1, 1, 4, 5, "c")).valid
    assert not counter(incr(0, 1, 0, 1), incr(0, 5, 2, 3, "fail"), read(1, 6, 4, 5, "c")).valid


def test_increments_concurrent_with_the_final_read_may_or_may_not_count():
    """An acknowledged increment still running when the final read began is not required."""
    ops = [incr(0, 1, 0, 1), incr(1, 1, 4, 6)]
    assert counter(*ops, read(2, 1, 5, 7, "c")).valid and counter(*ops, read(2, 2, 5, 7, "c")).valid


def test_negative_deltas_in_doubt_lower_the_bound():
    """An in-doubt -3 allows a final read 3 below the acknowledged sum."""
    result = counter(incr(0, 10, 0, 1), incr(1, -3, 2, 3, "info"), read(2, 7, 4, 5, "c"))
    assert result.valid and (result.lower, result.upper) == (7, 10)


def test_missing_record_reads_as_zero_and_no_read_is_no_verdict():
    """A final read finding no record counts 0; without any read there is nothing to compare."""
    assert counter(incr(0, 2, 0, 1), read(1, None, 2, 3, "c")).lost == 2
    result = counter(incr(0, 2, 0, 1))
    assert result.valid and result.final is None and "no final read" in result.describe()


def test_the_last_read_is_the_final_one():
    """Only the last acknowledged read is compared (an earlier low read is not a loss)."""
    ops = [incr(0, 1, 0, 1), read(1, 0, 0.2, 0.5, "c"), incr(0, 1, 2, 3), read(1, 2, 4, 5, "c")]
    assert counter(*ops).valid


def test_several_counter_keys_need_a_key():
    """With two counters in the history, say which one; each is counted on its own."""
    ops = [incr(0, 1, 0, 1, key="a"), incr(0, 1, 0, 1, key="b"), read(1, 1, 2, 3, "a"), read(1, 0, 2, 3, "b")]
    with pytest.raises(ValueError):
        counter(*ops)
    assert count_lost_updates(History.of(ops), key="a").valid
    assert count_lost_updates(History.of(ops), key="b").lost == 1


# grow-only sets
def test_every_acknowledged_add_present_is_valid():
    """All acknowledged adds in the final read: nothing lost."""
    result = grow_only_set(*[add(0, e, e, e + 0.5) for e in range(5)], read(1, [0, 1, 2, 3, 4], 10, 11, "s"))
    assert result.valid and result.final_size == 5 and result.acknowledged == 5


def test_lost_elements_are_listed_exactly():
    """Acknowledged adds missing from the final read are the lost elements, by value."""
    result = grow_only_set(*[add(0, e, e, e + 0.5) for e in range(10)], read(1, list(range(8)), 20, 21, "s"))
    assert not result.valid and result.lost == (8, 9)
    assert "2 lost (8, 9)" in result.describe()


def test_in_doubt_adds_present_are_recovered_and_absent_ones_are_fine():
    """An in-doubt add that shows up is recovered; one that does not is not lost."""
    adds = [add(0, 1, 0, 1), add(1, 2, 0, 1, "info"), add(2, 3, 0, 1, "info")]
    result = grow_only_set(*adds, read(3, [1, 2], 5, 6, "s"))
    assert result.valid and result.recovered == (2,) and result.lost == () and result.in_doubt == 2


def test_failed_or_never_added_elements_are_unexpected():
    """An element from a definitely failed add, or never added, is unexpected."""
    result = grow_only_set(add(0, 1, 0, 1), add(0, 2, 2, 3, "fail"), read(1, [1, 2, 99], 5, 6, "s"))
    assert not result.valid and result.unexpected == (2, 99)


def test_adds_concurrent_with_the_final_read_are_not_lost():
    """An add acknowledged while the final read ran may be missing from it."""
    assert grow_only_set(add(0, 1, 0, 1), add(1, 2, 4, 6), read(2, [1], 5, 7, "s")).valid
