"""What the client hands back, shaped like the official client's results.

- `meta` dicts `{"gen": 3, "ttl": 59}` (a never-expiring record reports ttl 4294967295, as
  Aerospike's client does: it is TTL_NEVER_EXPIRE read as unsigned 32 bits);
- `BatchRecords` / `BatchRecord` from `batch_read` (as in `aerospike_helpers.batch.records`);
- `Scan` from `client.scan(ns, set)` with `select`, `results` and `foreach`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from minikv import policies as P
from minikv.errors import ParamError, ResultCode

if TYPE_CHECKING:
    from minikv.client import Client


def meta_of(gen: int, ttl: int) -> dict:
    return {"gen": gen, "ttl": ttl}


def normalize_ttl(ttl: int | None, policy_ttl: int) -> int:
    """A ttl as sent to a node: seconds, or one of the unsigned TTL_* specials.

    None means "not given": the write policy's ttl applies (the namespace default unless set).
    -1, -2 and -3 are the signed spellings of never-expire, don't-update and client-default.
    """
    if ttl is None or ttl in (-3, P.TTL_CLIENT_DEFAULT):
        ttl = policy_ttl
        if ttl in (-3, P.TTL_CLIENT_DEFAULT):
            ttl = 0
    if isinstance(ttl, bool) or not isinstance(ttl, int):
        raise ParamError(f"ttl must be an int, not {type(ttl).__name__}")
    if ttl == -1:
        return P.TTL_NEVER_EXPIRE
    if ttl == -2:
        return P.TTL_DONT_UPDATE
    if not 0 <= ttl <= 0xFFFFFFFF:
        raise ParamError(f"ttl {ttl} is out of range")
    return ttl


class BatchRecord:
    """One key's outcome in a batch: `result` 0 and `record` (key, meta, bins), or an error code."""

    def __init__(self, key: tuple):
        self.key = key
        self.record: tuple | None = None
        self.result = 0
        self.in_doubt = False

    def fill(self, rc: int, meta_bins: tuple[dict, Any], digest: bytes) -> None:
        self.result = rc
        if rc == ResultCode.OK:
            meta, bins = meta_bins
            self.record = ((self.key[0], self.key[1], None, bytearray(digest)), meta, bins)

    def __repr__(self) -> str:
        return f"BatchRecord(key={self.key!r}, result={self.result}, record={self.record!r})"


class BatchRecords:
    """The outcome of a batch: `batch_records` in the order of the keys, `result` 0 when sent."""

    def __init__(self, batch_records: list[BatchRecord]):
        self.batch_records = batch_records
        self.result = 0

    def __repr__(self) -> str:
        return f"BatchRecords({len(self.batch_records)} records)"


class Scan:
    """A scan of every record in a namespace or set, partition by partition."""

    def __init__(self, client: Client, namespace: str, set_name: str | None):
        if not isinstance(namespace, str):
            raise ParamError("the namespace of a scan is a str")
        self._client = client
        self.namespace = namespace
        self.set_name = set_name
        self._bins: tuple[str, ...] | None = None

    def select(self, *bins: str) -> None:
        """Return only these bins."""
        self._bins = tuple(bins)

    def foreach(self, callback: Callable[[tuple], Any], policy: dict | None = None,
                options: dict | None = None) -> None:
        """Call `callback((key, meta, bins))` per record; a callback returning False stops the scan."""
        for row in self._client._scan_pages(self.namespace, self.set_name, self._bins, policy):
            if callback(self._record(row)) is False:
                return

    def results(self, policy: dict | None = None, options: dict | None = None) -> list[tuple]:
        """Every record as (key, meta, bins)."""
        rows = self._client._scan_pages(self.namespace, self.set_name, self._bins, policy)
        return [self._record(row) for row in rows]

    def _record(self, row: list) -> tuple:
        digest, user_key, gen, ttl, bins = row
        return (self.namespace, self.set_name, user_key, bytearray(digest)), meta_of(gen, ttl), bins
