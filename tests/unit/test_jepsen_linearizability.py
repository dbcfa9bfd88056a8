"""The register linearizability checker (issue 4: Wing–Gong–Lowe with per-key partitioning and
memoisation; rejects known-bad histories, accepts known-good ones, in-doubt ops maybe-happened)."""

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from minikv.core.records import next_generation as records_next_generation
from minikv.jepsen import History, Op, check_register
from minikv.jepsen.linearizability import NO_RECORD, next_generation, step


def W(process, key, value, start, end, outcome="ok"):
    return Op(0, process, "write", key, value, None, start, end, outcome)


def R(process, key, result, start, end, gen=None, outcome="ok"):
    return Op(0, process, "read", key, None, None, start, end, outcome, result, gen)


def CAS(process, key, gen, value, start, end, outcome="ok"):
    return Op(0, process, "cas", key, value, gen, start, end, outcome)


def check(*ops):
    return check_register(History.of(ops))


# known-bad and known-good hand-made histories
def test_sequential_write_then_read_is_valid():
    """A read after an acknowledged write returns it: linearizable."""
    assert check(W(0, 1, 5, 0, 1), R(1, 1, 5, 2, 3)).valid


def test_stale_read_after_acknowledged_write_is_invalid():
    """A read that began after write 2 was acknowledged but returned the older 1 is not linearizable."""
    result = check(W(0, 1, 1, 0, 1), W(0, 1, 2, 2, 3), R(1, 1, 1, 4, 5))
    [verdict] = result.failures
    assert not result.valid and verdict.culprit.kind == "read" and verdict.culprit.result == 1
    assert "stale" in verdict.explanation and "t=5.000" in verdict.explanation


def test_stale_read_window_is_the_last_acknowledged_write_and_the_read():
    """The window runs from the last write acknowledged before the culprit to the culprit."""
    [verdict] = check(W(0, 1, 1, 0, 1), W(0, 1, 2, 2, 3), R(1, 1, 1, 4, 5)).failures
    assert [(op.kind, op.value or op.result) for op in verdict.window] == [("write", 2), ("read", 1)]


def test_culprit_is_the_first_op_that_breaks_the_history():
    """Of two impossible reads, the earlier one is reported: the shortest failing prefix ends there."""
    result = check(W(0, 1, 1, 0, 1), W(0, 1, 2, 2, 3), R(1, 1, 1, 4, 5), W(0, 1, 3, 6, 7), R(1, 1, 2, 8, 9))
    assert result.failures[0].culprit.complete == 5


def test_read_of_a_never_written_value_is_invalid():
    """A read returning a value nobody wrote is explained as such."""
    [verdict] = check(W(0, 7, 1, 0, 1), R(1, 7, 3, 0.5, 1.204)).failures
    assert verdict.explanation == ("read of key 7 returned 3 at t=1.204 but no write of 3 "
                                   "could have been visible then")


def test_concurrent_writes_may_be_read_in_either_order():
    """Two overlapping writes may take effect in either order, so either value may be read after."""
    for seen in (1, 2):
        assert check(W(0, 1, 1, 0, 10), W(1, 1, 2, 0, 10), R(2, 1, seen, 11, 12)).valid


def test_reads_during_concurrent_writes_may_see_both_orders():
    """While both writes run, reading 2 then 1 is fine (write 2 took effect, then write 1)."""
    assert check(W(0, 1, 1, 0, 10), W(1, 1, 2, 0, 10), R(2, 1, 2, 1, 2), R(2, 1, 1, 3, 4)).valid


def test_register_cannot_flip_back_after_both_writes_completed():
    """After both writes ended, reading 1 then 2 is impossible: the register no longer changes."""
    assert not check(W(0, 1, 1, 0, 10), W(1, 1, 2, 0, 10), R(2, 1, 1, 11, 12), R(2, 1, 2, 13, 14)).valid


def test_read_of_missing_record_after_acknowledged_write_is_invalid():
    """Finding no record after a write was acknowledged is a lost write."""
    [verdict] = check(W(0, 1, 1, 0, 1), R(1, 1, None, 2, 3)).failures
    assert "found no record" in verdict.explanation


def test_in_doubt_write_that_later_shows_up_is_valid():
    """An in-doubt write may have happened: a later read of its value is fine."""
    assert check(W(0, 1, 1, 0, 1), W(0, 1, 3, 2, 3, "info"), R(1, 1, 3, 5, 6)).valid


def test_in_doubt_write_that_takes_effect_after_the_client_gave_up_is_valid():
    """An in-doubt write may take effect long after its timeout, even after other reads."""
    assert check(W(0, 1, 1, 0, 1), W(0, 1, 3, 2, 3, "info"), R(1, 1, 1, 5, 6), R(1, 1, 3, 7, 8)).valid


def test_in_doubt_write_that_never_shows_is_valid():
    """An in-doubt write may never have happened: reads of the older value are fine."""
    assert check(W(0, 1, 1, 0, 1), W(0, 1, 2, 2, 3, "info"), R(1, 1, 1, 5, 6)).valid


def test_pending_write_that_never_completed_may_show():
    """An op the run never saw complete (complete=None) is in doubt: its value may be read."""
    assert check(W(0, 1, 1, 0, 1), W(0, 1, 4, 2, None, "info"), R(1, 1, 4, 5, 6)).valid


def test_in_doubt_write_read_before_it_was_invoked_is_invalid():
    """A value read before its (in-doubt) write was even invoked cannot come from that write."""
    [verdict] = check(R(1, 1, 3, 1, 2), W(0, 1, 3, 5, 6, "info")).failures
    assert "invoked only later, at t=5.000" in verdict.explanation


def test_in_doubt_write_cannot_be_undone():
    """Once an in-doubt write has been seen, the register cannot return to the older value."""
    assert not check(W(0, 1, 1, 0, 1), W(0, 1, 3, 2, 3, "info"), R(1, 1, 3, 5, 6), R(1, 1, 1, 7, 8)).valid


def test_failed_write_whose_value_is_read_is_invalid():
    """A definite failure did not happen, so reading its value is an anomaly."""
    [verdict] = check(W(0, 1, 1, 0, 1), W(0, 1, 2, 2, 3, "fail"), R(1, 1, 2, 4, 5)).failures
    assert "failed" in verdict.explanation


def test_in_doubt_and_failed_reads_are_ignored():
    """A read without a definite answer carries no information."""
    assert check(W(0, 1, 1, 0, 1), R(1, 1, 99, 2, 3, outcome="info"), R(1, 1, 98, 4, 5, outcome="fail")).valid


def test_reads_check_the_generation_when_recorded():
    """A read reporting (value, gen) must match both: one write leaves generation 1, not 2."""
    assert check(W(0, 1, 5, 0, 1), R(1, 1, 5, 2, 3, gen=1)).valid
    assert not check(W(0, 1, 5, 0, 1), R(1, 1, 5, 2, 3, gen=2)).valid


def test_rewriting_the_same_value_bumps_the_generation():
    """Two writes of 5 leave generation 2: the generation tells them apart."""
    assert check(W(0, 1, 5, 0, 1), W(0, 1, 5, 2, 3), R(1, 1, 5, 4, 5, gen=2)).valid


# CAS by generation, as put with POLICY_GEN_EQ and meta {"gen": g}
def test_cas_chain_is_valid():
    """Each cas expects the generation the previous write left: write (gen 1), cas 1->, cas 2->."""
    ops = [W(0, 1, 0, 0, 1), CAS(0, 1, 1, 10, 2, 3), CAS(1, 1, 2, 20, 4, 5), R(2, 1, 20, 6, 7, gen=3)]
    assert check(*ops).valid


def test_cas_with_a_wrong_generation_acknowledged_is_invalid():
    """A cas expecting generation 1 cannot succeed at generation 2."""
    [verdict] = check(W(0, 1, 0, 0, 1), W(0, 1, 1, 2, 3), CAS(1, 1, 1, 10, 4, 5)).failures
    assert verdict.culprit.kind == "cas" and "generation 1" in verdict.explanation


def test_two_concurrent_cas_from_one_generation_cannot_both_succeed():
    """Both acknowledged from generation 1 means one overwrote the other unseen: a lost update."""
    assert not check(W(0, 1, 0, 0, 1), CAS(1, 1, 1, 10, 2, 5), CAS(2, 1, 1, 20, 2, 5)).valid


def test_one_of_two_concurrent_cas_fails_is_valid():
    """The loser of a cas race reports a generation error (fail) and is dropped."""
    ops = [W(0, 1, 0, 0, 1), CAS(1, 1, 1, 10, 2, 5), CAS(2, 1, 1, 20, 2, 5, "fail"), R(0, 1, 10, 6, 7)]
    assert check(*ops).valid


def test_cas_on_a_missing_record_creates_it():
    """minikv lets a generation-checked write create a missing record, and the model agrees."""
    assert check(CAS(0, 1, 5, 10, 0, 1), R(1, 1, 10, 2, 3, gen=1)).valid


def test_generation_wraps_like_minikv_records():
    """The model's generation follows records.py: 1 first, +1, and 65535 wraps to 1."""
    assert [next_generation(g) for g in (0, 1, 65534, 65535)] == [1, 2, 65535, 1]
    assert all(next_generation(g) == records_next_generation(g) for g in range(0, 65536, 4099))


# per-key partitioning
def test_keys_are_checked_independently():
    """A bad key is reported alone; the good key's verdict is valid."""
    result = check(W(0, "a", 1, 0, 1), R(1, "a", 1, 2, 3), W(0, "b", 1, 0, 1), R(1, "b", 2, 2, 3))
    assert not result.valid
    assert result.keys["a"].valid and not result.keys["b"].valid


def test_values_do_not_leak_between_keys():
    """A value written to key a does not make it readable on key b."""
    assert not check(W(0, "a", 7, 0, 1), R(1, "b", 7, 2, 3)).valid


def test_counter_and_set_keys_are_left_to_their_checkers():
    """Keys with increments or adds are not registers; their reads are not judged here."""
    ops = [Op(0, 0, "incr", "c", 1, None, 0, 1, "ok"), R(1, "c", 1, 2, 3), W(0, "r", 1, 0, 1)]
    assert set(check(*ops).keys) == {"r"}


# scale and the memo
def test_thousand_ops_over_hundred_keys_check_fast():
    """A valid 1,000-op history over 100 keys from 10 processes is accepted (quickly: under the timeout)."""
    assert check_register(simulated(random.Random(1), 1000, keys=100, processes=10)).valid


def test_nasty_single_key_history_with_twelve_processes_finishes():
    """Twelve fully concurrent writes, then a read claiming generation 13: proving it impossible
    means trying every order (12!, half a billion) unless the memo collapses them (2^12 sets)."""
    writes = [W(p, 1, p, 0, 10) for p in range(12)]
    verdict = check(*writes, R(12, 1, 5, 11, 12, gen=13)).keys[1]
    assert not verdict.valid and verdict.culprit.result_gen == 13
    assert check(*writes, R(12, 1, 5, 11, 12, gen=12)).valid  # write 5 went last


def test_twelve_processes_interleaving_reads_and_writes_finishes():
    """Twelve processes, three rounds of concurrent writes each, one extra reader: still quick."""
    ops = [W(p, 1, 100 * p + k, 3 * k, 3 * k + 2.5) for p in range(12) for k in range(3)]
    assert check(*ops, R(12, 1, 1101, 4, 5)).valid  # during round 1, a round-1 value
    assert not check(*ops, R(12, 1, 1101, 9, 10)).valid  # after round 2 ended, a round-1 value


# property: executions of a real register are always linearizable
def simulated(rng: random.Random, n_ops: int, keys: int, processes: int, overlap: bool = True) -> History:
    """A history of a real (sequential) register store: each op takes effect at one instant in its
    interval (an in-doubt one maybe, and maybe after the client gave up); the answers come from
    applying the ops in the order of those instants."""
    plans, clocks = [], [0.0] * processes
    for index in range(n_ops):
        p = rng.randrange(processes)
        start = (clocks[p] if overlap else max(clocks)) + rng.random()
        end = clocks[p] = start + rng.random() * 3
        kind = rng.choice(["read", "write", "cas"])
        doubt = kind != "read" and rng.random() < 0.15
        instant = start + rng.random() * (end - start) * (3 if doubt else 1)
        plans.append(dict(kind=kind, process=p, key=rng.randrange(keys),
                          start=start, end=end, doubt=doubt, instant=instant, value=index))
    return History.of(_run(sorted(plans, key=lambda plan: plan["instant"]), rng))


def _run(plans: list[dict], rng: random.Random) -> list[Op]:
    """Apply the planned ops in order, recording what each saw and whether it succeeded."""
    store: dict[int, tuple] = {}  # {key: (value, gen)}
    ops = []
    for plan in plans:
        value, gen = store.get(plan["key"], (None, 0))
        times = (plan["start"], plan["end"])
        if plan["kind"] == "read":
            ops.append(R(plan["process"], plan["key"], value, *times, gen=gen))
            continue
        expected = rng.choice([gen, gen + 1, max(gen - 1, 0)])
        applies = plan["kind"] == "write" or gen == 0 or expected == gen
        if applies and not (plan["doubt"] and rng.random() < 0.5):  # in doubt: maybe never applied
            store[plan["key"]] = (plan["value"], next_generation(gen))
        outcome = "info" if plan["doubt"] else ("ok" if applies else "fail")
        ops.append(Op(0, plan["process"], plan["kind"], plan["key"], plan["value"],
                      expected if plan["kind"] == "cas" else None, *times, outcome))
    return ops


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32), n_ops=st.integers(1, 60), keys=st.integers(1, 3),
       processes=st.integers(1, 6), overlap=st.booleans())
def test_histories_of_a_real_register_are_always_linearizable(seed, n_ops, keys, processes, overlap):
    """Whatever the timing (sequential or overlapping) and in-doubt outcomes, a real register passes."""
    history = simulated(random.Random(seed), n_ops, keys, processes, overlap)
    assert check_register(history).valid


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32), n_ops=st.integers(2, 40), processes=st.integers(1, 5))
def test_corrupting_one_read_makes_the_history_invalid(seed, n_ops, processes):
    """Changing one ok read's answer to a value nobody wrote is always caught."""
    ops = simulated(random.Random(seed), n_ops, 2, processes).ops()
    reads = [op for op in ops if op.kind == "read"]
    if reads:
        bad = random.Random(seed).choice(reads)
        ops[bad.index] = Op(bad.index, bad.process, "read", bad.key, None, None, bad.invoke, bad.complete,
                            "ok", -1, None)
        assert not check_register(ops).valid


# differential: the search agrees with brute force on small arbitrary histories
def brute_force(ops: list[Op]) -> bool:
    """Try every order of every choice of in-doubt ops, respecting real time: the definition itself."""
    acked = [op for op in ops if op.outcome == "ok"]
    doubtful = [op for op in ops if op.outcome == "info" and op.kind != "read"]
    for mask in range(1 << len(doubtful)):
        chosen = acked + [op for i, op in enumerate(doubtful) if mask >> i & 1]
        if any(_plays(order) for order in itertools.permutations(chosen)):
            return True
    return False


def _plays(order: tuple[Op, ...]) -> bool:
    """The order respects real time (nothing placed before an op that completed before it began)
    and the register model accepts every op in it."""
    for a, b in itertools.combinations(order, 2):
        if b.outcome == "ok" and b.complete < a.invoke:
            return False
    state = NO_RECORD
    for op in order:
        state = step(state, op)
        if state is None:
            return False
    return True


def small_history(draw) -> list[Op]:
    """Two to 6 ops on one key, few values and times (so ties and repeats happen), many in doubt:
    the cases the search's shortcuts (unseen values, dead cas, in-doubt ops last) must get right."""
    ops = []
    for _ in range(draw(range(2, 7))):
        kind = draw(["read", "write", "write", "cas"])
        start = draw(range(5))
        end = start + draw(range(4))
        outcome = draw(["ok", "ok", "info", "info", "fail"])
        if kind == "read":
            ops.append(R(0, 1, draw([None, 1, 2, 3]), start, end, draw([None, 1, 2]), outcome))
        else:
            ops.append(Op(0, 0, kind, 1, draw([1, 2, 3]), draw([0, 1, 2]) if kind == "cas" else None,
                          start, end, outcome))
    return History.of(ops).ops()


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_search_agrees_with_brute_force(data):
    """On small arbitrary histories the optimised search and exhaustive enumeration agree."""
    ops = small_history(lambda options: data.draw(st.sampled_from(list(options))))
    assert check_register(ops).valid == brute_force(ops)


def test_search_agrees_with_brute_force_on_many_seeded_histories():
    """The same comparison over 5,000 seeded random histories (the shortcuts' bugs are rare events)."""
    rng = random.Random(4)
    for _ in range(5000):
        ops = small_history(rng.choice)
        assert check_register(ops).valid == brute_force(ops), ops


def test_a_needed_in_doubt_write_behind_an_unseen_one_is_found():
    """Trying one in-doubt write of an unseen value must not hide the other in-doubt writes."""
    ops = [W(0, 1, 3, 0, 1, "info"), W(1, 1, 1, 0, 1, "info"), R(2, 1, 1, 2, 3, gen=1)]
    assert check(*ops).valid
