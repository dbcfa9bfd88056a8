"""Aerospike's wire protocol: the bytes the official clients send and expect (the second port).

Every exchange is a *proto* frame: an 8-byte header, then a body.

    +---------+------+------------------+--------------------------------------------+
    | version | type | body size        | body                                       |
    |  u8 = 2 |  u8  | u48 (big-endian) | info: text lines / message: as_msg below   |
    +---------+------+------------------+--------------------------------------------+

Type 1 (*info*) carries text: the request is command names, one per line; the answer is one
`name<TAB>value` line per command. Type 3 (*message*) carries one record command, an `as_msg`:

    22-byte header: header size (22), info1, info2, info3, info4 (flag bytes: read, get all bins,
                    no bin data, batch / write, delete, generation check, create only / commit
                    level, update only, replace...), result code, generation (u32),
                    record ttl (u32: the ttl asked for; in a reply the *void time*, seconds since
                    2010-01-01), transaction ttl (u32: the client's timeout in ms), n_fields (u16),
                    n_ops (u16)
    fields:         size (u32, counts the type byte) | type (u8) | data  - namespace 0, set 1,
                    user key 2, digest 4 (the 20-byte RIPEMD-160 of minikv.keys), batch 41, ...
    ops:            size (u32) | op (u8) | particle type (u8) | 0 (u8) | name length (u8) | name |
                    value - op read 1, write 2, incr 5, append 9, prepend 10, touch 11, delete 14

A value is typed by its *particle type*: integer 1 (8 bytes big-endian), float 2 (IEEE-754 big-
endian), string 3 (UTF-8), blob 4 (bytes), bool 17, map 19 and list 20 (msgpack, with Aerospike's
twist: each string or blob inside is a msgpack raw string whose first byte is its particle type).
Type 4 is a zlib-compressed message. This module only turns bytes into values and back; what a
request *means* is decided in `aerospike_requests.py`. Facts from the open-source C client
(as_proto.h, as_command.c, as_msgpack.c); see docs/aerospike-protocol.md.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any, NamedTuple

import msgpack

from minikv.errors import ResultCode

PROTO_VERSION = 2
TYPE_INFO = 1
TYPE_MESSAGE = 3
TYPE_COMPRESSED = 4
PROTO_HEADER = struct.Struct(">Q")  # version << 56 | type << 48 | size
MSG_HEADER = struct.Struct(">BBBBBBIIIHH")  # the 22-byte as_msg header
FIELD_HEADER = struct.Struct(">IB")  # size (includes the type byte), type
OP_HEADER = struct.Struct(">IBBBB")  # size (from the op byte on), op, particle type, 0, name length
CITRUSLEAF_EPOCH = 1262304000  # 2010-01-01 UTC: Aerospike's clocks count seconds from here

# info1: what a read wants
INFO1_READ, INFO1_GET_ALL, INFO1_BATCH, INFO1_NOBINDATA = 1, 2, 8, 32
# info2: what a write does
INFO2_WRITE, INFO2_DELETE, INFO2_GENERATION, INFO2_GENERATION_GT = 1, 2, 4, 8
INFO2_CREATE_ONLY, INFO2_RESPOND_ALL_OPS = 32, 128
# info3: commit level, exists policy, and stream markers in replies
INFO3_LAST, INFO3_COMMIT_MASTER, INFO3_PARTITION_DONE = 1, 2, 4
INFO3_UPDATE_ONLY, INFO3_CREATE_OR_REPLACE, INFO3_REPLACE_ONLY = 8, 16, 32

# field types
FIELD_NAMESPACE, FIELD_SET, FIELD_KEY, FIELD_DIGEST = 0, 1, 2, 4
FIELD_TASK_ID, FIELD_SOCKET_TIMEOUT, FIELD_RPS = 7, 9, 10
FIELD_PID_ARRAY, FIELD_DIGEST_ARRAY, FIELD_MAX_RECORDS = 11, 12, 13
FIELD_BATCH_INDEX = 41
# fields a request may carry without changing what minikv does with it
HARMLESS_FIELDS = frozenset({FIELD_NAMESPACE, FIELD_SET, FIELD_KEY, FIELD_DIGEST, FIELD_TASK_ID,
                             FIELD_SOCKET_TIMEOUT, FIELD_RPS, FIELD_PID_ARRAY, FIELD_DIGEST_ARRAY,
                             FIELD_MAX_RECORDS, FIELD_BATCH_INDEX})

# wire op codes (not the OPERATOR_* numbers of the Python API: those are the client's own)
OP_READ, OP_WRITE, OP_INCR, OP_APPEND, OP_PREPEND, OP_TOUCH, OP_DELETE = 1, 2, 5, 9, 10, 11, 14

# particle types
PARTICLE_NULL, PARTICLE_INTEGER, PARTICLE_FLOAT, PARTICLE_STRING, PARTICLE_BLOB = 0, 1, 2, 3, 4
PARTICLE_BOOL, PARTICLE_MAP, PARTICLE_LIST = 17, 19, 20
_INT64 = struct.Struct(">q")
_FLOAT64 = struct.Struct(">d")


class ProtoError(Exception):
    """A message that cannot become a request; `code` is the result code to answer with."""

    def __init__(self, code: ResultCode, msg: str):
        super().__init__(msg)
        self.code = code
        self.msg = msg


class FramingError(Exception):
    """Bytes that are not Aerospike proto frames (wrong version or type): close the connection."""


class ProtoFrame(NamedTuple):
    """One frame off the wire; `body` is None when it was over the size limit and skipped."""

    type: int
    body: bytes | None
    size: int


class AsOp(NamedTuple):
    op: int  # wire op code (OP_*)
    particle: int
    name: str
    value: bytes  # still encoded: decode_value(particle, value)


class AsMsg(NamedTuple):
    """A decoded as_msg: header values, fields by type, operations in order."""

    info1: int
    info2: int
    info3: int
    info4: int
    result_code: int
    generation: int
    record_ttl: int
    transaction_ttl: int
    fields: dict[int, bytes]  # {field type: data}
    ops: list[AsOp]


# ---- framing a byte stream ----------------------------------------------------------------------


class ProtoReader:
    """Cuts a TCP byte stream into proto frames. An oversized body is skipped as it streams
    (never buffered) and reported as a frame with body None, so the connection stays in step."""

    def __init__(self, max_body: int):
        self.max_body = max_body
        self._buffer = bytearray()
        self._skipping = 0  # bytes of an oversized body still to discard

    def feed(self, data: bytes) -> list[ProtoFrame]:
        self._buffer += data
        frames: list[ProtoFrame] = []
        while True:
            if self._skipping:
                dropped = min(self._skipping, len(self._buffer))
                del self._buffer[:dropped]
                self._skipping -= dropped
                if self._skipping:
                    return frames
            frame = self._next_frame()
            if frame is None:
                return frames
            frames.append(frame)

    def _next_frame(self) -> ProtoFrame | None:
        if len(self._buffer) < PROTO_HEADER.size:
            return None
        version, kind, size = split_proto_header(self._buffer)
        if version != PROTO_VERSION or kind not in (TYPE_INFO, TYPE_MESSAGE, TYPE_COMPRESSED):
            raise FramingError(f"not an Aerospike proto frame (version {version}, type {kind})")
        if size > self.max_body:
            del self._buffer[: PROTO_HEADER.size]
            self._skipping = size
            return ProtoFrame(kind, None, size)
        end = PROTO_HEADER.size + size
        if len(self._buffer) < end:
            return None
        body = bytes(self._buffer[PROTO_HEADER.size : end])
        del self._buffer[:end]
        return ProtoFrame(kind, body, size)


def split_proto_header(data: bytes | bytearray) -> tuple[int, int, int]:
    (word,) = PROTO_HEADER.unpack_from(data)
    return word >> 56, (word >> 48) & 0xFF, word & 0xFFFF_FFFF_FFFF


def proto(kind: int, body: bytes) -> bytes:
    """A whole frame: header then body."""
    return PROTO_HEADER.pack(PROTO_VERSION << 56 | kind << 48 | len(body)) + body


def decompress(body: bytes, max_body: int) -> bytes:
    """The as_msg inside a type-4 frame: u64 original size, then zlib of a whole type-3 frame."""
    if len(body) < 8:
        raise ProtoError(ResultCode.PARAMETER_ERROR, "compressed frame too short")
    size = int.from_bytes(body[:8], "big")
    if size > max_body + PROTO_HEADER.size:
        raise ProtoError(ResultCode.RECORD_TOO_BIG, f"compressed frame expands to {size} bytes")
    try:
        inner = zlib.decompressobj().decompress(body[8:], size)
    except zlib.error as exc:
        raise ProtoError(ResultCode.PARAMETER_ERROR, f"bad compressed frame: {exc}") from None
    if len(inner) < PROTO_HEADER.size or split_proto_header(inner)[:2] != (PROTO_VERSION, TYPE_MESSAGE):
        raise ProtoError(ResultCode.PARAMETER_ERROR, "compressed frame does not hold a message")
    return inner[PROTO_HEADER.size :]


# ---- as_msg: parsing ----------------------------------------------------------------------------


def parse_message(body: bytes) -> AsMsg:
    """Header, fields and ops of one as_msg; raises ProtoError on anything malformed."""
    if len(body) < MSG_HEADER.size:
        raise ProtoError(ResultCode.PARAMETER_ERROR, f"message of {len(body)} bytes has no 22-byte header")
    size, info1, info2, info3, info4, rc, gen, ttl, txn_ttl, n_fields, n_ops = MSG_HEADER.unpack_from(body)
    if size != MSG_HEADER.size:
        raise ProtoError(ResultCode.PARAMETER_ERROR, f"message header size {size}, expected 22")
    fields, at = parse_fields(body, MSG_HEADER.size, n_fields)
    ops, at = parse_ops(body, at, n_ops)
    return AsMsg(info1, info2, info3, info4, rc, gen, ttl, txn_ttl, fields, ops)


def parse_fields(data: bytes, at: int, count: int) -> tuple[dict[int, bytes], int]:
    fields: dict[int, bytes] = {}
    for _ in range(count):
        size, kind = _unpack(FIELD_HEADER, data, at, "field")
        if size < 1 or at + 4 + size > len(data):
            raise ProtoError(ResultCode.PARAMETER_ERROR, f"field {kind} of size {size} overruns the message")
        fields[kind] = data[at + FIELD_HEADER.size : at + 4 + size]
        at += 4 + size
    return fields, at


def parse_ops(data: bytes, at: int, count: int) -> tuple[list[AsOp], int]:
    ops = []
    for _ in range(count):
        size, op, particle, _, name_len = _unpack(OP_HEADER, data, at, "operation")
        end = at + 4 + size
        if size < 4 + name_len or end > len(data):
            raise ProtoError(ResultCode.PARAMETER_ERROR, f"operation of size {size} overruns the message")
        name_at = at + OP_HEADER.size
        name = _utf8(data[name_at : name_at + name_len], "bin name")
        ops.append(AsOp(op, particle, name, data[name_at + name_len : end]))
        at = end
    return ops, at


def _unpack(layout: struct.Struct, data: bytes, at: int, what: str) -> tuple:
    if at + layout.size > len(data):
        raise ProtoError(ResultCode.PARAMETER_ERROR, f"{what} header overruns the message")
    return layout.unpack_from(data, at)


def _utf8(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtoError(ResultCode.PARAMETER_ERROR, f"{what} is not UTF-8") from None


def field_str(fields: dict[int, bytes], kind: int, what: str) -> str:
    return _utf8(fields.get(kind, b""), what)


def decode_user_key(raw: bytes) -> Any:
    """The KEY field: particle type byte, then the key (int, float, str or bytes)."""
    if not raw:
        raise ProtoError(ResultCode.PARAMETER_ERROR, "empty key field")
    if raw[0] not in (PARTICLE_INTEGER, PARTICLE_FLOAT, PARTICLE_STRING, PARTICLE_BLOB):
        raise ProtoError(ResultCode.PARAMETER_ERROR, f"key of particle type {raw[0]}")
    return decode_value(raw[0], raw[1:])


# ---- values: particles and Aerospike's msgpack --------------------------------------------------


def decode_value(particle: int, raw: bytes) -> Any:
    """A bin value from its particle type and bytes. None (type 0) means "delete the bin"."""
    if particle == PARTICLE_NULL:
        return None
    if particle in (PARTICLE_INTEGER, PARTICLE_FLOAT):
        if len(raw) != 8:
            raise ProtoError(ResultCode.PARAMETER_ERROR, f"a number is 8 bytes, not {len(raw)}")
        return (_INT64 if particle == PARTICLE_INTEGER else _FLOAT64).unpack(raw)[0]
    if particle == PARTICLE_STRING:
        return _utf8(raw, "string value")
    if particle == PARTICLE_BLOB:
        return bytes(raw)
    if particle == PARTICLE_BOOL:
        return bool(raw and raw[0])
    if particle in (PARTICLE_MAP, PARTICLE_LIST):
        return unpack_collection(raw)
    raise ProtoError(ResultCode.UNSUPPORTED_FEATURE, f"particle type {particle} is not supported by minikv")


def encode_value(value: Any) -> tuple[int, bytes]:
    """(particle type, bytes) of a bin value; bool is tested before int (a bool is an int)."""
    if value is None:
        return PARTICLE_NULL, b""
    if isinstance(value, bool):
        return PARTICLE_BOOL, bytes([value])
    if isinstance(value, int):
        return PARTICLE_INTEGER, _INT64.pack(value)
    if isinstance(value, float):
        return PARTICLE_FLOAT, _FLOAT64.pack(value)
    if isinstance(value, str):
        return PARTICLE_STRING, value.encode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        return PARTICLE_BLOB, bytes(value)
    if isinstance(value, dict):
        return PARTICLE_MAP, pack_collection(value)
    if isinstance(value, (list, tuple)):
        return PARTICLE_LIST, pack_collection(value)
    raise TypeError(f"cannot send a {type(value).__name__} as a bin value")


class _Ext:
    """Stands for a msgpack ext value: Aerospike's list/map order flags, which minikv drops."""


_EXT = _Ext()


def pack_collection(value: Any) -> bytes:
    """Aerospike's msgpack: strings and blobs become raw strings prefixed by their type byte."""
    return msgpack.packb(_to_wire(value), use_bin_type=False)


def unpack_collection(raw: bytes) -> Any:
    try:
        tree = msgpack.unpackb(raw, raw=True, strict_map_key=False, ext_hook=lambda code, data: _EXT)
    except Exception as exc:  # msgpack raises several types for garbage; all mean the same here
        raise ProtoError(ResultCode.PARAMETER_ERROR, f"undecodable list or map: {exc}") from None
    return _from_wire(tree)


def _to_wire(value: Any) -> Any:
    if isinstance(value, str):
        return bytes([PARTICLE_STRING]) + value.encode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        return bytes([PARTICLE_BLOB]) + bytes(value)
    if isinstance(value, (list, tuple)):
        return [_to_wire(item) for item in value]
    if isinstance(value, dict):
        return {_to_wire(k): _to_wire(v) for k, v in value.items()}
    return value  # None, bool, int, float pack as they are


def _from_wire(value: Any) -> Any:
    if isinstance(value, bytes):
        if not value or value[0] == PARTICLE_BLOB:
            return value[1:]
        if value[0] == PARTICLE_STRING:
            return _utf8(value[1:], "string in a list or map")
        raise ProtoError(ResultCode.UNSUPPORTED_FEATURE, f"particle type {value[0]} inside a list or map")
    if isinstance(value, list):  # an ext first element carries the list's order flags
        return [_from_wire(item) for item in value if item is not _EXT]
    if isinstance(value, dict):  # so does an ext first key (with a nil value) in a map
        return {_from_wire(k): _from_wire(v) for k, v in value.items() if k is not _EXT}
    if value is _EXT:
        raise ProtoError(ResultCode.UNSUPPORTED_FEATURE, "msgpack ext values are not supported")
    return value


# ---- as_msg and info: encoding replies ----------------------------------------------------------


def void_time(ttl: int, now: float) -> int:
    """The reply's record_ttl: when the record expires, in seconds since 2010 (0 = never).
    minikv answers ttl as seconds left (0xFFFFFFFF = never); the client subtracts its own now."""
    if ttl >= 0xFFFFFFFF or ttl <= 0:
        return 0
    return min(int(now) - CITRUSLEAF_EPOCH + ttl, 0xFFFFFFFE)


def encode_field(kind: int, data: bytes) -> bytes:
    return FIELD_HEADER.pack(len(data) + 1, kind) + data


def encode_op(name: str, value: Any, op: int = OP_READ) -> bytes:
    particle, data = encode_value(value)
    raw = name.encode("utf-8")
    return OP_HEADER.pack(4 + len(raw) + len(data), op, particle, 0, len(raw)) + raw + data


def encode_message(result_code: int = 0, generation: int = 0, record_ttl: int = 0,
                   ops: list[tuple[str, Any]] = (), fields: list[bytes] = (), info3: int = 0,
                   transaction_ttl: int = 0) -> bytes:
    """One as_msg (no proto header): a record, an error, or a stream marker."""
    body = b"".join(fields) + b"".join(encode_op(name, value) for name, value in ops)
    header = MSG_HEADER.pack(MSG_HEADER.size, 0, 0, info3, 0, result_code, generation, record_ttl,
                             transaction_ttl, len(fields), len(ops))
    return header + body


def encode_info(answers: list[tuple[str, str]]) -> bytes:
    """An info reply frame: `name<TAB>value` lines. A value may not hold a newline (it ends
    the line), so multi-line answers are joined with ';' as Aerospike's own lists are."""
    text = "".join(f"{name}\t{value.replace(chr(10), ';')}\n" for name, value in answers)
    return proto(TYPE_INFO, text.encode("utf-8"))


def parse_info_request(body: bytes) -> list[str]:
    """The command names of an info request, one per line (a client may end without newline)."""
    return [line for line in body.decode("utf-8", errors="replace").split("\n") if line]
