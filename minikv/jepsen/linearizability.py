"""Is a register history linearizable? The Wing–Gong–Lowe search, with Lowe's memoisation.

Linearizable means: every operation can be given one instant, between its invocation and its
completion, such that performing the operations one at a time in the order of those instants on a
single copy of the register gives every answer the clients actually saw.

Wing & Gong (1993) search for that order directly. Sort every invocation ("call") and completion
("return") by time. The ops that may go next are those called before the earliest return still
pending; try one (apply it to the model; a read must return what it returned), and if the model
accepts it, lift its call and return out of the list and look again. When no op may go next, undo
the last choice (backtrack) and try the following one. The history is linearizable when every
acknowledged op has found its place. Lowe (2017) added the memo that makes this practical: the
same *set* of linearized ops leading to the same register state is the same situation whatever
order got there, so each (set as a bitset, state) pair is explored once. Porcupine (Go) and
Knossos (Clojure) work the same way.

The model is minikv's record as a CAS register: state = (value, gen), (None, 0) for no record.
A write sets the value and bumps the generation (16 bits, wrapping to 1, as records.py does); a
cas (put with POLICY_GEN_EQ, meta {"gen": g}) does the same only if the generation is g, or if
there is no record, since minikv lets a checked write create a missing record (writes.py). A read
must return the value, and the generation too when the workload recorded it.

Failed ops did not happen: dropped. In-doubt reads tell nothing: dropped. In-doubt writes and cas
may have happened at any instant after their invocation, or never: they have no return to meet,
and the search tries them only after the acknowledged ops, so it does not guess that a timed-out
write happened until an answer needs it. Keys are independent registers, checked one at a time
(Jepsen's "independent" checker). The cost grows with the number of in-doubt ops open at once, as
in every such checker: keep a key's history to a few hundred ops (Jepsen moves to a fresh key
every few seconds for the same reason).

What "smallest failing window" means here. Cut the key's history at the completion of one ok op:
ops invoked later are left out, ops still running at the cut become in doubt. The *culprit* is
the op whose completion turns the cut history from linearizable to not linearizable (binary
search: a longer cut can only fail more). That shortest failing prefix is the precise "smallest".
The *window* shown is its end, from the invocation of the last write acknowledged before the
culprit began (the state any explanation starts from) to the culprit's completion.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

from minikv.jepsen.explain import explain, last_ack_before
from minikv.jepsen.history import History, Op, as_ops, workloads

MAX_GENERATION = 0xFFFF  # as minikv.core.records: 16 bits, wraps to 1
State = tuple[Any, int]  # (value, gen); (None, 0) means "no record"
NO_RECORD: State = (None, 0)


def next_generation(gen: int) -> int:
    """The generation after `gen`: 1 for a new record, then +1, wrapping from 65535 back to 1."""
    return gen % MAX_GENERATION + 1


def step(state: State, op: Op) -> State | None:
    """The register model: the state after `op`, or None if `op` cannot happen in `state`."""
    value, gen = state
    if op.kind == "read":
        same_gen = op.result_gen is None or op.result_gen == gen
        return state if op.result == value and same_gen else None
    if op.kind == "write" or (op.kind == "cas" and (gen == 0 or op.gen == gen)):
        return (op.value, next_generation(gen))
    if op.kind == "cas":
        return None
    raise ValueError(f"a register has no {op.kind!r} operation")


# the search
OK_HEAD, DOUBT_HEAD = 0, 1  # the two lists' head nodes


class _Timeline:
    """The ops as two doubly linked lists sorted by time: the calls and returns of acknowledged
    ops, and the calls of in-doubt ops (their returns would all sit at +infinity). An op's
    entries are lifted out when it is linearized and put back when the search backtracks."""

    def __init__(self, ops: list[Op]):
        self.ops = ops
        acked = [(op.invoke, 0, i) for i, op in enumerate(ops) if op.outcome == "ok"]
        acked += [(op.complete, 1, i) for i, op in enumerate(ops) if op.outcome == "ok"]
        doubtful = [(op.invoke, 0, i) for i, op in enumerate(ops) if op.outcome != "ok"]
        self.events = [(0.0, 0, -1), (0.0, 0, -1)] + sorted(acked) + sorted(doubtful)  # calls first at a tie
        self.nxt, self.prv = [-1] * len(self.events), [-1] * len(self.events)  # -1 ends a list
        self.call, self.ret = [0] * len(ops), [-1] * len(ops)  # {op: its node}
        first_doubt = 2 + len(acked)
        for head, nodes in ((OK_HEAD, range(2, first_doubt)), (DOUBT_HEAD, range(first_doubt, len(self.events)))):
            chain = [head, *nodes]
            for a, b in pairwise(chain):
                self.nxt[a], self.prv[b] = b, a
        for node, (_, is_return, i) in enumerate(self.events[2:], start=2):
            (self.ret if is_return else self.call)[i] = node

    def lift(self, i: int) -> None:
        """Unlink op i's entries (they keep their own links, for unlift)."""
        for node in (self.call[i], self.ret[i]):
            if node != -1:
                self.nxt[self.prv[node]] = self.nxt[node]
                if self.nxt[node] != -1:
                    self.prv[self.nxt[node]] = self.prv[node]

    def unlift(self, i: int) -> None:
        """Relink them, in the reverse order."""
        for node in (self.ret[i], self.call[i]):
            if node != -1:
                self.nxt[self.prv[node]] = node
                if self.nxt[node] != -1:
                    self.prv[self.nxt[node]] = node

    def candidates(self) -> Iterator[int]:
        """The ops that may be linearized next, best guesses first: acknowledged ops invoked before
        the earliest pending return, then in-doubt ops invoked before it (trying those last keeps
        the search from guessing that a timed-out write happened before it has to)."""
        node = self.nxt[OK_HEAD]
        while node != -1 and not self.events[node][1]:
            yield self.events[node][2]
            node = self.nxt[node]
        deadline = self.events[node][0] if node != -1 else math.inf
        node, unseen_tried = self.nxt[DOUBT_HEAD], False
        while node != -1 and self.events[node][0] <= deadline:
            i = self.events[node][2]
            if not (self.ops[i].kind == "write" and self.ops[i].value is UNSEEN and unseen_tried):
                yield i  # in-doubt writes of unseen values are interchangeable: try only one
            unseen_tried |= self.ops[i].kind == "write" and self.ops[i].value is UNSEEN
            node = self.nxt[node]


def linearizable(ops: list[Op], initial: State = NO_RECORD) -> bool:
    """Wing–Gong–Lowe on one key's ops (fail ops and in-doubt reads already removed)."""
    line = _Timeline(_hide_unseen(ops))
    ops, memo = line.ops, _Memo(line.ops)
    state, linearized = initial, 0
    stack: list[tuple[int, State, Iterator[int]]] = []  # (op, state before it, the other options)
    options = line.candidates()
    while line.nxt[OK_HEAD] != -1:  # done when every acknowledged op is linearized
        i = next(options, None)
        if i is None:  # no way forward from here: undo the last choice and try its next option
            if not stack:
                return False
            i, state, options = stack.pop()
            linearized &= ~(1 << i)
            line.unlift(i)
            continue
        after, chosen = step(state, ops[i]), linearized | (1 << i)
        if after is not None and memo.first_visit(chosen, after):
            stack.append((i, state, options))
            state, linearized = after, chosen
            line.lift(i)
            options = line.candidates()
    return True


class _Memo:
    """Lowe's memo: the (linearized set, state) pairs already explored, kept in a canonical form
    so that situations with the same future count as one. Two simplifications, both exact:
    if no cas and no read can observe the generation, states differing only in it are alike;
    and an in-doubt cas expecting a generation below the current one can never apply again
    (generations only grow while fewer than 65,535 writes wrap them), so whether it happened
    no longer matters."""

    def __init__(self, ops: list[Op]):
        self.seen: set[tuple[int, State]] = set()
        self.track_gen = any(op.kind == "cas" or op.result_gen is not None for op in ops)
        self.dead = [0] * (len(ops) + 2)  # {gen: bitset of in-doubt cas ops expecting less}
        if sum(op.kind != "read" for op in ops) >= MAX_GENERATION:
            return  # generations may wrap: keep every op's bit
        for i, op in enumerate(ops):
            if op.kind == "cas" and op.outcome != "ok" and op.gen is not None and op.gen + 1 < len(self.dead):
                self.dead[op.gen + 1] |= 1 << i
        for gen in range(1, len(self.dead)):
            self.dead[gen] |= self.dead[gen - 1]

    def first_visit(self, linearized: int, state: State) -> bool:
        """Record the situation; False if an equivalent one was explored already."""
        value, gen = state
        if self.track_gen:
            key = (linearized | self.dead[min(gen, len(self.dead) - 1)], state)
        else:
            key = (linearized, (value, 0))
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


class _Unseen:
    """The value of a write no read returned. Such values only ever make reads fail, so they are
    all alike: merging them lets the memo see that two such states are the same situation."""

    def __repr__(self) -> str:
        return "UNSEEN"


UNSEEN = _Unseen()


def _hide_unseen(ops: list[Op]) -> list[Op]:
    """Replace every written value that no acknowledged read returned by UNSEEN."""
    seen = {op.result for op in ops if op.kind == "read"}
    return [replace(op, value=UNSEEN) if op.kind != "read" and op.value not in seen else op for op in ops]


# results
@dataclass(frozen=True)
class KeyVerdict:
    """The verdict for one key. When invalid: the culprit op, the window around it (see the module
    docstring), and a sentence saying what went wrong."""

    key: Any
    valid: bool
    checked: int  # ops that took part in the search (fail ops and in-doubt reads are dropped)
    culprit: Op | None = None
    window: tuple[Op, ...] = ()
    explanation: str = ""


@dataclass(frozen=True)
class RegisterResult:
    """check_register's answer: valid overall, and a verdict per key."""

    valid: bool
    keys: dict[Any, KeyVerdict] = field(default_factory=dict)

    @property
    def failures(self) -> list[KeyVerdict]:
        """The invalid keys, earliest culprit first."""
        bad = [v for v in self.keys.values() if not v.valid]
        return sorted(bad, key=lambda v: v.culprit.complete if v.culprit else 0.0)

    def __str__(self) -> str:
        if self.valid:
            return f"linearizable ({len(self.keys)} keys)"
        lines = [f"NOT linearizable: {len(self.failures)} of {len(self.keys)} keys"]
        return "\n".join(lines + [f"  {v.explanation}" for v in self.failures])


def check_register(history: History | Iterable[Op], initial: State = NO_RECORD) -> RegisterResult:
    """Check every register key (reads, writes, cas) of the history for linearizability."""
    ops = as_ops(history)
    kinds = workloads(ops)
    by_key: dict[Any, list[Op]] = {}
    for op in ops:
        if kinds[op.key] == "register":
            by_key.setdefault(op.key, []).append(op)
    verdicts = {key: check_key(key, key_ops, initial) for key, key_ops in by_key.items()}
    return RegisterResult(all(v.valid for v in verdicts.values()), verdicts)


def check_key(key: Any, ops: list[Op], initial: State = NO_RECORD) -> KeyVerdict:
    """One key: search, and if that fails, find the culprit and its window and explain."""
    relevant = [op for op in ops if op.outcome == "ok" or (op.outcome == "info" and op.kind != "read")]
    if linearizable(relevant, initial):
        return KeyVerdict(key, True, len(relevant))
    culprit = _culprit(relevant, initial)
    window = _window(relevant, culprit)
    return KeyVerdict(key, False, len(relevant), culprit, window, explain(key, culprit, ops))


def _cut(ops: list[Op], acked: list[Op], upto: int) -> list[Op]:
    """The history cut right after acked[upto] completed: later acks become in doubt."""
    done = {op.index for op in acked[:upto + 1]}
    end = acked[upto].complete
    cut = []
    for op in ops:
        if op.invoke > end or (op.index not in done and op.kind == "read"):
            continue  # not yet invoked, or a read whose answer is not known yet
        cut.append(op if op.index in done or op.outcome == "info" else replace(op, outcome="info"))
    return cut


def _culprit(ops: list[Op], initial: State) -> Op:
    """Binary search for the first ok completion after which the cut history fails."""
    acked = sorted((op for op in ops if op.outcome == "ok"), key=lambda op: (op.complete, op.index))
    low, high = 0, len(acked) - 1  # invariant: the cut at `high` fails (the whole history does)
    while low < high:
        middle = (low + high) // 2
        if linearizable(_cut(ops, acked, middle), initial):
            low = middle + 1
        else:
            high = middle
    return acked[high]


def _window(ops: list[Op], culprit: Op) -> tuple[Op, ...]:
    """The ops overlapping [invocation of the last write acked before the culprit began, its end]."""
    last = last_ack_before(ops, culprit)
    start = last.invoke if last else culprit.invoke
    return tuple(op for op in ops if op.invoke <= culprit.complete and _end(op) >= start)


def _end(op: Op) -> float:
    return math.inf if op.complete is None else op.complete
