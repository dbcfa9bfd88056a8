"""The seam between the client and the network: one small interface, two implementations.

`TcpTransport` (this module) talks to node processes over blocking sockets, like the official
aerospike client's synchronous API; `SimTransport` (in `sim.py`) delivers the same frames through
the simulator in virtual time. The client never knows which one it has.

A call ends in one of three ways, and the difference matters for correctness:
- a Reply: the node answered (possibly with an error code: definite);
- `NoConnection`: nothing was sent (the node is down or unknown): definite, safe to retry;
- `ReplyLost`: the request was sent but no reply came (timeout, connection reset): the request
  may or may not have been applied. For a write the client reports this as `in_doubt`.
"""

from __future__ import annotations

import itertools
import select
import socket
import threading
import time
from typing import Any, Protocol

from minikv.core.messages import Reply
from minikv.runtime.codec import KIND_REPLY, KIND_REQUEST, MAX_REQUEST_ID, FrameReader, encode, decode

Address = tuple[str, int]
MAX_REPLY_BODY = 256 * 1024 * 1024  # bytes; a client trusts its nodes more than nodes trust clients


class NoConnection(Exception):
    """Could not reach the node; the request was not sent (definite)."""


class ReplyLost(Exception):
    """The request was sent but no reply arrived; it may have been applied (indefinite)."""

    def __init__(self, msg: str, timed_out: bool):
        super().__init__(msg)
        self.timed_out = timed_out


class Transport(Protocol):
    """What the client needs from a network."""

    def call(self, address: Address, request: Any, timeout: float) -> Reply: ...

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def close(self) -> None: ...


class TcpTransport:
    """Blocking TCP connections to nodes, pooled per address and safe to share between threads."""

    def __init__(self) -> None:
        self._idle: dict[Address, list[socket.socket]] = {}  # {address: idle connections}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def call(self, address: Address, request: Any, timeout: float) -> Reply:
        request_id = next(self._ids) % MAX_REQUEST_ID
        frame = encode(KIND_REQUEST, request_id, request)
        sock = self._checkout(address, timeout)
        try:
            sock.settimeout(max(timeout, 0.001))
            sock.sendall(frame)
        except OSError as exc:  # a pooled connection the node closed: the request did not arrive
            sock.close()
            raise NoConnection(f"{address[0]}:{address[1]}: {exc}") from None
        reply = self._read_reply(sock, request_id, time.monotonic() + timeout)
        self._checkin(address, sock)
        return reply

    def close(self) -> None:
        with self._lock:
            for socks in self._idle.values():
                for sock in socks:
                    sock.close()
            self._idle.clear()

    def _checkout(self, address: Address, timeout: float) -> socket.socket:
        """An idle pooled connection that still looks healthy, else a new one."""
        while True:
            with self._lock:
                idle = self._idle.get(address)
                sock = idle.pop() if idle else None
            if sock is None:
                break
            if _still_open(sock):
                return sock
            sock.close()
        try:
            sock = socket.create_connection(address, timeout=max(timeout, 0.001))
        except OSError as exc:
            raise NoConnection(f"cannot connect to {address[0]}:{address[1]}: {exc}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _checkin(self, address: Address, sock: socket.socket) -> None:
        with self._lock:
            self._idle.setdefault(address, []).append(sock)

    def _read_reply(self, sock: socket.socket, request_id: int, deadline: float) -> Reply:
        """Read one reply frame; a timeout or broken stream closes the socket (it is out of step)."""
        reader = FrameReader(MAX_REPLY_BODY, kinds=(KIND_REPLY,))
        try:
            while True:
                # The first wait reuses the timeout `call` set for sendall (so it may end a few
                # microseconds after `deadline`); only a reply arriving in pieces pays for another
                # settimeout. That saves one of the seven system calls a request used to make.
                data = sock.recv(65536)
                if not data:
                    raise ReplyLost("the node closed the connection", timed_out=False)
                frames = reader.feed(data)
                if frames:
                    break
                sock.settimeout(max(deadline - time.monotonic(), 0.0001))
        except socket.timeout:
            sock.close()
            raise ReplyLost("no reply before the deadline", timed_out=True) from None
        except ReplyLost:
            sock.close()
            raise
        except Exception as exc:  # reset, garbage: out of step either way
            sock.close()
            raise ReplyLost(f"connection broke: {exc}", timed_out=False) from None
        assert len(frames) == 1 and frames[0].request_id == request_id, "one request, one reply"
        return decode(frames[0].body)


def _still_open(sock: socket.socket) -> bool:
    """An idle connection must have nothing to read: readable means the node closed it (it was
    killed or restarted) or sent something unasked. Sending on it would turn a request that
    never arrived into an in-doubt one, so the official clients check this too."""
    readable, _, _ = select.select([sock], [], [], 0)
    return not readable
