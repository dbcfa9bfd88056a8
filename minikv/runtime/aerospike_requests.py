"""What an Aerospike message means, in minikv's own requests: Get, Put, Operate, Remove, BatchRead.

Aerospike has one message type whose flag bits and operation list say what to do; minikv gives
each request its own class (core/messages.py). This module translates one way (as_msg -> the
*same* native request minikv's own client would send) and back (the native Reply -> the as_msg
the official client expects). The node never learns which protocol a request came in by.

    flags and ops of the as_msg                          native request
    info2 WRITE + DELETE, no ops                         Remove
    info2 WRITE, only write ops                          Put     (exists/replace policies apply)
    info2 WRITE, any other op mix                        Operate (read, write, incr, append,
                                                                  prepend, touch, delete)
    info1 READ + NOBINDATA                               Get(header_only)      exists()
    info1 READ + GET_ALL, or no ops                      Get(bins=None)        get()
    info1 READ, read ops with bin names                  Get(bins=names)       select()
    info1 BATCH_INDEX, field 41                          BatchRead per group   batch_read()

Scans (field 11, partition ids) are served page by page in aerospike_server.py. Everything
else (list/map/bit/HLL operations, expressions, UDFs, secondary-index queries, transactions,
batch writes) is refused with UNSUPPORTED_FEATURE: docs/aerospike-protocol.md lists it.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, NamedTuple

from minikv import policies as P
from minikv.core.messages import BatchRead, Get, Operate, Put, Remove, Reply
from minikv.errors import ResultCode
from minikv.keys import DIGEST_SIZE
from minikv.runtime import aerospike_codec as ac

# wire op code -> minikv's OPERATOR_* (the Python API numbers the same operations differently)
_OPERATORS = {ac.OP_READ: P.OPERATOR_READ, ac.OP_WRITE: P.OPERATOR_WRITE, ac.OP_INCR: P.OPERATOR_INCR,
              ac.OP_APPEND: P.OPERATOR_APPEND, ac.OP_PREPEND: P.OPERATOR_PREPEND,
              ac.OP_TOUCH: P.OPERATOR_TOUCH, ac.OP_DELETE: P.OPERATOR_DELETE}
_FIELD_NAMES = {3: "record version (transactions)", 5: "transaction id", 6: "transaction deadline",
                21: "index name", 22: "index range (a query with a where clause)",
                23: "index context", 24: "index expression", 30: "UDF package", 31: "UDF function",
                32: "UDF arguments", 33: "UDF op", 40: "query bins", 43: "filter expression"}
_OP_NAMES = {3: "list/map read", 4: "list/map modify", 7: "expression read", 8: "expression modify",
             12: "bit read", 13: "bit modify", 15: "HLL read", 16: "HLL modify"}
TTL_CLIENT_DEFAULT = 0xFFFFFFFD  # "use the client's policy ttl": the client resolves it, but just in case

Answer = Callable[[Reply, float], bytes]  # (native reply, now) -> the as_msg to send back


class Translation(NamedTuple):
    request: Any  # the native request (core.messages) the node serves
    answer: Answer  # turns the node's Reply into the as_msg the client reads


def translate(msg: ac.AsMsg) -> Translation:
    """The native request for a single-record message; raises ProtoError when unsupported."""
    check_fields(msg.fields)
    ns, set_name, digest = key_fields(msg.fields)
    if msg.info2 & ac.INFO2_WRITE:
        return _write(msg, ns, set_name, digest)
    if msg.info1 & ac.INFO1_READ:
        return _read(msg, ns, set_name, digest)
    raise ac.ProtoError(ResultCode.PARAMETER_ERROR, "a message must read or write")


def check_fields(fields: dict[int, bytes]) -> None:
    for kind in fields:
        if kind not in ac.HARMLESS_FIELDS:
            what = _FIELD_NAMES.get(kind, f"field type {kind}")
            raise ac.ProtoError(ResultCode.UNSUPPORTED_FEATURE, f"{what} is not supported by minikv")


def key_fields(fields: dict[int, bytes]) -> tuple[str, str, bytes]:
    ns = ac.field_str(fields, ac.FIELD_NAMESPACE, "namespace")
    digest = fields.get(ac.FIELD_DIGEST, b"")
    if not ns or len(digest) != DIGEST_SIZE:
        raise ac.ProtoError(ResultCode.PARAMETER_ERROR, "a record command needs a namespace and a 20-byte digest")
    return ns, ac.field_str(fields, ac.FIELD_SET, "set"), bytes(digest)


def error_answer(reply: Reply) -> bytes:
    return ac.encode_message(reply.rc)


# ---- reads --------------------------------------------------------------------------------------


def _read(msg: ac.AsMsg, ns: str, set_name: str, digest: bytes) -> Translation:
    if msg.info1 & ac.INFO1_NOBINDATA:
        return Translation(Get(ns, set_name, digest, header_only=True), _record_answer(None, False))
    if msg.info1 & ac.INFO1_GET_ALL or not msg.ops:
        return Translation(Get(ns, set_name, digest), _record_answer(None, False))
    for op in msg.ops:
        if op.op != ac.OP_READ or not op.name:
            raise ac.ProtoError(ResultCode.UNSUPPORTED_FEATURE, f"{_op_name(op.op)} is not supported by minikv")
    names = tuple(op.name for op in msg.ops)
    every_op = bool(msg.info2 & ac.INFO2_RESPOND_ALL_OPS)
    return Translation(Get(ns, set_name, digest, bins=names), _record_answer(names, every_op))


def _record_answer(names: tuple[str, ...] | None, every_op: bool) -> Answer:
    """A Get's [gen, ttl, bins, user_key] as a record: one op per bin (per asked name when the
    client wants an answer for every op, missing bins then as nil)."""
    def answer(reply: Reply, now: float) -> bytes:
        if reply.rc:
            return error_answer(reply)
        gen, ttl, bins, _ = reply.result
        if bins is None:
            ops = []
        elif names is None:
            ops = list(bins.items())
        else:
            ops = [(name, bins.get(name)) for name in names if every_op or name in bins]
        return ac.encode_message(0, gen, ac.void_time(ttl, now), ops)
    return answer


# ---- writes -------------------------------------------------------------------------------------


def _write(msg: ac.AsMsg, ns: str, set_name: str, digest: bytes) -> Translation:
    gen_policy, exists, commit_level = write_policies(msg)
    if msg.info2 & ac.INFO2_DELETE:
        if msg.ops:
            raise ac.ProtoError(ResultCode.PARAMETER_ERROR, "a delete carries no operations")
        return Translation(Remove(ns, set_name, digest, gen=msg.generation, gen_policy=gen_policy,
                                  commit_level=commit_level), _write_answer)
    if not msg.ops:
        raise ac.ProtoError(ResultCode.PARAMETER_ERROR, "a write needs at least one operation")
    user_key = ac.decode_user_key(msg.fields[ac.FIELD_KEY]) if ac.FIELD_KEY in msg.fields else None
    policies = {"user_key": user_key, "ttl": 0 if msg.record_ttl == TTL_CLIENT_DEFAULT else msg.record_ttl,
                "gen": msg.generation, "gen_policy": gen_policy, "exists": exists, "commit_level": commit_level}
    ops = tuple(_native_op(op) for op in msg.ops)
    every_op = bool(msg.info2 & ac.INFO2_RESPOND_ALL_OPS)
    if all(op[0] == P.OPERATOR_WRITE for op in ops) and not every_op:  # a put(): replace applies
        bins = {name: value for _, name, value in ops}
        return Translation(Put(ns, set_name, digest, bins, **policies), _write_answer)
    return Translation(Operate(ns, set_name, digest, ops, **policies), _operate_answer(ops, every_op))


def write_policies(msg: ac.AsMsg) -> tuple[int, int, int]:
    """(gen policy, exists policy, commit level) from the flag bits, as the client set them."""
    gen_policy = (P.POLICY_GEN_EQ if msg.info2 & ac.INFO2_GENERATION
                  else P.POLICY_GEN_GT if msg.info2 & ac.INFO2_GENERATION_GT else P.POLICY_GEN_IGNORE)
    if msg.info2 & ac.INFO2_CREATE_ONLY:
        exists = P.POLICY_EXISTS_CREATE
    elif msg.info3 & ac.INFO3_UPDATE_ONLY:
        exists = P.POLICY_EXISTS_UPDATE
    elif msg.info3 & ac.INFO3_CREATE_OR_REPLACE:
        exists = P.POLICY_EXISTS_CREATE_OR_REPLACE
    elif msg.info3 & ac.INFO3_REPLACE_ONLY:
        exists = P.POLICY_EXISTS_REPLACE
    else:
        exists = P.POLICY_EXISTS_IGNORE
    commit = P.POLICY_COMMIT_LEVEL_MASTER if msg.info3 & ac.INFO3_COMMIT_MASTER else P.POLICY_COMMIT_LEVEL_ALL
    return gen_policy, exists, commit


def _native_op(op: ac.AsOp) -> tuple[int, str | None, Any]:
    operator = _OPERATORS.get(op.op)
    if operator is None:
        raise ac.ProtoError(ResultCode.UNSUPPORTED_FEATURE, f"{_op_name(op.op)} is not supported by minikv")
    if operator in (P.OPERATOR_TOUCH, P.OPERATOR_DELETE):  # no bin, no value: touch uses the header ttl
        return operator, None, None
    return operator, op.name or None, ac.decode_value(op.particle, op.value)


def _write_answer(reply: Reply, now: float) -> bytes:
    if reply.rc:
        return error_answer(reply)
    gen, ttl = reply.result[:2]
    return ac.encode_message(0, gen, ac.void_time(ttl, now))


def _operate_answer(ops: tuple, every_op: bool) -> Answer:
    """Operate's reads in op order; when the client asked for an answer to every op, write ops
    get an empty (nil) entry in their place, as Aerospike's server does."""
    def answer(reply: Reply, now: float) -> bytes:
        if reply.rc:
            return error_answer(reply)
        gen, ttl, reads = reply.result
        if every_op:
            pending = iter(reads)
            reads = [next(pending, (name, None)) if operator == P.OPERATOR_READ else (name or "", None)
                     for operator, name, _ in ops]
        return ac.encode_message(0, gen, ac.void_time(ttl, now), [tuple(r) for r in reads])
    return answer


def _op_name(op: int) -> str:
    return _OP_NAMES.get(op, f"operation {op}")


# ---- batch reads --------------------------------------------------------------------------------

BATCH_REPEAT, BATCH_INFO, BATCH_GEN, BATCH_TTL, BATCH_INFO4 = 1, 2, 4, 8, 16


class BatchEntry(NamedTuple):
    """One key of a batch: where its answer goes (`index`) and what to read."""

    index: int
    ns: str
    digest: bytes
    bins: tuple[str, ...] | None
    header_only: bool
    refusal: int = 0  # a result code when this entry asks for what minikv does not do


def parse_batch(data: bytes) -> list[BatchEntry]:
    """The batch-index field (41): u32 count, u8 flags, then per key u32 index, digest, and
    either REPEAT (same as the previous key) or its own attributes, fields and operations."""
    if len(data) < 5:
        raise ac.ProtoError(ResultCode.PARAMETER_ERROR, "batch field too short")
    (count,), at, entries = struct.unpack_from(">I", data), 5, []
    previous: BatchEntry | None = None
    for _ in range(count):
        if at + 25 > len(data):
            raise ac.ProtoError(ResultCode.PARAMETER_ERROR, "batch entry overruns the field")
        index, digest, kind = int.from_bytes(data[at:at + 4], "big"), bytes(data[at + 4:at + 24]), data[at + 24]
        at += 25
        if kind == BATCH_REPEAT:
            if previous is None:
                raise ac.ProtoError(ResultCode.PARAMETER_ERROR, "batch REPEAT with nothing to repeat")
            entry = previous._replace(index=index, digest=digest)
        else:
            entry, at = _batch_entry(data, at, kind, index, digest)
        entries.append(entry)
        previous = entry
    return entries


def _batch_entry(data: bytes, at: int, kind: int, index: int, digest: bytes) -> tuple[BatchEntry, int]:
    read_attr = write_attr = 0
    if at + 3 > len(data):
        raise ac.ProtoError(ResultCode.PARAMETER_ERROR, "batch entry overruns the field")
    if kind == 0:  # the pre-6.0 layout: read attributes only
        read_attr, at = data[at], at + 1
    else:  # flags say which attributes follow: info (3 bytes), info4, generation, ttl
        if kind & BATCH_INFO:
            read_attr, write_attr, at = data[at], data[at + 1], at + 3
        at += (1 if kind & BATCH_INFO4 else 0) + (2 if kind & BATCH_GEN else 0) + (4 if kind & BATCH_TTL else 0)
    if at + 4 > len(data):
        raise ac.ProtoError(ResultCode.PARAMETER_ERROR, "batch entry overruns the field")
    n_fields, n_ops = struct.unpack_from(">HH", data, at)
    fields, at = ac.parse_fields(data, at + 4, n_fields)
    ops, at = ac.parse_ops(data, at, n_ops)
    ns = ac.field_str(fields, ac.FIELD_NAMESPACE, "namespace")
    refusal = 0
    if write_attr & ac.INFO2_WRITE or any(op.op != ac.OP_READ or not op.name for op in ops):
        refusal = ResultCode.UNSUPPORTED_FEATURE  # batch writes, removes, UDFs, CDT reads
    if any(kind not in (ac.FIELD_NAMESPACE, ac.FIELD_SET, ac.FIELD_KEY) for kind in fields):
        refusal = ResultCode.UNSUPPORTED_FEATURE  # expressions, transactions
    header_only = bool(read_attr & ac.INFO1_NOBINDATA)
    bins = None if header_only or read_attr & ac.INFO1_GET_ALL or not ops else tuple(op.name for op in ops)
    return BatchEntry(index, ns, digest, bins, header_only, refusal), at


def batch_requests(entries: list[BatchEntry]) -> list[tuple[list[BatchEntry], BatchRead]]:
    """One native BatchRead per distinct (bins, header_only), keys in the client's order."""
    groups: dict[tuple, list[BatchEntry]] = {}
    for entry in entries:
        if not entry.refusal:
            groups.setdefault((entry.bins, entry.header_only), []).append(entry)
    return [(group, BatchRead(tuple((e.ns, e.digest) for e in group), bins=bins, header_only=header_only))
            for (bins, header_only), group in groups.items()]


def batch_record(entry: BatchEntry, row: list, now: float) -> bytes:
    """One key's answer in the batch stream; the transaction-ttl slot carries its index."""
    code, gen, ttl, bins = row
    ops = list((bins or {}).items()) if code == 0 else []
    return ac.encode_message(code, gen, ac.void_time(ttl, now) if code == 0 else 0, ops,
                             transaction_ttl=entry.index)
