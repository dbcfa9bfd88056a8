"""Optimistic concurrency, as recipes: check-and-set on one record, and the same loop over a
multi-record transaction.

One record (Aerospike's generation check, available in every mode):

    read (bins, generation g) -> compute -> put with POLICY_GEN_EQ and meta={"gen": g}

If someone wrote in between, the node refuses with RecordGenerationError and nothing happened:
read again and try again. `read_modify_write` is that loop. In AP mode it is only as safe as the
cluster: both sides of a split brain can pass the check from the same generation.

What to do with an *in-doubt* outcome (a timeout after the write was sent: it may have happened,
and may even happen later). Re-read to decide, and be honest when you cannot:

- the record carries this attempt's token (a random value written in `token_bin`): it happened;
- the record is still at generation g: it has not happened *yet*. Trying again at g is safe:
  both attempts are checked against g, so at most one of them can ever land;
- the record moved on without our token: someone else wrote, after our write or instead of it.
  Nobody can tell which from the record alone, so `read_modify_write` raises the in-doubt error
  rather than guess (guessing wrong applies `fn` twice, or not at all).

Several records: `run_in_transaction` runs a function inside a fresh Transaction and commits;
conflicts (another transaction's lock, a record read that changed) abort and start over, and a
commit in doubt is asked again until the cluster answers (never aborted: it may have committed).
"""

from __future__ import annotations

import random
import secrets
from typing import TYPE_CHECKING, Any, Callable

from minikv import policies as P
from minikv.errors import (AerospikeError, ClusterError, ConnectionError, MRTAborted, MRTBlocked, MRTExpired,
                           MRTVersionMismatch, RecordBusy, RecordExistsError, RecordGenerationError, RecordNotFound,
                           TimeoutError, TransactionFailed)
from minikv.transaction import Transaction

if TYPE_CHECKING:
    from minikv.client import Client

# errors after which a transaction is worth running again from the start (after an abort)
CONFLICTS = (MRTBlocked, MRTVersionMismatch, MRTExpired, MRTAborted, RecordBusy, ClusterError, TimeoutError,
             ConnectionError)
BACKOFF = 0.01  # seconds, times the attempt number and a random factor: contenders spread out


def read_modify_write(client: Client, key: tuple, fn: Callable[[dict | None], dict], retries: int = 10,
                      token_bin: str | None = "rmw_token", policy: dict | None = None) -> dict:
    """Replace the record's bins with `fn(bins)` (bins None: no record yet) as one check-and-set,
    retrying when someone else wrote first. Returns the bins written. With `token_bin` (a bin this
    helper owns; None to do without) an in-doubt write can be recognised on the next read."""
    token = secrets.token_hex(8)
    doubtful: tuple[int, AerospikeError] | None = None  # (generation, error) of an in-doubt attempt
    for _ in range(retries + 1):
        gen, bins = _read(client, key)
        if doubtful is not None:
            if token_bin and bins is not None and bins.get(token_bin) == token:
                return _without(bins, token_bin)  # our in-doubt write landed
            if gen != doubtful[0]:
                raise doubtful[1]  # moved on without our token: cannot tell, say so
        new = dict(fn(_without(bins, token_bin) if bins is not None else None))
        try:
            client.put(key, {**new, token_bin: token} if token_bin else new, meta={"gen": gen},
                       policy=_check_policy(gen, policy))
            return new
        except (RecordGenerationError, RecordExistsError):
            continue  # someone else was first: read again (an earlier in-doubt attempt still counts)
        except AerospikeError as exc:
            if not exc.in_doubt:
                raise
            doubtful = (gen, exc)
    raise RecordGenerationError(f"gave up after {retries + 1} attempts: the record kept changing")


def run_in_transaction(client: Client, body: Callable[[Transaction], Any], retries: int = 10,
                       timeout: int = 0, rng: random.Random | None = None) -> Any:
    """Run `body(txn)` (reads and writes with policy={"txn": txn}) and commit; on a conflict,
    abort and run it again in a new transaction after a random pause (from `rng`, seeded for a
    repeatable simulation). Returns what `body` returned."""
    rng = rng or random.Random()
    for attempt in range(retries + 1):
        txn = Transaction(timeout=timeout)
        try:
            result = body(txn)
        except CONFLICTS:
            client.abort(txn)
            _backoff(client, attempt, rng)
            continue
        except BaseException:
            client.abort(txn)
            raise
        if _commit(client, txn, retries):
            return result
        _backoff(client, attempt, rng)
    raise TransactionFailed(f"gave up after {retries + 1} attempts: too much contention")


def _commit(client: Client, txn: Transaction, retries: int) -> bool:
    """True once committed, False if it definitely was not (run it again). A commit in doubt is
    asked again: commit() is idempotent, and after the deadline the nodes know the answer."""
    for _ in range(retries + 1):
        try:
            client.commit(txn)
            return True
        except TransactionFailed as exc:
            if not exc.in_doubt:
                return False
            last = exc
    raise last


def _read(client: Client, key: tuple) -> tuple[int, dict | None]:
    try:
        _, meta, bins = client.get(key)
    except RecordNotFound:
        return 0, None
    return meta["gen"], bins


def _check_policy(gen: int, policy: dict | None) -> dict:
    """Generation 0 means no record: then only a create may pass (another client's create
    in between fails with RecordExistsError instead of being overwritten)."""
    check = {"exists": P.POLICY_EXISTS_CREATE} if gen == 0 else {"gen": P.POLICY_GEN_EQ}
    return {**(policy or {}), **check}


def _without(bins: dict, token_bin: str | None) -> dict:
    return {name: value for name, value in bins.items() if name != token_bin}


def _backoff(client: Client, attempt: int, rng: random.Random) -> None:
    """Wait on the client's own clock (virtual time in a SimCluster) before trying again."""
    client._transport.sleep(BACKOFF * (attempt + 1) * rng.random())
