"""Protocol fuzzing against one real node: whatever bytes arrive, it answers or hangs up, and lives.

Issue 2: "Frames over the limit, undecodable bytes, unknown operations or wrong types get an
error reply (or, for garbage that cannot be framed, a closed connection) and the node keeps
serving everyone else."

Every example opens a raw TCP connection to the same node process, sends some bytes, and reads
everything the node sends back until it closes the connection. What the node must send is
predicted by a model built from the codec itself (`expected_replies`): one reply per complete
frame, in order, carrying the frame's request id, with exactly the result code the codec names
for a frame it refuses. A frame the codec accepts is a real request: any answer will do except
SERVER_ERROR, which the node only sends for its own bugs. After every example a fresh client
reads back the records written at the start, so "never dies" also means "loses nothing".

Hypothesis runs derandomized (the same examples every run) and keeps the counts small: about
200 examples in all, each a few milliseconds on loopback.
"""

from __future__ import annotations

import dataclasses
import itertools
import socket
import types
import typing
from collections.abc import Iterator

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minikv
from conftest import process_state
from minikv import LocalCluster, NodeConfig
from minikv.core import fabric
from minikv.core import messages as m
from minikv.errors import ResultCode
from minikv.runtime.codec import (
    HEADER,
    KIND_REPLY,
    KIND_REQUEST,
    PROTOCOL_VERSION,
    Frame,
    FrameReader,
    FramingError,
    decode,
    encode,
    parse_request,
)

MAX_FRAME = NodeConfig().max_frame_size  # 8 MiB: the node refuses larger request frames
MiB = 1024 * 1024
IO_TIMEOUT = 5.0  # seconds; a node that neither answers nor hangs up within this has failed
PROBE_ID = 0xFFFF_FFFF  # request id of the Info frame that proves a stream is still in step

# Records written before any fuzzing; every example must leave them readable and unchanged.
SEEDED = {
    ("test", "fuzz", f"user:{i}"): {"i": i, "name": "x" * i, "tags": [i, "a"], "map": {"k": i}}
    for i in range(10)
}
SCRATCH = bytes(range(20))  # the digest fuzzed writes may touch: no seeded record has it

# One well-formed request of each kind, the starting point for mutations.
VALID: list = [
    m.Get("test", "fuzz", SCRATCH),
    m.Get("test", "fuzz", SCRATCH, ("a",), True),
    m.Put("test", "fuzz", SCRATCH, {"a": 1, "b": "two"}),
    m.Operate("test", "fuzz", SCRATCH, ((minikv.OPERATOR_INCR, "a", 1), (minikv.OPERATOR_READ, "a", None))),
    m.Remove("test", "fuzz", SCRATCH),
    m.BatchRead((("test", SCRATCH), ("test", b"short"))),
    m.ScanPage("test", "nothing-here", (0, 1, 4095), 10),
    m.Info(("node", "statistics", "namespace/test", "no-such-command")),
]

FUZZ = settings(
    deadline=None,  # real sockets: timing varies, and no property here is about time
    derandomize=True,  # the same examples on every run and every machine
    database=None,  # nothing to replay: derandomized runs find the same failures again
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---- the node under test -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> Iterator[LocalCluster]:
    """One real node for the whole module, holding the SEEDED records."""
    with LocalCluster(nodes=1) as cluster:
        client = cluster.client()
        for key, bins in SEEDED.items():
            client.put(key, bins)
        client.close()
        yield cluster


def assert_node_healthy(cluster: LocalCluster) -> None:
    """The process runs, and a new client reads every seeded record exactly as written."""
    [pid] = cluster.pids()
    assert process_state(pid) not in (None, "Z", "T"), f"node process {pid} is gone or stopped"
    client = cluster.client()
    try:
        batch = client.batch_read(list(SEEDED))
    finally:
        client.close()
    assert [record.record[2] for record in batch.batch_records] == list(SEEDED.values())


# ---- talking raw TCP -----------------------------------------------------------------------------


def exchange(cluster: LocalCluster, chunks: list[bytes], hang_up: bool) -> bytes:
    """Send `chunks` one by one on a new connection; return all the node sends until it closes.

    With `hang_up`, we close our sending side after the last chunk (the node must then close
    too); without it, the node must close the connection by itself (garbage that is not frames).
    """
    with socket.create_connection(cluster.hosts[0], timeout=IO_TIMEOUT) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
            if hang_up:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):  # the node hung up first: allowed
            pass
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bytes:
    received = bytearray()
    while True:
        try:
            data = sock.recv(65536)  # socket.timeout here fails the test: no answer, no hang-up
        except ConnectionResetError:
            break
        if not data:
            break
        received += data
    return bytes(received)


def parse_replies(data: bytes) -> list[tuple[int, m.Reply]]:
    """The reply frames in `data`; every byte must belong to a complete, well-formed reply."""
    frames = FrameReader(len(data), kinds=(KIND_REPLY,)).feed(data)  # FramingError: not replies
    assert sum(HEADER.size + frame.size for frame in frames) == len(data), "a partial reply frame"
    replies = []
    for frame in frames:
        reply = decode(frame.body)
        assert isinstance(reply, m.Reply), f"a {type(reply).__name__} where a Reply belongs"
        replies.append((frame.request_id, reply))
    return replies


# ---- the model: what the node must answer --------------------------------------------------------


def expected_replies(data: bytes) -> tuple[list[tuple[int, int | None]], bool]:
    """([(request id, result code, or None where any non-bug code will do)], stream is garbage).

    For a stream that turns into garbage, the node answers at most the frames before the
    garbage: those that arrived in an earlier TCP read than the garbage, which depends on timing.
    """
    reader, frames, garbage = FrameReader(MAX_FRAME), [], False
    try:
        frames = reader.feed(data)
    except FramingError:
        garbage, frames = True, frames_before_garbage(data)
    return [(frame.request_id, expected_code(frame)) for frame in frames], garbage


def frames_before_garbage(data: bytes) -> list[Frame]:
    reader, frames = FrameReader(MAX_FRAME), []
    try:
        for index in range(len(data)):
            frames += reader.feed(data[index : index + 1])
    except FramingError:
        return frames
    raise AssertionError("the stream was garbage fed at once but not byte by byte")


def expected_code(frame: Frame) -> int | None:
    _request, refusal = parse_request(frame, MAX_FRAME)
    return refusal.rc if refusal is not None else None


def check_conversation(cluster: LocalCluster, chunks: list[bytes]) -> list[tuple[int, m.Reply]]:
    """Send `chunks`, compare what comes back with the model, then check the node's health."""
    want, garbage = expected_replies(b"".join(chunks))
    got = parse_replies(exchange(cluster, chunks, hang_up=not garbage))
    if garbage:
        assert len(got) <= len(want), f"{len(got)} replies to {len(want)} frames before garbage"
    else:
        assert len(got) == len(want), f"{len(got)} replies to {len(want)} frames"
    for (request_id, reply), (want_id, want_code) in zip(got, want):
        assert request_id == want_id, "replies out of order or with the wrong request id"
        ResultCode(reply.rc)  # a code from the table, or ValueError
        assert reply.rc != ResultCode.SERVER_ERROR, f"internal error on bad input: {reply.msg}"
        if want_code is not None:
            assert reply.rc == want_code, f"code {reply.rc} ({reply.msg}), expected {want_code}"
    assert_node_healthy(cluster)
    return got


def request_frame(request_id: int, body: bytes) -> bytes:
    return HEADER.pack(PROTOCOL_VERSION, KIND_REQUEST, request_id, len(body)) + body


def probe() -> bytes:
    return encode(KIND_REQUEST, PROBE_ID, m.Info(("node",)))


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` cut at the given offsets (clamped, sorted, duplicates ignored)."""
    points = sorted({min(max(cut, 0), len(data)) for cut in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


# ---- strategies ----------------------------------------------------------------------------------

request_ids = st.integers(0, 2**32 - 1)
msgpack_ints = st.integers(-(2**63), 2**64 - 1)  # what msgpack can carry
scalars = (
    st.none() | st.booleans() | msgpack_ints | st.floats()
    | st.text(max_size=16) | st.binary(max_size=24)
    | st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=8))
)
msgpack_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | msgpack_ints, inner, max_size=4),
    max_leaves=10,
)
message_names = st.sampled_from([cls.__name__ for cls in fabric.ALL_MESSAGES]) | st.text(max_size=12)


@st.composite
def mutated_requests(draw: st.DrawFn) -> bytes:
    """The body of a valid request with some fields replaced by random values, or one dropped or added."""
    request = draw(st.sampled_from(VALID))
    fields = [getattr(request, f.name) for f in dataclasses.fields(request)]
    for index in draw(st.sets(st.integers(0, len(fields) - 1), max_size=3)):
        fields[index] = draw(msgpack_values)
    change = draw(st.sampled_from(["keep", "drop", "add"]))
    if change == "drop":
        fields.pop()
    elif change == "add":
        fields.append(draw(msgpack_values))
    return msgpack.packb([type(request).__name__, *fields], use_bin_type=True)


def typed_values(hint: object) -> st.SearchStrategy:
    """Random values of a field's declared type: they pass the codec, so they reach the node's
    handlers, where a namespace, digest length, policy or operator can still be wrong."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([typed_values(arg) for arg in args])
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(typed_values(args[0]), max_size=4)
    if origin is tuple:
        return st.tuples(*[typed_values(arg) for arg in args])
    simple = {
        str: st.sampled_from(["test", "fuzz", ""]) | st.text(max_size=20),
        bytes: st.just(SCRATCH) | st.binary(max_size=24),
        int: st.integers(-2, 20) | msgpack_ints,
        bool: st.booleans(),
        dict: st.dictionaries(st.text(max_size=20), msgpack_values, max_size=4),
        type(None): st.none(),
    }
    return simple.get(origin or hint, msgpack_values)  # Any: anything msgpack carries


@st.composite
def typed_requests(draw: st.DrawFn) -> bytes:
    """The body of a client request whose every field has its declared type, with random content."""
    cls = draw(st.sampled_from(m.CLIENT_REQUESTS))
    hints = typing.get_type_hints(cls)
    fields = [draw(typed_values(hints[f.name])) for f in dataclasses.fields(cls)]
    return msgpack.packb([cls.__name__, *fields], use_bin_type=True)


# ---- the properties ------------------------------------------------------------------------------


@settings(FUZZ, max_examples=30)
@given(data=st.binary(max_size=64) | st.binary(max_size=64).map(lambda tail: b"\x01\x01" + tail))
def test_random_bytes(node, data):
    """Random bytes (some starting like a request header) get error replies or a closed connection."""
    check_conversation(node, [data])


@settings(FUZZ, max_examples=15)
@given(request=st.sampled_from(VALID), request_id=request_ids, cut=st.integers(0, 10**6))
def test_truncated_frame(node, request, request_id, cut):
    """A valid frame cut short gets no reply; the node waits, then closes when we hang up."""
    frame = encode(KIND_REQUEST, request_id, request)
    assert check_conversation(node, [frame[: cut % len(frame)]]) == []


@settings(FUZZ, max_examples=20)
@given(request_id=request_ids, body=st.binary(max_size=200))
def test_garbage_body(node, request_id, body):
    """A valid header with a garbage body is answered with an error carrying its request id, in step."""
    replies = check_conversation(node, [request_frame(request_id, body), probe()])
    assert replies[0][0] == request_id and replies[0][1].rc != ResultCode.OK
    assert replies[-1] == (PROBE_ID, m.Reply(ResultCode.OK, "", {"node": "n1"}))


@settings(FUZZ, max_examples=25)
@given(request_id=request_ids, name=message_names, fields=st.lists(msgpack_values, max_size=10))
def test_msgpack_body_of_wrong_shape(node, request_id, name, fields):
    """A msgpack body naming an unknown message, or a known one with wrong fields, gets its error code."""
    body = msgpack.packb([name, *fields], use_bin_type=True)
    check_conversation(node, [request_frame(request_id, body), probe()])


@settings(FUZZ, max_examples=25)
@given(request_id=request_ids, body=mutated_requests())
def test_mutated_request(node, request_id, body):
    """A real request with fields of the wrong type or count is refused with the codec's code, or served."""
    check_conversation(node, [request_frame(request_id, body), probe()])


@settings(FUZZ, max_examples=40)
@given(request_id=request_ids, body=typed_requests())
def test_well_typed_request_with_wrong_content(node, request_id, body):
    """A request the codec accepts but whose content is wrong gets an error code, never a crash."""
    check_conversation(node, [request_frame(request_id, body), probe()])


@settings(FUZZ, max_examples=15)
@given(request_id=request_ids, size=st.integers(MAX_FRAME + 1, 2**32 - 1), tail=st.binary(max_size=64))
def test_oversized_header(node, request_id, size, tail):
    """A header announcing more than max_frame_size is answered RecordTooBig at once, with its id."""
    header = HEADER.pack(PROTOCOL_VERSION, KIND_REQUEST, request_id, size)
    replies = check_conversation(node, [header + tail])
    assert [(rid, reply.rc) for rid, reply in replies] == [(request_id, ResultCode.RECORD_TOO_BIG)]


@settings(FUZZ, max_examples=5)
@given(request_id=request_ids, extra=st.integers(1, 4096), chunk=st.integers(1000, MiB))
def test_oversized_body_streamed_in_chunks(node, request_id, extra, chunk):
    """An oversized body sent in full is skipped: RecordTooBig, then the next frame is served."""
    body = bytes(MAX_FRAME + extra)
    frame = request_frame(request_id, body)
    chunks = [frame[i : i + chunk] for i in range(0, len(frame), chunk)] + [probe()]
    replies = check_conversation(node, chunks)
    assert [(rid, reply.rc) for rid, reply in replies] == [(request_id, ResultCode.RECORD_TOO_BIG), (PROBE_ID, 0)]


def test_nine_mib_put_is_refused_and_stream_stays_in_step(node):
    """A real 9 MiB Put streamed in 64 KiB chunks gets RecordTooBig; a request after it is served."""
    put = m.Put("test", "fuzz", SCRATCH, {"blob": bytes(9 * MiB)})
    frame = encode(KIND_REQUEST, 7, put)
    chunks = [frame[i : i + 64 * 1024] for i in range(0, len(frame), 64 * 1024)] + [probe()]
    replies = check_conversation(node, chunks)
    assert [(rid, reply.rc) for rid, reply in replies] == [(7, ResultCode.RECORD_TOO_BIG), (PROBE_ID, 0)]


@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_frames_split_at_random_points(node, data):
    """Good and bad frames cut at random points are each answered, in order, as if sent whole."""
    frames = data.draw(st.lists(
        st.builds(encode, st.just(KIND_REQUEST), request_ids, st.sampled_from(VALID))
        | st.builds(request_frame, request_ids, st.binary(max_size=40) | mutated_requests()),
        min_size=1, max_size=6,
    ))
    stream = b"".join(frames) + probe()
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    replies = check_conversation(node, split(stream, cuts))
    assert len(replies) == len(frames) + 1 and replies[-1][0] == PROBE_ID
