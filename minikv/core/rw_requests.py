"""One request at a time per key: the queue that makes single-record operations isolated.

Aerospike inserts every write into a hash of in-flight requests keyed by digest (`rw_request`);
a second request on the same key waits in that entry's queue, and when more than
`transaction-pending-limit` (20) are waiting the node answers KEY_BUSY: the key is "hot".
This table is that hash. A request holds its key from admission until `release`.

With one node a write finishes in the step that admitted it, so the queue stays empty; once
writes wait for replica acknowledgements (the cluster notebooks), requests really queue here.
"""

from __future__ import annotations

from collections import deque
from enum import Enum
from typing import Any


class Admission(Enum):
    RUN = "run"  # the key was free: run the request now; it holds the key until release()
    QUEUED = "queued"  # another request holds the key: this one waits its turn
    BUSY = "busy"  # the queue is full: answer RecordBusy


class RwRequestTable:
    """In-flight requests per digest, with a bounded FIFO of waiters behind each."""

    def __init__(self, pending_limit: int):
        self.pending_limit = pending_limit  # 0 = unlimited, as in Aerospike
        self._waiting: dict[bytes, deque[Any]] = {}  # {digest: waiting requests, oldest first}

    def admit(self, digest: bytes, request: Any) -> Admission:
        waiting = self._waiting.get(digest)
        if waiting is None:
            self._waiting[digest] = deque()
            return Admission.RUN
        # Aerospike refuses when the queue is already deeper than the limit (`depth > limit`
        # in rw_request_hash.c), so with 20 the 21st waiter still queues and the 22nd is busy.
        if self.pending_limit and len(waiting) > self.pending_limit:
            return Admission.BUSY
        waiting.append(request)
        return Admission.QUEUED

    def release(self, digest: bytes) -> Any | None:
        """The holder is done: returns the next waiting request (which now holds the key)."""
        waiting = self._waiting[digest]
        if waiting:
            return waiting.popleft()
        del self._waiting[digest]
        return None

    def held(self) -> int:
        """How many keys are held right now."""
        return len(self._waiting)

    def waiting(self, digest: bytes) -> int:
        return len(self._waiting.get(digest, ()))
