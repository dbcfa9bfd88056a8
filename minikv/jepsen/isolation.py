"""Isolation anomalies, provoked on purpose, and what minikv's transactions do about each.

A checker like Jepsen's Elle reads a history and names the anomaly it finds in a sentence
("G2-item: T1 read x = 1, T2 read y = 1, ..."). Here we go the other way: each scenario drives
two transactions through the one interleaving that *would* show an anomaly, then says in the same
plain words what happened and whether the anomaly occurred. The names follow Adya's catalogue,
as Elle's do:

    G1a       dirty read          a transaction sees a write that is later rolled back (aborted read)
    P4        lost update         two transactions read x and both write x from what they read
    G2        write skew          each reads x and y and writes the other one, and both commit
    G-single  read skew           a reader sees one half of another transaction's writes

    for finding in check_isolation(client):
        print(finding.describe())

The last scenario is honest about a limit: a read *outside* any transaction can see a transfer
half rolled forward (it reads committed versions record by record, like any Aerospike read); a
read-only transaction reading the same records is refused at commit instead. Pure Python: it
drives a client it is given (one client plays both transactions, so the interleaving is exact).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from minikv import txn_client
from minikv.errors import AerospikeError, TransactionFailed
from minikv.keys import key_digest
from minikv.transaction import Transaction

SET = "isolation"


@dataclass(frozen=True)
class Finding:
    anomaly: str  # Adya's / Elle's code: "G1a", "P4", "G2", "G-single"
    name: str  # in words: "dirty read"
    prevented: bool
    story: str  # what happened, in keys and values

    def describe(self) -> str:
        return f"{self.anomaly} ({self.name}): {'prevented' if self.prevented else 'NOT prevented'}. {self.story}"


def check_isolation(client: Any, ns: str = "test", seed: int = 0) -> list[Finding]:
    """Every scenario, each on its own keys."""
    rng = random.Random(seed)  # transaction ids: a simulated run repeats exactly
    return [dirty_read(client, ns, rng), lost_update(client, ns, rng), write_skew(client, ns, rng),
            *read_skew(client, ns, rng)]


def dirty_read(client: Any, ns: str = "test", rng: random.Random | None = None) -> Finding:
    """T1 writes x = 1 and will abort; meanwhile T2, and a plain read, read x."""
    x = (ns, SET, "dirty-x")
    client.put(x, {"v": 0})
    t1, t2 = Transaction(timeout=5, rng=rng), Transaction(timeout=5, rng=rng)
    client.put(x, {"v": 1}, policy={"txn": t1})
    inside = client.get(x, policy={"txn": t2})[2]["v"]
    outside = client.get(x)[2]["v"]
    client.abort(t1)
    client.commit(t2)
    prevented = inside == 0 and outside == 0
    seen = "neither saw the value that was rolled back" if prevented else "the aborted value was seen"
    return Finding("G1a", "dirty read", prevented,
                   f"T1 wrote x = 1 and aborted; before that, T2 read x = {inside} and a read outside any "
                   f"transaction x = {outside}: {seen} (a locked record shows its committed version).")


def lost_update(client: Any, ns: str = "test", rng: random.Random | None = None) -> Finding:
    """T1 and T2 both read counter x = 0 and both write x + 1; T1 commits before T2 writes."""
    x = (ns, SET, "lost-x")
    client.put(x, {"v": 0})
    t1, t2 = Transaction(timeout=5, rng=rng), Transaction(timeout=5, rng=rng)
    a = client.get(x, policy={"txn": t1})[2]["v"]
    b = client.get(x, policy={"txn": t2})[2]["v"]
    client.put(x, {"v": a + 1}, policy={"txn": t1})
    client.commit(t1)
    t2_said = _attempt(lambda: client.put(x, {"v": b + 1}, policy={"txn": t2}))
    committed = 1 + (t2_said == "ok" and _attempt(lambda: client.commit(t2)) == "ok")
    if t2.state != txn_client.TXN_STATE_COMMITTED:
        client.abort(t2)
    final = client.get(x)[2]["v"]
    return Finding("P4", "lost update", final == committed,
                   f"T1 and T2 both read x = {a}; T1 wrote x = {a + 1} and committed; T2's write of "
                   f"x = {b + 1} was {_refused(t2_said)}. {committed} increment(s) committed, final x = {final}.")


def write_skew(client: Any, ns: str = "test", rng: random.Random | None = None) -> Finding:
    """Two doctors on call (x = y = 1, rule: x + y >= 1): each transaction sees both on call and
    takes one of them off."""
    x, y = (ns, SET, "skew-x"), (ns, SET, "skew-y")
    client.put(x, {"v": 1})
    client.put(y, {"v": 1})
    t1, t2 = Transaction(timeout=5, rng=rng), Transaction(timeout=5, rng=rng)
    for txn in (t1, t2):
        client.get(x, policy={"txn": txn})
        client.get(y, policy={"txn": txn})
    client.put(x, {"v": 0}, policy={"txn": t1})
    client.put(y, {"v": 0}, policy={"txn": t2})
    outcomes = [_attempt(lambda txn=txn: client.commit(txn)) for txn in (t1, t2)]
    final = client.get(x)[2]["v"] + client.get(y)[2]["v"]
    return Finding("G2", "write skew", final >= 1,
                   f"T1 and T2 each read x = 1 and y = 1; T1 set x = 0, T2 set y = 0. T1's commit "
                   f"{_outcome(outcomes[0])}, T2's {_outcome(outcomes[1])}; final x + y = {final}"
                   f"{' (the rule holds)' if final >= 1 else ' (both went off call)'}.")


def read_skew(client: Any, ns: str = "test", rng: random.Random | None = None) -> list[Finding]:
    """T1 moves 10 from x to y and stops after rolling x forward (as a client crash would); a plain
    reader, then a read-only transaction T2, read x and y. Two findings: one for each reader."""
    x, y = (ns, SET, "skew-a"), (ns, SET, "skew-b")
    client.put(x, {"v": 50})
    client.put(y, {"v": 50})
    t1, t2 = Transaction(timeout=5, rng=rng), Transaction(timeout=5, rng=rng)
    client.put(x, {"v": 40}, policy={"txn": t1})
    client.put(y, {"v": 60}, policy={"txn": t1})
    txn_client.verify(client, t1)
    txn_client.mark(client, t1)  # the commit point: T1 is committed
    txn_client.roll(client, t1, True, [key_digest(x)])  # ...and stops half way through rolling forward
    plain = client.get(x)[2]["v"] + client.get(y)[2]["v"]
    inside = client.get(x, policy={"txn": t2})[2]["v"] + client.get(y, policy={"txn": t2})[2]["v"]
    t2_said = _attempt(lambda: client.commit(t2))
    txn_client.roll(client, t1, True)
    txn_client.close(client, t1)
    story = "T1 moved 10 from x to y (x + y = 100) and had rolled only x forward when"
    return [Finding("G-single", "read skew outside transactions", plain == 100,
                    f"{story} reads outside any transaction saw x + y = {plain}: they read committed versions "
                    f"record by record, so they can see half of a transaction that is rolling forward."),
            Finding("G-single", "read skew in a read-only transaction", inside == 100 or t2_said != "ok",
                    f"{story} read-only T2 saw x + y = {inside}; its commit {_outcome(t2_said)}, so T2's "
                    f"view was never accepted.")]


def _attempt(action: Any) -> str:
    """'ok', or the error's name, for the story."""
    try:
        action()
    except TransactionFailed as exc:
        return f"TransactionFailed ({exc.msg})"
    except AerospikeError as exc:
        return type(exc).__name__
    return "ok"


def _refused(said: str) -> str:
    return "accepted" if said == "ok" else f"refused ({said}: x changed since T2 read it)"


def _outcome(said: str) -> str:
    return "succeeded" if said == "ok" else f"failed: {said}"
