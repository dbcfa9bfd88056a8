"""Serve one node over asyncio TCP: decode frames, call the pure node, write the replies.

This module is deliberately thin: it owns sockets and the clock, the node owns every decision.
One asyncio `Protocol` per client connection cuts the byte stream into frames (`FrameReader`);
each frame becomes a message (`codec.decode`), the node handles it, and the reply effects are
written back. Ticks come from `loop.call_later`. uvloop is used when installed (it is ~2x faster
on loopback), plain asyncio otherwise.

Bad input never stops the node: a body that does not decode, a wrong field type or an unknown
message gets an error reply carrying the frame's request id; a frame over the size limit gets
RecordTooBig and its bytes are skipped; bytes that are not frames at all close that connection.
"""

from __future__ import annotations

import asyncio
import gc
import random
import time
from typing import Callable

from minikv.core.heartbeat import Send
from minikv.core.messages import Admin, Reply
from minikv.core.node import TICK_INTERVAL, Node, ToClient
from minikv.errors import ResultCode
from minikv.runtime.codec import (
    KIND_FABRIC,
    KIND_REPLY,
    KIND_REQUEST,
    CodecError,
    Frame,
    FrameReader,
    FramingError,
    decode,
    encode,
    encode_body,
    parse_request,
)
from minikv.runtime.fabric_links import PeerLinks


class ClientConnection(asyncio.Protocol):
    """One client's TCP connection to this node."""

    def __init__(self, server: NodeServer):
        self.server = server
        self.reader = FrameReader(server.node.config.max_frame_size, kinds=(KIND_REQUEST, KIND_FABRIC))
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.reader.feed(data)
        except FramingError:
            self.transport.close()  # not our protocol: nothing sensible to answer
            return
        for frame in frames:
            self.server.handle(self, frame)
        if self.reader.broken and self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def send(self, request_id: int, reply: Reply) -> None:
        if self.transport is None:  # the client left before its answer was ready
            return
        try:
            frame = encode(KIND_REPLY, request_id, reply)
        except Exception as exc:  # a result msgpack cannot carry would be a node bug
            frame = encode(KIND_REPLY, request_id, Reply(ResultCode.SERVER_ERROR, f"unencodable reply: {exc}"))
        self.transport.write(frame)


class NodeServer:
    """A pure `Node` behind a TCP listener."""

    def __init__(self, node: Node, clock: Callable[[], float] = time.time):
        self.node = node
        self.clock = clock
        self.server: asyncio.base_events.Server | None = None
        self.peers = PeerLinks(random.Random())
        self.before_effects: Callable[[], None] | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen and start ticking; returns the port (useful when `port` was 0)."""
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: ClientConnection(self), host, port,
                                               reuse_address=True)
        loop.call_later(TICK_INTERVAL, self._tick)
        return self.server.sockets[0].getsockname()[1]

    def handle(self, conn: ClientConnection, frame: Frame) -> None:
        if frame.kind == KIND_FABRIC:
            self._fabric(frame)
            return
        message, refusal = parse_request(frame, self.node.config.max_frame_size)
        if refusal is not None:
            conn.send(frame.request_id, refusal)
        elif isinstance(message, Admin) and message.command in ("faults", "gc"):
            conn.send(frame.request_id, Reply(ResultCode.OK, "", self._runtime_admin(message)))
        else:
            self.perform(self.node.receive((conn, frame.request_id), message, self.clock()))

    def _runtime_admin(self, message: Admin) -> object:
        """Commands about the process rather than the node: link faults and a forced GC."""
        if message.command == "faults":
            self.peers.set_faults(message.args)  # enforced here, in the transport, not the node
            return "ok"
        started = time.perf_counter()
        gc.collect()  # a full collection: the pause a node must survive without missing beats
        return round((time.perf_counter() - started) * 1000, 3)

    def _fabric(self, frame: Frame) -> None:
        """A message from another node. Undecodable ones are dropped (and logged by nobody:
        a peer speaking nonsense is as good as a lossy link)."""
        if frame.body is None:
            return
        try:
            message = decode(frame.body)
        except CodecError:
            return
        self.perform(self.node.receive(None, message, self.clock()))

    def perform(self, effects: list[ToClient | Send]) -> None:
        if self.before_effects is not None:
            self.before_effects()  # e.g. save durable state before anyone hears of it
        for effect in effects:
            if isinstance(effect, Send):
                self.peers.send(effect.address, encode_body(effect.message))
            else:
                conn, request_id = effect.origin
                conn.send(request_id, effect.reply)

    def _tick(self) -> None:
        self.perform(self.node.tick(self.clock()))
        asyncio.get_running_loop().call_later(TICK_INTERVAL, self._tick)


class EmptyHandlerConnection(asyncio.Protocol):
    """The benchmark's baseline: same framing, but every frame gets a fixed OK reply without
    being decoded. Its round-trip rate is the ceiling for any node logic on this transport."""

    def __init__(self, max_body: int):
        self.reader = FrameReader(max_body)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.reader.feed(data)
        except FramingError:
            self.transport.close()
            return
        for frame in frames:
            self.transport.write(encode(KIND_REPLY, frame.request_id, Reply(0, "", [1, 0, {}, None])))


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when it is installed, else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
