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
import struct
import threading
import time
from typing import Any, Protocol

from minikv.core.messages import Reply
from minikv.runtime.codec import KIND_REPLY, KIND_REQUEST, MAX_REQUEST_ID, FrameReader, encode, decode

Address = tuple[str, int]
MAX_REPLY_BODY = 256 * 1024 * 1024  # bytes; a client trusts its nodes more than nodes trust clients
KERNEL_TIMER_SLACK_MS = 20  # a socket timeout may fire up to two scheduler ticks late (2-20 ms)


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
        self._idle: dict[Address, list[Connection]] = {}  # {address: idle connections}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def call(self, address: Address, request: Any, timeout: float) -> Reply:
        request_id = next(self._ids) % MAX_REQUEST_ID
        frame = encode(KIND_REQUEST, request_id, request)
        deadline = time.monotonic() + timeout
        conn = self._checkout(address, timeout)
        try:
            conn.set_timeout(timeout)
            conn.sock.sendall(frame)
        except OSError as exc:  # a pooled connection the node closed: the request did not arrive
            conn.close()
            raise NoConnection(f"{address[0]}:{address[1]}: {exc}") from None
        reply = self._read_reply(conn, request_id, deadline)
        self._checkin(address, conn)
        return reply

    def close(self) -> None:
        with self._lock:
            for conns in self._idle.values():
                for conn in conns:
                    conn.close()
            self._idle.clear()

    def _checkout(self, address: Address, timeout: float) -> Connection:
        """An idle pooled connection that still looks healthy, else a new one."""
        while True:
            with self._lock:
                idle = self._idle.get(address)
                conn = idle.pop() if idle else None
            if conn is None:
                break
            if conn.still_open():
                return conn
            conn.close()
        try:
            return Connection(socket.create_connection(address, timeout=max(timeout, 0.001)))
        except OSError as exc:
            raise NoConnection(f"cannot connect to {address[0]}:{address[1]}: {exc}") from None

    def _checkin(self, address: Address, conn: Connection) -> None:
        with self._lock:
            self._idle.setdefault(address, []).append(conn)

    def _read_reply(self, conn: Connection, request_id: int, deadline: float) -> Reply:
        """Read one reply frame; a timeout or broken stream closes the socket (it is out of step)."""
        try:
            while True:
                data = conn.receive(deadline)
                if not data:
                    raise ReplyLost("the node closed the connection", timed_out=False)
                frames = conn.reader.feed(data)
                if frames:
                    break
        except socket.timeout:
            conn.close()
            raise ReplyLost("no reply before the deadline", timed_out=True) from None
        except ReplyLost:
            conn.close()
            raise
        except Exception as exc:  # reset, garbage: out of step either way
            conn.close()
            raise ReplyLost(f"connection broke: {exc}", timed_out=False) from None
        assert len(frames) == 1 and frames[0].request_id == request_id, "one request, one reply"
        return decode(frames[0].body)


class Connection:
    """One pooled TCP connection: a blocking socket whose timeouts live in the kernel.

    Why not `sock.settimeout`? A Python socket with a timeout is non-blocking underneath and
    calls poll() before every send and every recv, and settimeout itself is a system call: a
    request took six. A blocking socket with SO_RCVTIMEO/SO_SNDTIMEO takes two (send, recv)
    plus the idle check, and timeouts still work: when the kernel's timeout runs out, recv fails
    with EAGAIN and we wait out the rest of the deadline in poll(). A paused node still ends a
    call in ReplyLost at its deadline.
    """

    def __init__(self, sock: socket.socket):
        sock.settimeout(None)  # blocking from now on; the kernel enforces the timeouts
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.reader = FrameReader(MAX_REPLY_BODY, kinds=(KIND_REPLY,))
        self.kernel_timeout_ms = 0  # what SO_RCVTIMEO and SO_SNDTIMEO are set to (0: not yet)
        self.recv_flags = 0  # MSG_DONTWAIT when the timeout is too short for the kernel's timer
        self._poller = select.poll()  # for waits and the idle check; cheaper than select.select
        self._poller.register(sock, select.POLLIN)

    def set_timeout(self, seconds: float) -> None:
        """Make the kernel give up on a send or recv a little before `seconds` have passed.

        The kernel's timer counts in scheduler ticks and may fire up to two ticks late, so it is
        set KERNEL_TIMER_SLACK_MS short and `receive` waits out the rest in poll(), which is
        precise. Setting it costs two system calls, so it is kept while it fits: in whole
        milliseconds (rounded down), back-to-back calls with a 1 s timeout reuse the first
        setting. A timeout shorter than the slack is left to poll() altogether."""
        millis = int(seconds * 1000) - KERNEL_TIMER_SLACK_MS
        self.recv_flags = 0 if millis > 0 else socket.MSG_DONTWAIT
        millis = max(millis, 1)  # a zero timeval would mean "wait forever"
        if millis != self.kernel_timeout_ms:
            value = struct.pack("@ll", millis // 1000, millis % 1000 * 1000)  # a struct timeval
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
            self.kernel_timeout_ms = millis

    def receive(self, deadline: float) -> bytes:
        """The next bytes from the node (b"" if it closed); socket.timeout at the deadline."""
        while True:
            try:
                return self.sock.recv(65536, self.recv_flags)
            except BlockingIOError:  # the kernel's timeout ran out (or MSG_DONTWAIT found nothing)
                pass
            if not self._poller.poll(max(deadline - time.monotonic(), 0) * 1000):
                raise socket.timeout("no reply before the deadline")

    def still_open(self) -> bool:
        """An idle connection must have nothing to read: readable means the node closed it (it
        was killed or restarted) or sent something unasked. Sending on it would turn a request
        that never arrived into an in-doubt one, so the official clients check this too."""
        return not self._poller.poll(0)

    def close(self) -> None:
        self.sock.close()
