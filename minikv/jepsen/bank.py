"""The bank: Jepsen's classic test of transactions, on minikv's multi-record transactions.

A few accounts hold money. Client processes move random amounts between two random accounts, each
transfer one transaction (read both balances, write both); others take read-only *snapshots*: one
transaction reading every account. Money is neither made nor destroyed, so:

- every snapshot that commits sums to the starting total (a transfer half applied, or seen half
  way, would show as money missing or doubled);
- the final balances sum to the total too, and they are exactly the start plus the acknowledged
  transfers plus some of the in-doubt ones: no acknowledged transfer lost, no failed one applied.

    result = Bank(clients, sleep=sim.run_for, clock=lambda: sim.now, seed=3).run(transfers=200)
    result.valid, result.describe()

The processes take turns one call at a time in a seeded order (each process is a generator that
yields after every request), so many transfers are in flight at once, even in the simulator where
each call runs the simulation until its own reply. Nothing here knows about clusters: the caller
hands in connected clients, a `sleep` and a `clock` (virtual or real) and, to break things, an
`on_step` callback (kill a node at step 40, heal at step 90...). Like Jepsen's bank, a transfer
that would overdraw an account is skipped: balances never go negative, which is checked too.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from minikv.errors import AerospikeError, TransactionFailed
from minikv.transaction import Transaction

SET = "bank"
COMMIT_TRIES = 20  # times a process asks again about a commit in doubt before it calls it "info"
MAX_SUBSET_SEARCH = 16  # in-doubt transfers beyond which the final balances are checked by total only

Step = Generator[None, None, Any]  # a process's work: yields after each request it sends


def account_key(i: int, ns: str = "test") -> tuple[str, str, str]:
    return (ns, SET, f"acct-{i}")


@dataclass(frozen=True)
class Transfer:
    process: int
    src: int
    dst: int
    amount: int
    outcome: str  # "ok" (committed), "fail" (certainly not applied), "info" (in doubt)


@dataclass
class BankResult:
    """What the bank run saw, and whether it is consistent."""

    accounts: int
    total: int
    transfers: list[Transfer] = field(default_factory=list)
    snapshots: list[tuple[float, dict[int, int]]] = field(default_factory=list)  # committed ones
    snapshots_aborted: int = 0
    final: dict[int, int] | None = None
    explained: bool | None = None  # final = start + acknowledged (+ some in-doubt) transfers

    def count(self, outcome: str) -> int:
        return sum(1 for t in self.transfers if t.outcome == outcome)

    @property
    def bad_snapshots(self) -> list[tuple[float, dict[int, int]]]:
        return [(at, seen) for at, seen in self.snapshots if sum(seen.values()) != self.total]

    @property
    def valid(self) -> bool:
        final_ok = self.final is not None and sum(self.final.values()) == self.total
        negative = self.final is not None and min(self.final.values()) < 0
        return final_ok and not negative and not self.bad_snapshots and self.explained is not False

    def describe(self) -> list[str]:
        """The findings in sentences, the way Jepsen's checkers report them."""
        lines = [f"{len(self.transfers)} transfers: {self.count('ok')} committed, {self.count('fail')} "
                 f"failed, {self.count('info')} in doubt; {len(self.snapshots)} snapshots committed, "
                 f"{self.snapshots_aborted} aborted"]
        for at, seen in self.bad_snapshots[:3]:
            lines.append(f"snapshot at t={at:.3f} saw a total of {sum(seen.values())}, not {self.total}: "
                         f"a transfer was seen half applied ({seen})")
        if self.final is None:
            lines.append("no final read committed: nothing to compare")
        elif sum(self.final.values()) != self.total:
            lines.append(f"final total {sum(self.final.values())}, not {self.total}: money was "
                         f"{'created' if sum(self.final.values()) > self.total else 'destroyed'}")
        elif self.explained is False:
            lines.append("final balances are not the start plus the acknowledged transfers (and some in-doubt "
                         "ones): a transfer was lost, half applied, or applied although it failed")
        else:
            lines.append(f"final total {self.total}: conserved; every acknowledged transfer is in the balances")
        return lines


class Bank:
    """One bank run: `processes` = one connected client each, taking turns in a seeded order."""

    def __init__(self, clients: list, sleep: Callable[[float], None], clock: Callable[[], float],
                 accounts: int = 5, balance: int = 100, seed: int = 0, timeout: int = 2, ns: str = "test",
                 snapshot_share: float = 0.25, on_step: Callable[[int], None] | None = None):
        self.clients, self.sleep, self.clock = clients, sleep, clock
        self.accounts, self.balance, self.ns = accounts, balance, ns
        self.timeout = timeout  # seconds each transaction may live (short: recoveries happen in the run)
        self.snapshot_share, self.on_step = snapshot_share, on_step
        self.rng = random.Random(seed)
        self.result = BankResult(accounts, accounts * balance)

    # ---- the run ---------------------------------------------------------------------------------

    def setup(self) -> None:
        for i in range(self.accounts):
            self.clients[0].put(account_key(i, self.ns), {"balance": self.balance})

    def run(self, transfers: int = 100, settle: Callable[[], None] | None = None) -> BankResult:
        """Set up, run until `transfers` transfers were attempted, `settle()` (heal the faults),
        let every transaction's deadline pass, then read the final balances."""
        self.setup()
        budget = itertools.count()
        processes = [self._process(p, client, budget, transfers) for p, client in enumerate(self.clients)]
        for step in itertools.count(1):
            if not processes:
                break
            process = self.rng.choice(processes)
            try:
                next(process)
            except StopIteration:
                processes.remove(process)
            if self.on_step is not None:
                self.on_step(step)
        if settle is not None:
            settle()
        self.sleep(self.timeout + 1.0)  # every deadline passes: the nodes finish what clients left
        self.result.final = self._final_read()
        self.result.explained = self._explained()
        return self.result

    def _process(self, p: int, client: Any, budget: itertools.count, transfers: int) -> Step:
        while True:
            if self.rng.random() < self.snapshot_share:
                seen = yield from self._snapshot(client)
                if seen is None:
                    self.result.snapshots_aborted += 1
                else:
                    self.result.snapshots.append((self.clock(), seen))
                continue
            if next(budget) >= transfers:
                return
            src, dst = self.rng.sample(range(self.accounts), 2)
            amount = self.rng.randint(1, 20)
            outcome = yield from self._transfer(client, src, dst, amount)
            self.result.transfers.append(Transfer(p, src, dst, amount, outcome))

    # ---- one transfer, one snapshot --------------------------------------------------------------

    def _transfer(self, client: Any, src: int, dst: int, amount: int) -> Step:
        txn = Transaction(timeout=self.timeout, rng=self.rng)
        policy = {"txn": txn}
        try:
            _, _, have = client.get(account_key(src, self.ns), policy=policy)
            yield
            _, _, other = client.get(account_key(dst, self.ns), policy=policy)
            yield
            if have["balance"] < amount:  # would overdraw: Jepsen's bank skips it
                _abort(client, txn)
                return "fail"
            client.put(account_key(src, self.ns), {"balance": have["balance"] - amount}, policy=policy)
            yield  # one record locked, the other not yet: others may run into the lock
            client.put(account_key(dst, self.ns), {"balance": other["balance"] + amount}, policy=policy)
        except AerospikeError:
            _abort(client, txn)  # before the commit point: it certainly did not happen
            return "fail"
        return (yield from self._commit(client, txn))

    def _commit(self, client: Any, txn: Transaction) -> Step:
        """Commit; a commit in doubt is asked again (after its deadline the nodes know)."""
        for _ in range(COMMIT_TRIES):
            try:
                client.commit(txn)
                return "ok"
            except TransactionFailed as exc:
                if not exc.in_doubt:
                    return "fail"
            yield
            self.sleep(0.2)
        return "info"

    def _snapshot(self, client: Any) -> Step:
        """Every balance, in one read-only transaction; None if it did not commit. Others run
        once in the middle (yielding after every read, nearly every snapshot would meet a change)."""
        txn = Transaction(timeout=self.timeout, rng=self.rng)
        seen = {}
        try:
            for i in range(self.accounts):
                _, _, bins = client.get(account_key(i, self.ns), policy={"txn": txn})
                seen[i] = bins["balance"]
                if i == self.accounts // 2:
                    yield
            client.commit(txn)
        except AerospikeError:
            _abort(client, txn)
            return None
        return seen

    # ---- the end ---------------------------------------------------------------------------------

    def _final_read(self, tries: int = 20) -> dict[int, int] | None:
        for _ in range(tries):
            seen = _run_to_end(self._snapshot(self.clients[0]))
            if seen is not None:
                return seen
            self.sleep(0.5)
        return None

    def _explained(self) -> bool | None:
        """Is there a set of in-doubt transfers that, with every acknowledged one, gives the final
        balances? (None: too many in doubt to search, or no final read.)"""
        if self.result.final is None:
            return None
        start = {i: self.balance for i in range(self.accounts)}
        for t in self.result.transfers:
            if t.outcome == "ok":
                start[t.src] -= t.amount
                start[t.dst] += t.amount
        doubtful = [t for t in self.result.transfers if t.outcome == "info"]
        if len(doubtful) > MAX_SUBSET_SEARCH:
            return None
        for chosen in itertools.product((False, True), repeat=len(doubtful)):
            balances = dict(start)
            for t, applied in zip(doubtful, chosen, strict=True):
                if applied:
                    balances[t.src] -= t.amount
                    balances[t.dst] += t.amount
            if balances == self.result.final:
                return True
        return False


def _abort(client: Any, txn: Transaction) -> None:
    """Abort, best effort: whatever this cannot roll back, the nodes do after the deadline."""
    try:
        client.abort(txn)
    except AerospikeError:
        pass


def _run_to_end(step: Step) -> Any:
    """Run a process step without interleaving (the final read, when nobody else is left)."""
    try:
        while True:
            next(step)
    except StopIteration as stop:
        return stop.value
