"""The wire codec (minikv.runtime.codec): frames, strict decoding, and a stream reader that never
loses step, not even after a frame too big to read.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import msgpack
import pytest

from minikv.core import fabric as f
from minikv.core import messages as m
from minikv.errors import ParamError, ResultCode
from minikv.runtime.codec import (
    HEADER,
    KIND_REPLY,
    KIND_REQUEST,
    PROTOCOL_VERSION,
    CodecError,
    Frame,
    FrameReader,
    FramingError,
    decode,
    encode,
    parse_request,
)

DIGEST = bytes(range(20))

# one or more instances of every message type, with every optional field exercised somewhere
SAMPLES: list[Any] = [
    m.Get("test", "demo", DIGEST),
    m.Get("test", "demo", DIGEST, ("a", "b"), True),
    m.Put("test", "demo", DIGEST, {"a": 1, "b": [1, "x"], "c": {"k": b"\x00"}}, "user", 60, 3, 1, 2),
    m.Put("test", "", DIGEST, {"a": None}),
    m.Operate("test", "demo", DIGEST, ((6, "n", 5), (0, None, None), (1, "f", 1.5)), 7, 0, 0, 0, 4),
    m.Remove("test", "demo", DIGEST, 2, 1),
    m.BatchRead((("test", DIGEST), ("other", DIGEST)), None, True),
    m.BatchRead((("test", DIGEST),), ("a",)),
    m.ScanPage("test", None, (0, 1, 4095), 10, ("a",)),
    m.ScanPage("test", "demo", ()),
    m.Info(("statistics", "namespace/test")),
    m.Admin("seeds", {"self": ["127.0.0.1", 3001], "addresses": [["127.0.0.1", 3002]]}),
    m.Reply(0, "", [1, 2, {"a": 1}]),
    # multi-record transactions
    m.Put("test", "demo", DIGEST, {"a": 1}, txn_id=2**64 - 1, txn_deadline=12.5, read_version=(3, 1.25)),
    m.MonitorAdd("test", DIGEST, 2**64 - 1, 10, DIGEST),
    m.MonitorMark("test", DIGEST, 5),
    m.MonitorClose("test", DIGEST, 5, True),
    m.TxnVerify("test", DIGEST, 5, (0, 0.0)),
    m.TxnRoll("test", DIGEST, 5, False),
    # fabric: node to node
    f.Heartbeat("n1", ("127.0.0.1", 3001), 0xABC, ("n2", "n1"), ("n2",)),
    f.Prepare("n3", (1.5, 7)),
    f.Promise("n1", (1.5, 7), True),
    f.Accept("n3", (1.5, 7), 0xABC, ("n3", "n1")),
    f.Accepted("n1", (1.5, 7), {"test": [[0xABC, True, ["n1", "n3"], [0, 1, 2]]]}),
    f.Commit("n3", 0xABC, ("n3", "n1"), {"n1": {"test": []}, "n3": {"test": []}}),
    f.MigrateInsert("n1", 0xABC, "test", 7, 0, ((DIGEST, b"packed"),)),
    f.MigrateDone("n1", 0xABC, "test", 7, 1),
    f.MigrateAck("n2", 0xABC, "test", 7, 1, True),
    f.MigrateSettled("n2", 0xABC, "test", (7, 8)),
    f.MigrateDropped("n2", 0xABC, "test", (7,), 4),
    f.AnnounceAck("n1", 4),
    f.ReplicaWrite("n1", 0xABC, "test", DIGEST, None, 5),
    f.ReplicaAck("n2", 5),
    f.ReplicaAck("n2", 6, False),
    f.RegimeCheck("n1", 7, "test", 12, 3, 8),
    f.DupResRequest("n1", 0xABC, "test", DIGEST, 6),
    f.DupResReply("n2", 6, b"packed"),
    f.Proxy("n2", 9, m.Get("test", "demo", DIGEST)),
    f.Proxy("n1", 10, m.TxnRoll("test", DIGEST, 5, True)),
    f.ProxyReply("n1", 9, m.Reply(2, "record not found")),
    m.Reply(2, "record not found"),
]


def body_of(message: Any) -> bytes:
    return encode(KIND_REQUEST, 1, message)[HEADER.size :]


def packed(*items: Any) -> bytes:
    """A frame body built by hand, to say things the encoder never would."""
    return msgpack.packb(list(items), use_bin_type=True)


def frame_bytes(body: bytes, request_id: int = 1, kind: int = KIND_REQUEST, version: int = PROTOCOL_VERSION) -> bytes:
    return HEADER.pack(version, kind, request_id, len(body)) + body


# ---- encode / decode ---------------------------------------------------------------------------


def test_every_message_type_has_a_sample() -> None:
    """The round-trip samples cover every message type the codec knows."""
    assert {type(sample) for sample in SAMPLES} == set(f.ALL_MESSAGES)


@pytest.mark.parametrize("message", SAMPLES, ids=lambda msg: type(msg).__name__)
def test_round_trip(message: Any) -> None:
    """decode(encode(message)) is an equal message of the same type."""
    decoded = decode(body_of(message))
    assert type(decoded) is type(message)
    assert decoded == message


def test_header_layout() -> None:
    """The 10-byte header is version, kind, request id and body length, big-endian."""
    frame = encode(KIND_REPLY, 0xDEADBEEF, m.Reply(0))
    assert HEADER.size == 10
    assert HEADER.unpack_from(frame) == (PROTOCOL_VERSION, KIND_REPLY, 0xDEADBEEF, len(frame) - 10)


def test_tuples_arrive_as_tuples() -> None:
    """Tuple fields sent as msgpack lists are turned back into tuples, so frozen messages compare equal."""
    decoded = decode(body_of(m.BatchRead((("test", DIGEST),), ("a",))))
    assert isinstance(decoded.keys, tuple) and isinstance(decoded.keys[0], tuple)
    assert isinstance(decoded.bins, tuple)


def test_unencodable_value_is_param_error() -> None:
    """A value msgpack cannot carry (a set, an int over 64 bits) is a ParamError before sending."""
    for value in ({1, 2}, object(), 2**64):
        with pytest.raises(ParamError):
            encode(KIND_REQUEST, 1, m.Put("test", "demo", DIGEST, {"a": value}))


# ---- strict decoding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"\xc1", ResultCode.PARAMETER_ERROR),  # 0xc1 is never used by msgpack
        (b"\x93\x01", ResultCode.PARAMETER_ERROR),  # truncated array
        (msgpack.packb({"Get": 1}), ResultCode.PARAMETER_ERROR),  # not a list
        (packed(), ResultCode.PARAMETER_ERROR),  # empty list
        (packed(7, "test"), ResultCode.PARAMETER_ERROR),  # name not a str
        (packed("Pickle", b"cos\nsystem"), ResultCode.UNSUPPORTED_FEATURE),  # unknown message
    ],
    ids=["garbage", "truncated", "map", "empty", "int-name", "unknown-name"],
)
def test_bad_bodies(body: bytes, code: ResultCode) -> None:
    """Bodies that are not [MessageName, fields...] raise CodecError with the code to answer."""
    with pytest.raises(CodecError) as caught:
        decode(body)
    assert caught.value.code == code


GET_FIELDS = len(dataclasses.fields(m.Get))


def _with_defaults(name: str, fields: tuple) -> tuple:
    """`fields`, completed with the defaults of any later fields the message has grown since."""
    declared = dataclasses.fields(getattr(m, name))
    return fields + tuple(f.default for f in declared[len(fields):])


@pytest.mark.parametrize(
    "fields",
    [
        ("test", "demo"),  # too few
        ("test", "demo", DIGEST) + (None,) * (GET_FIELDS - 3) + ("extra",),  # too many
    ],
)
def test_wrong_field_count(fields: tuple) -> None:
    """A message with too few or too many fields is a PARAMETER_ERROR naming the expected count."""
    with pytest.raises(CodecError) as caught:
        decode(packed("Get", *fields))
    assert caught.value.code == ResultCode.PARAMETER_ERROR
    assert f"takes {GET_FIELDS} fields" in caught.value.msg


@pytest.mark.parametrize(
    ("name", "fields", "bad_field"),
    [
        ("Get", (5, "demo", DIGEST, None, False), "ns"),
        ("Get", ("test", "demo", "not bytes", None, False), "digest"),
        ("Get", ("test", "demo", DIGEST, "a", False), "bins"),  # a str is not a list of bins
        ("Get", ("test", "demo", DIGEST, [1], False), "bins"),
        ("Get", ("test", "demo", DIGEST, None, 1), "header_only"),  # int where bool belongs
        ("Put", ("test", "demo", DIGEST, [["a", 1]], None, 0, 0, 0, 0, 0), "bins"),
        ("Put", ("test", "demo", DIGEST, {"a": 1}, None, True, 0, 0, 0, 0), "ttl"),  # bool where int
        ("Put", ("test", "demo", DIGEST, {"a": 1}, None, 1.5, 0, 0, 0, 0), "ttl"),
        ("Remove", ("test", "demo", DIGEST, 0, False, 0), "gen_policy"),
        ("Operate", ("test", "demo", DIGEST, [[6, "n"]], None, 0, 0, 0, 0, 0), "ops"),  # 2-item op
        ("BatchRead", ([["test"]], None, False), "keys"),
        ("BatchRead", ([["test", "digest"]], None, False), "keys"),
        ("ScanPage", ("test", None, [0, "1"], 10, None), "pids"),
        ("Info", ("statistics",), "commands"),
    ],
)
def test_wrong_field_types(name: str, fields: tuple, bad_field: str) -> None:
    """Each field is checked against its declared type; a mismatch is a PARAMETER_ERROR naming it."""
    with pytest.raises(CodecError) as caught:
        decode(packed(name, *_with_defaults(name, fields)))
    assert caught.value.code == ResultCode.PARAMETER_ERROR
    assert f"{name}.{bad_field}" in caught.value.msg


def test_optional_fields_accept_none() -> None:
    """`X | None` fields take None as well as X."""
    assert decode(packed("ScanPage", "test", None, [1], 5, None)) == m.ScanPage("test", None, (1,), 5, None)
    assert decode(packed("ScanPage", "test", "s", [1], 5, ["a"])) == m.ScanPage("test", "s", (1,), 5, ("a",))


# ---- parse_request -----------------------------------------------------------------------------


def test_parse_request_accepts_a_request() -> None:
    """A good request frame parses to (message, None)."""
    frame = Frame(KIND_REQUEST, 3, body_of(SAMPLES[0]), 0)
    assert parse_request(frame, 1000) == (SAMPLES[0], None)


def test_parse_request_oversized_frame_is_record_too_big() -> None:
    """A frame skipped for its size (body None) is answered with RECORD_TOO_BIG."""
    message, reply = parse_request(Frame(KIND_REQUEST, 3, None, 5000), 1000)
    assert message is None
    assert reply.rc == ResultCode.RECORD_TOO_BIG
    assert "5000" in reply.msg


def test_parse_request_bad_body_is_error_reply() -> None:
    """An undecodable body becomes an error reply with the codec's result code, not an exception."""
    _, reply = parse_request(Frame(KIND_REQUEST, 3, b"\xc1", 1), 1000)
    assert reply.rc == ResultCode.PARAMETER_ERROR
    _, reply = parse_request(Frame(KIND_REQUEST, 3, packed("Nope"), 1), 1000)
    assert reply.rc == ResultCode.UNSUPPORTED_FEATURE


def test_parse_request_refuses_a_reply() -> None:
    """A Reply sent as a request decodes but is refused with PARAMETER_ERROR."""
    _, reply = parse_request(Frame(KIND_REQUEST, 3, body_of(m.Reply(0)), 1), 1000)
    assert reply.rc == ResultCode.PARAMETER_ERROR


# ---- FrameReader -------------------------------------------------------------------------------


def test_reader_whole_frames() -> None:
    """Two frames fed at once come out as two frames, in order, with their request ids."""
    data = encode(KIND_REQUEST, 1, SAMPLES[0]) + encode(KIND_REQUEST, 2, SAMPLES[1])
    frames = FrameReader(1000).feed(data)
    assert [f.request_id for f in frames] == [1, 2]
    assert [decode(f.body) for f in frames] == SAMPLES[:2]


def test_reader_byte_by_byte() -> None:
    """Fed one byte at a time, the reader returns each frame exactly when its last byte arrives."""
    first, second = encode(KIND_REQUEST, 1, SAMPLES[2]), encode(KIND_REQUEST, 2, SAMPLES[4])
    reader = FrameReader(1000)
    completed_at = []
    for index, byte in enumerate(first + second):
        for frame in reader.feed(bytes([byte])):
            completed_at.append((index, frame.request_id))
    assert completed_at == [(len(first) - 1, 1), (len(first) + len(second) - 1, 2)]


def test_reader_body_at_the_limit_is_read() -> None:
    """A body of exactly max_body bytes is read normally."""
    body = b"x" * 50
    (frame,) = FrameReader(50).feed(frame_bytes(body))
    assert frame.body == body


def test_reader_skips_oversized_frame_and_stays_in_step() -> None:
    """An oversized frame yields body=None (with its size) and the next frame is read intact."""
    big = frame_bytes(b"y" * 500, request_id=7)
    small = encode(KIND_REQUEST, 8, SAMPLES[0])
    frames = FrameReader(100).feed(big + small)
    assert frames[0] == Frame(KIND_REQUEST, 7, None, 500)
    assert frames[1].request_id == 8 and decode(frames[1].body) == SAMPLES[0]


def test_reader_skips_oversized_frame_fed_byte_by_byte() -> None:
    """Byte by byte, the skip is announced as soon as the header is in, and the stream stays in step."""
    big = frame_bytes(b"y" * 300, request_id=7)
    small = encode(KIND_REQUEST, 8, SAMPLES[0])
    reader = FrameReader(100)
    completed_at = []
    for index, byte in enumerate(big + small):
        for frame in reader.feed(bytes([byte])):
            completed_at.append((index, frame.request_id, frame.body is None))
    assert completed_at == [(HEADER.size - 1, 7, True), (len(big) + len(small) - 1, 8, False)]


@pytest.mark.parametrize(
    "header",
    [
        HEADER.pack(PROTOCOL_VERSION + 1, KIND_REQUEST, 1, 0),
        HEADER.pack(0, KIND_REQUEST, 1, 0),
        HEADER.pack(PROTOCOL_VERSION, KIND_REPLY, 1, 0),  # a reply where requests are expected
        b"GET / HTTP/1.1\r\n",
    ],
    ids=["version+1", "version0", "wrong-kind", "http"],
)
def test_reader_framing_errors(header: bytes) -> None:
    """Bytes that are not a minikv frame (bad version or kind) raise FramingError: close the socket."""
    with pytest.raises(FramingError):
        FrameReader(1000).feed(header)


def test_reader_accepts_configured_kinds() -> None:
    """A reader built for replies reads reply frames."""
    (frame,) = FrameReader(1000, kinds=(KIND_REPLY,)).feed(encode(KIND_REPLY, 4, m.Reply(0)))
    assert frame.kind == KIND_REPLY and decode(frame.body) == m.Reply(0)
