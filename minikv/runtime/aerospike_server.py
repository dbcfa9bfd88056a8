"""The second listener: each node also speaks Aerospike's wire protocol, for the official client.

    aerospike.client({"hosts": cluster.aerospike_hosts}).connect()

A frame read here becomes a *job*: it turns into the same native requests minikv's own client
sends (aerospike_requests.py, aerospike_info.py) and submits them to the node exactly as
net.py does, `node.receive((connection, job), request, now)`, with the effects carried out by the
same `NodeServer.perform`. A request the node answers later (proxied to the master, waiting for
replica acks) comes back through `perform` too: it calls `connection.send(job, reply)`, as it
would call a native connection's `send(request_id, reply)`. The job encodes the answer.

One job runs at a time per connection, so answers leave in the order the requests came (the
official client sends one request per connection at a time anyway). A scan is a job that asks
the node for one page after another (ScanPage) and streams each page out as it comes.

Bad input is treated as on the native port: a message that does not parse or asks for what
minikv does not do gets an error reply; bytes that are not proto frames close the connection;
an oversized frame is skipped as it streams and answered RecordTooBig. The node never stops.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter, deque
from typing import TYPE_CHECKING, Any

from minikv.core.messages import Info, Reply, ScanPage
from minikv.errors import ResultCode
from minikv.keys import DIGEST_SIZE, N_PARTITIONS, partition_id
from minikv.runtime import aerospike_codec as ac
from minikv.runtime import aerospike_requests as ar
from minikv.runtime.aerospike_info import InfoAdapter

if TYPE_CHECKING:
    from minikv.runtime.net import NodeServer

SCAN_PAGE_RECORDS = 1000  # records per ScanPage asked of the node (one proto frame each)
_SCAN_FIELDS = {ac.FIELD_PID_ARRAY, ac.FIELD_DIGEST_ARRAY, ac.FIELD_TASK_ID}  # a scan has one of these


class AerospikeServer:
    """The Aerospike-protocol listener of one node, beside its native NodeServer."""

    def __init__(self, node_server: NodeServer):
        self.node_server = node_server
        self.node = node_server.node
        self.stats: Counter[str] = Counter()  # aerospike_messages, aerospike_info_requests, ...
        self.info: InfoAdapter | None = None
        self.server: asyncio.base_events.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port. Peers learn it from our heartbeats (`peers-clear-std`)."""
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: AerospikeConnection(self), host, port,
                                               reuse_address=True)
        port = self.server.sockets[0].getsockname()[1]
        self.info = InfoAdapter(self.node.node_id, host, port, self.stats)
        self.node.heartbeat.aerospike_port = port
        return port

    def submit(self, conn: AerospikeConnection, token: Any, request: Any) -> None:
        """Hand a native request to the node exactly as net.py does; the reply (now or later)
        reaches `conn.send(token, reply)` through NodeServer.perform."""
        self.node_server.perform(self.node.receive((conn, token), request, self.node_server.clock()))

    def job_for(self, conn: AerospikeConnection, frame: ac.ProtoFrame) -> Job:
        """What to do with one frame: info, a record command, a batch or a scan."""
        if frame.type == ac.TYPE_INFO:
            self.stats["aerospike_info_requests"] += 1
            if frame.body is None:
                return FixedJob(conn, ac.proto(ac.TYPE_INFO, b"ERROR:13:info request too big\n"))
            return InfoJob(conn, ac.parse_info_request(frame.body))
        self.stats["aerospike_messages"] += 1
        try:
            return self._message_job(conn, frame)
        except ac.ProtoError as exc:
            self.stats["aerospike_refused"] += 1
            return FixedJob(conn, ac.proto(ac.TYPE_MESSAGE, ac.encode_message(int(exc.code))))

    def _message_job(self, conn: AerospikeConnection, frame: ac.ProtoFrame) -> Job:
        if frame.body is None:
            raise ac.ProtoError(ResultCode.RECORD_TOO_BIG, f"frame of {frame.size} bytes is over the limit")
        body = frame.body
        if frame.type == ac.TYPE_COMPRESSED:
            body = ac.decompress(body, self.node.config.max_frame_size)
        msg = ac.parse_message(body)
        if msg.info1 & ac.INFO1_BATCH:
            return BatchJob(conn, msg)
        if _SCAN_FIELDS & msg.fields.keys() and ac.FIELD_DIGEST not in msg.fields:
            return ScanJob(conn, msg)
        return MessageJob(conn, ar.translate(msg))


class AerospikeConnection(asyncio.Protocol):
    """One client connection on the Aerospike port."""

    def __init__(self, server: AerospikeServer):
        self.server = server
        self.reader = ac.ProtoReader(server.node.config.max_frame_size)
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[ac.ProtoFrame] = deque()  # frames read, not yet started
        self.job: Job | None = None  # the one running

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server.stats["aerospike_connections_opened"] += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self.waiting.extend(self.reader.feed(data))
        except ac.FramingError:
            self.server.stats["aerospike_bad_frames"] += 1
            self.transport.close()  # not Aerospike's protocol: nothing sensible to answer
            return
        self._next()

    def _next(self) -> None:
        if self.job is not None or not self.waiting or self.transport is None:
            return
        self.job = job = self.server.job_for(self, self.waiting.popleft())
        job.start()

    # ---- what jobs and NodeServer.perform call -------------------------------------------------

    def send(self, token: Any, reply: Reply) -> None:
        """A native reply for one of our jobs (NodeServer.perform calls this, as on net.py's
        connections). A job whose client left is dropped."""
        if self.transport is None:
            return
        try:
            token.answer(reply)
        except Exception as exc:  # noqa: BLE001 - a value we cannot encode is a bug: answer, go on
            print(f"{self.server.node.node_id} aerospike port: cannot answer: {exc!r}", file=sys.stderr, flush=True)
            self.finish(ac.proto(ac.TYPE_MESSAGE, ac.encode_message(int(ResultCode.SERVER_ERROR), info3=ac.INFO3_LAST)))

    def write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def finish(self, data: bytes) -> None:
        """The running job's last bytes; then the next waiting frame gets its turn."""
        self.write(data)
        self.job = None
        asyncio.get_running_loop().call_soon(self._next)


# ---- jobs: one per frame ------------------------------------------------------------------------


class Job:
    """A frame being served: `start()` submits native requests, `answer(reply)` gets each reply."""

    def __init__(self, conn: AerospikeConnection):
        self.conn = conn

    def start(self) -> None:
        raise NotImplementedError

    def answer(self, reply: Reply) -> None:
        raise NotImplementedError


class FixedJob(Job):
    """An answer known at once (an error)."""

    def __init__(self, conn: AerospikeConnection, data: bytes):
        super().__init__(conn)
        self.data = data

    def start(self) -> None:
        self.conn.finish(self.data)


class MessageJob(Job):
    """A single-record command: one native request, one as_msg back."""

    def __init__(self, conn: AerospikeConnection, translation: ar.Translation):
        super().__init__(conn)
        self.translation = translation

    def start(self) -> None:
        self.conn.server.submit(self.conn, self, self.translation.request)

    def answer(self, reply: Reply) -> None:
        self.conn.finish(ac.proto(ac.TYPE_MESSAGE, self.translation.answer(reply, time.time())))


class InfoJob(Job):
    """Info commands: one native Info for what the node knows, the rest composed here."""

    def __init__(self, conn: AerospikeConnection, names: list[str]):
        super().__init__(conn)
        self.names = names
        self.info = conn.server.info

    def start(self) -> None:
        commands = self.info.native_commands(self.names)
        if commands:
            self.conn.server.submit(self.conn, self, Info(commands))
        else:
            self.answer(Reply(ResultCode.OK, "", {}))

    def answer(self, reply: Reply) -> None:
        native = reply.result if reply.rc == 0 and isinstance(reply.result, dict) else {}
        self.conn.finish(ac.encode_info(self.info.compose(self.names, native)))


class BatchPart:
    """The token of one BatchRead of a batch: routes its reply back to the batch job."""

    def __init__(self, job: BatchJob, entries: list[ar.BatchEntry]):
        self.job, self.entries = job, entries

    def answer(self, reply: Reply) -> None:
        self.job.part_done(self, reply)


class BatchJob(Job):
    """batch_read(): the keys this node masters, answered as a stream of records, each carrying
    its index in the client's list, then a LAST marker."""

    def __init__(self, conn: AerospikeConnection, msg: ac.AsMsg):
        super().__init__(conn)
        ar.check_fields({k: v for k, v in msg.fields.items() if k != ac.FIELD_BATCH_INDEX})
        if ac.FIELD_BATCH_INDEX not in msg.fields:
            raise ac.ProtoError(ResultCode.PARAMETER_ERROR, "a batch needs its batch-index field")
        self.entries = ar.parse_batch(msg.fields[ac.FIELD_BATCH_INDEX])
        groups = ar.batch_requests(self.entries)
        self.parts = [BatchPart(self, entries) for entries, _ in groups]
        self.requests = [request for _, request in groups]
        self.chunks: list[bytes] = [ac.encode_message(e.refusal, transaction_ttl=e.index)
                                    for e in self.entries if e.refusal]
        self.pending = len(self.parts)

    def start(self) -> None:
        if not self.parts:
            self._finish()
        for part, request in zip(self.parts, self.requests):
            self.conn.server.submit(self.conn, part, request)

    def part_done(self, part: BatchPart, reply: Reply) -> None:
        now = time.time()
        if reply.rc:
            self.chunks += [ac.encode_message(reply.rc, transaction_ttl=e.index) for e in part.entries]
        else:
            self.chunks += [ar.batch_record(e, row, now) for e, row in zip(part.entries, reply.result)]
        self.pending -= 1
        if not self.pending:
            self._finish()

    def _finish(self) -> None:
        self.conn.finish(ac.proto(ac.TYPE_MESSAGE, b"".join(self.chunks) + ac.encode_message(info3=ac.INFO3_LAST)))


class ScanJob(Job):
    """A partition scan: the client lists partition ids (field 11) or resume digests (12); we ask
    the node page by page, stream each page's records, mark each partition done (or
    unavailable here: result 11, the client retries it on its new master), then LAST."""

    def __init__(self, conn: AerospikeConnection, msg: ac.AsMsg):
        super().__init__(conn)
        ar.check_fields(msg.fields)
        if msg.info2 & ac.INFO2_WRITE or any(op.op != ac.OP_READ or not op.name for op in msg.ops):
            raise ac.ProtoError(ResultCode.UNSUPPORTED_FEATURE, "background scans and scan operations are not supported")
        self.ns = ac.field_str(msg.fields, ac.FIELD_NAMESPACE, "namespace")
        self.set_name = ac.field_str(msg.fields, ac.FIELD_SET, "set") or None
        self.bins = () if msg.info1 & ac.INFO1_NOBINDATA else tuple(op.name for op in msg.ops) or None
        self.pids = _scan_pids(msg.fields)

    def start(self) -> None:
        page = ScanPage(self.ns, self.set_name, tuple(self.pids), max_records=SCAN_PAGE_RECORDS, bins=self.bins)
        self.conn.server.submit(self.conn, self, page)

    def answer(self, reply: Reply) -> None:
        if reply.rc:
            self.conn.finish(ac.proto(ac.TYPE_MESSAGE, ac.encode_message(reply.rc, info3=ac.INFO3_LAST)))
            return
        now, done, missed = time.time(), reply.result["done"], set(reply.result["missed"])
        chunks = [self._record(row, now) for row in reply.result["records"]]
        covered, self.pids = self.pids[:done], self.pids[done:]
        chunks += [ac.encode_message(ResultCode.PARTITION_UNAVAILABLE if pid in missed else 0, pid,
                                     info3=ac.INFO3_PARTITION_DONE) for pid in covered]
        if self.pids and self.conn.transport is not None:
            self.conn.write(ac.proto(ac.TYPE_MESSAGE, b"".join(chunks)))
            asyncio.get_running_loop().call_soon(self.start)  # the next page, after others had a turn
        else:
            self.conn.finish(ac.proto(ac.TYPE_MESSAGE, b"".join(chunks) + ac.encode_message(info3=ac.INFO3_LAST)))

    def _record(self, row: list, now: float) -> bytes:
        digest, user_key, gen, ttl, bins = row
        fields = [ac.encode_field(ac.FIELD_NAMESPACE, self.ns.encode()), ac.encode_field(ac.FIELD_DIGEST, digest)]
        if self.set_name:
            fields.append(ac.encode_field(ac.FIELD_SET, self.set_name.encode()))
        if user_key is not None:
            particle, data = ac.encode_value(user_key)
            fields.append(ac.encode_field(ac.FIELD_KEY, bytes([particle]) + data))
        return ac.encode_message(0, gen, ac.void_time(ttl, now), list((bins or {}).items()), fields)


def _scan_pids(fields: dict[int, bytes]) -> list[int]:
    """Partition ids from field 11 (u16 little-endian each) and the partitions of the resume
    digests in field 12 (scanned whole again: a resumed scan may repeat records). Neither: all."""
    full, partial = fields.get(ac.FIELD_PID_ARRAY, b""), fields.get(ac.FIELD_DIGEST_ARRAY, b"")
    if len(full) % 2 or len(partial) % DIGEST_SIZE:
        raise ac.ProtoError(ResultCode.PARAMETER_ERROR, "partition or digest array of a wrong length")
    pids = [int.from_bytes(full[i:i + 2], "little") for i in range(0, len(full), 2)]
    pids += [partition_id(partial[i:i + DIGEST_SIZE]) for i in range(0, len(partial), DIGEST_SIZE)]
    if not full and not partial:
        return list(range(N_PARTITIONS))
    return list(dict.fromkeys(pids))
