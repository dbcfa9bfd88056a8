"""The smart client: the official aerospike Python client's API, talking to minikv nodes.

    client = minikv.client({"hosts": [("127.0.0.1", 3000)]}).connect()
    client.put(("test", "demo", "user:1"), {"name": "Ada"})
    key, meta, bins = client.get(("test", "demo", "user:1"))

"Smart" is Aerospike's word for a client that knows the partition map: it hashes each key to its
digest and partition itself and sends the request straight to the node that masters it, so no
request needs a coordinator hop. The map comes from each node's `replicas` info answer and is
refreshed when a node's `partition-generation` moves (Aerospike's "tend", every second).

Errors follow Aerospike's rules: an error reply is definite; a write whose reply never came is
`in_doubt` (see `minikv.errors`). Reads are retried twice by default, writes never, as in the
official client, because a retried write that was in doubt may apply twice.
"""

from __future__ import annotations

from typing import Any, Callable

from minikv import policies as P
from minikv.config import DEFAULT_CLIENT
from minikv.core import messages as m
from minikv.errors import (
    AerospikeError,
    ClusterError,
    ConnectionError,
    InvalidHostError,
    ParamError,
    RecordNotFound,
    ResultCode,
    TimeoutError,
    error_for,
)
from minikv.keys import N_PARTITIONS, key_digest, partition_id
from minikv.results import BatchRecord, BatchRecords, Scan, meta_of, normalize_ttl
from minikv.cluster_map import ClusterMap
from minikv import txn_client
from minikv.transaction import Transaction
from minikv.runtime.transport import Address, NoConnection, ReplyLost, TcpTransport, Transport



_NO_POLICY: dict = {}  # shared, never written to: requests only read their policies


def client(config: dict) -> Client:
    """A client for the cluster whose seed hosts are `config["hosts"]`; call `.connect()` next."""
    return Client(config)


class Client:
    """Mirrors `aerospike.Client`. Create with `minikv.client(config)`, then `connect()`."""

    def __init__(self, config: dict, transport: Transport | None = None):
        if not isinstance(config, dict) or not config.get("hosts"):
            raise ParamError('config must be a dict with "hosts": [(host, port), ...]')
        self._seeds: list[Address] = [(str(h[0]), int(h[1])) for h in config["hosts"]]
        self._policies: dict = config.get("policies", {})
        self._transport = transport or TcpTransport()
        self._map = ClusterMap(self._seeds, self._transport)
        self._connected = False

    # ---- connection and the partition map ---------------------------------------------------

    def connect(self, username: str | None = None, password: str | None = None) -> Client:
        """Learn the cluster from the seed hosts. Raises InvalidHostError if none answers."""
        self._map.tend(self._seeds)
        if not self._map.nodes:
            hosts = ", ".join(f"{h}:{p}" for h, p in self._seeds)
            raise InvalidHostError(f"no node answered at {hosts}; is the cluster running?")
        self._connected = True
        return self

    def close(self) -> None:
        self._transport.close()
        self._connected = False

    def is_connected(self) -> bool:
        return self._connected

    def get_nodes(self) -> list[Address]:
        return list(self._map.nodes.values())

    def get_node_names(self) -> list[str]:
        return list(self._map.nodes)

    def get_key_partition_id(self, ns: str, set_name: str, key: Any) -> int:
        return partition_id(key_digest((ns, set_name, key)))

    # ---- sending one request, with retries and in-doubt bookkeeping ---------------------------

    def _policy(self, group: str, policy: dict | None) -> dict:
        if policy is None:  # the usual case: the client's defaults as they are, no merged copy
            return self._policies.get(group, _NO_POLICY)
        if not isinstance(policy, dict):
            raise ParamError("a policy is a dict")
        return {**self._policies.get(group, {}), **policy}

    def _timeout(self, policy: dict) -> float:
        total_ms = policy.get("total_timeout", self._policies.get("total_timeout"))
        if total_ms is None:
            return DEFAULT_CLIENT.total_timeout
        return total_ms / 1000 if total_ms > 0 else 3600.0  # 0 means "no limit"

    def _send(self, ns: str, digest: bytes, request: Any, policy: dict, is_write: bool) -> Any:
        """Send to the right node; retry definite failures; report indefinite ones as in_doubt."""
        default_retries = DEFAULT_CLIENT.write_max_retries if is_write else DEFAULT_CLIENT.read_max_retries
        retries = policy.get("max_retries", default_retries)
        deadline = self._transport.now() + self._timeout(policy)
        in_doubt, failure = False, None
        for attempt in range(retries + 1):
            if attempt:
                self._transport.sleep(policy.get("sleep_between_retries", 0) / 1000)
            address = self._map.route(ns, digest, policy.get("replica", P.POLICY_REPLICA_SEQUENCE), attempt, deadline)
            remaining = deadline - self._transport.now()  # one clock reading per try, after routing
            if remaining <= 0:
                break
            try:
                reply = self._transport.call(address, request, remaining)
            except NoConnection as exc:
                failure = ConnectionError(str(exc), in_doubt=in_doubt)
                self._map.stale()  # re-learn the cluster before the next try
                continue
            except ReplyLost as exc:
                in_doubt = in_doubt or is_write
                kind = TimeoutError if exc.timed_out else ConnectionError
                failure = kind(f"{address[0]}:{address[1]}: {exc}", in_doubt=in_doubt)
                continue
            if reply.rc == ResultCode.OK:
                return reply.result
            if reply.rc == ResultCode.TIMEOUT:  # the node gave up waiting (replicas, proxy)
                in_doubt = in_doubt or is_write
            if reply.rc == ResultCode.PARTITION_UNAVAILABLE and attempt < retries:
                self._map.stale()
                failure = error_for(reply.rc, reply.msg, in_doubt=in_doubt)
                continue
            raise error_for(reply.rc, reply.msg, in_doubt=in_doubt)
        raise failure or TimeoutError("total_timeout passed before a try", in_doubt=in_doubt)

    def _key(self, key: Any) -> tuple[str, str, bytes]:
        digest = key_digest(key)
        return key[0], key[1] or "", digest

    def _write(self, key: Any, make: Callable[..., Any], meta: dict | None, policy: dict | None,
               group: str = "write") -> Any:
        """Build and send a write request, filling in ttl, generation, exists and key policy."""
        ns, set_name, digest = self._key(key)
        pol = self._policy(group, policy)
        meta = meta or {}
        if not isinstance(meta, dict):
            raise ParamError("meta must be a dict like {'ttl': 60, 'gen': 3}")
        user_key = key[2] if pol.get("key") == P.POLICY_KEY_SEND else None
        txn = txn_client.joined(pol.get("txn"), ns)  # inside a multi-record transaction?
        request = make(
            ns=ns, set_name=set_name, digest=digest, user_key=user_key,
            ttl=normalize_ttl(meta.get("ttl"), pol.get("ttl", 0)), gen=int(meta.get("gen", 0)),
            gen_policy=pol.get("gen", P.POLICY_GEN_IGNORE), exists=pol.get("exists", P.POLICY_EXISTS_IGNORE),
            commit_level=pol.get("commit_level", P.POLICY_COMMIT_LEVEL_ALL),
            **(txn_client.write_fields(self, txn, digest) if txn else {}),
        )
        if txn:
            return txn_client.write(self, txn, digest, request, pol)
        return self._send(ns, digest, request, pol, is_write=True)

    def _out_key(self, key: tuple, digest: bytes, user_key: Any) -> tuple:
        """The key tuple returned with a record: (ns, set, stored user key or None, digest)."""
        return (key[0], key[1], user_key, bytearray(digest))

    # ---- single-record API --------------------------------------------------------------------

    def put(self, key: tuple, bins: dict, meta: dict | None = None, policy: dict | None = None) -> None:
        """Write bins (merge by default; None deletes a bin). Policies: exists, gen, key, ttl."""
        if not isinstance(bins, dict):
            raise ParamError("bins must be a dict of {bin_name: value}")
        self._write(key, lambda **kw: m.Put(bins=bins, **kw), meta, policy)

    def get(self, key: tuple, policy: dict | None = None) -> tuple:
        """(key, meta, bins) of a record; RecordNotFound if there is none."""
        return self._read(key, None, False, policy)

    def select(self, key: tuple, bins: list[str], policy: dict | None = None) -> tuple:
        """(key, meta, bins) with only the named bins."""
        if not isinstance(bins, (list, tuple)):
            raise ParamError("select takes a list of bin names")
        return self._read(key, tuple(bins), False, policy)

    def exists(self, key: tuple, policy: dict | None = None) -> tuple:
        """(key, meta) — meta is None when the record does not exist (no exception)."""
        try:
            out_key, meta, _ = self._read(key, None, True, policy)
        except RecordNotFound:
            return self._out_key(key, key_digest(key), None), None
        return out_key, meta

    def _read(self, key: tuple, bins: tuple | None, header_only: bool, policy: dict | None) -> tuple:
        ns, set_name, digest = self._key(key)
        pol = self._policy("read", policy)
        txn = txn_client.joined(pol.get("txn"), ns)
        request = m.Get(ns, set_name, digest, bins, header_only, int(pol.get("read_mode_sc", 0)), txn.id if txn else 0)
        result = txn_client.read(self, txn, digest, request, pol) if txn else self._send(ns, digest, request, pol, False)
        gen, ttl, record_bins, user_key = result[:4]
        return self._out_key(key, digest, user_key), meta_of(gen, ttl), record_bins

    def remove(self, key: tuple, meta: dict | None = None, policy: dict | None = None) -> None:
        """Delete a record (RecordNotFound if absent). With policy gen EQ, only at meta's gen."""
        ns, set_name, digest = self._key(key)
        pol = self._policy("remove", policy)
        gen = int((meta or {}).get("gen", 0))
        txn = txn_client.joined(pol.get("txn"), ns)
        request = m.Remove(ns, set_name, digest, gen, pol.get("gen", P.POLICY_GEN_IGNORE),
                           pol.get("commit_level", P.POLICY_COMMIT_LEVEL_ALL),
                           **(txn_client.write_fields(self, txn, digest) if txn else {}))
        if txn:
            txn_client.write(self, txn, digest, request, pol)
        else:
            self._send(ns, digest, request, pol, is_write=True)

    def touch(self, key: tuple, val: int = 0, meta: dict | None = None, policy: dict | None = None) -> None:
        """Reset the record's expiry to `val` seconds and bump its generation."""
        self.operate(key, [{"op": P.OPERATOR_TOUCH, "val": normalize_ttl(val, 0)}], meta, policy)

    def increment(self, key: tuple, bin: str, offset: int | float, meta: dict | None = None,
                  policy: dict | None = None) -> None:
        self.operate(key, [{"op": P.OPERATOR_INCR, "bin": bin, "val": offset}], meta, policy)

    def append(self, key: tuple, bin: str, val: str | bytes, meta: dict | None = None,
               policy: dict | None = None) -> None:
        self.operate(key, [{"op": P.OPERATOR_APPEND, "bin": bin, "val": val}], meta, policy)

    def prepend(self, key: tuple, bin: str, val: str | bytes, meta: dict | None = None,
                policy: dict | None = None) -> None:
        self.operate(key, [{"op": P.OPERATOR_PREPEND, "bin": bin, "val": val}], meta, policy)

    def operate(self, key: tuple, list: list, meta: dict | None = None, policy: dict | None = None) -> tuple:  # noqa: A002
        """Apply operations atomically; returns (key, meta, bins read) — the last read per bin."""
        out_key, record_meta, reads = self.operate_ordered(key, list, meta, policy)
        return out_key, record_meta, dict(reads)

    def operate_ordered(self, key: tuple, list: list, meta: dict | None = None,  # noqa: A002
                        policy: dict | None = None) -> tuple:
        """Like operate, but the reads come back as an ordered list of (bin, value)."""
        ops = tuple(_op_tuple(op) for op in list)
        gen, ttl, reads = self._write(key, lambda **kw: m.Operate(ops=ops, **kw), meta, policy, "operate")
        out_key = self._out_key(key, key_digest(key), None)
        return out_key, (meta_of(gen, ttl) if gen else None), [tuple(r) for r in reads]

    # ---- multi-record transactions (txn_client.py has the protocol) ---------------------------

    def commit(self, transaction: Transaction) -> int:
        """Commit a transaction: COMMIT_OK (or COMMIT_ALREADY_COMMITTED, *_ABANDONED: committed, the
        nodes finish the rest). Raises TransactionFailed if it could not commit: in_doubt False,
        nothing happened; in_doubt True, call commit() again."""
        return txn_client.commit(self, transaction)

    def abort(self, transaction: Transaction) -> int:
        """Roll back every write of a transaction: ABORT_OK (or ABORT_ALREADY_ABORTED, *_ABANDONED:
        the nodes finish rolling back once its deadline passes)."""
        return txn_client.abort(self, transaction)

    # ---- many records -------------------------------------------------------------------------

    def batch_read(self, keys: list, bins: list[str] | None = None, policy: dict | None = None) -> BatchRecords:
        """Read many records; one request per node and chunk. Each BatchRecord has its own result."""
        pol = self._policy("batch", policy)
        wanted = tuple(bins) if bins is not None else None
        records = [BatchRecord(key) for key in keys]
        digests = [self._key(key) for key in keys]
        by_node: dict[Address, list[int]] = {}
        for index, (ns, _, digest) in enumerate(digests):
            by_node.setdefault(self._map.route(ns, digest, P.POLICY_REPLICA_MASTER, 0), []).append(index)
        for address, indexes in by_node.items():
            for start in range(0, len(indexes), DEFAULT_CLIENT.batch_chunk):
                chunk = indexes[start : start + DEFAULT_CLIENT.batch_chunk]
                self._batch_chunk(address, chunk, digests, records, wanted, pol)
        return BatchRecords(records)

    def _batch_chunk(self, address: Address, chunk: list[int], digests: list, records: list,
                     bins: tuple | None, policy: dict) -> None:
        request = m.BatchRead(tuple((digests[i][0], digests[i][2]) for i in chunk), bins)
        try:
            reply = self._transport.call(address, request, self._timeout(policy))
        except (NoConnection, ReplyLost) as exc:
            raise TimeoutError(f"batch to {address[0]}:{address[1]} failed: {exc}") from None
        if reply.rc != ResultCode.OK:
            raise error_for(reply.rc, reply.msg)
        for index, (rc, gen, ttl, record_bins) in zip(chunk, reply.result):
            records[index].fill(rc, (meta_of(gen, ttl), record_bins), digests[index][2])

    def scan(self, namespace: str, set: str | None = None) -> Scan:  # noqa: A002
        """A scan of a namespace (or one set); call `.results()` or `.foreach(callback)`."""
        return Scan(self, namespace, set)

    def _scan_pages(self, ns: str, set_name: str | None, bins: tuple | None, policy: dict | None):
        """Yield (digest, user_key, gen, ttl, bins) rows, partition by partition, from the masters.
        Partitions a node no longer masters come back as "missed" and are asked again."""
        pol, pending = self._policy("scan", policy), list(range(N_PARTITIONS))
        for _ in range(3):
            missed: list[int] = []
            for address, pids in self._pids_by_master(ns, pending).items():
                while pids:
                    request = m.ScanPage(ns, set_name, tuple(pids), DEFAULT_CLIENT.scan_page, bins)
                    result = self._call_node(address, request, pol)
                    yield from result["records"]
                    missed += result.get("missed", [])
                    pids = pids[result["done"] :]
            if not missed:
                return
            self._map.refresh()
            pending = missed
        raise ClusterError(f"{len(pending)} partitions of {ns} have no reachable master")

    def _pids_by_master(self, ns: str, pids: list[int]) -> dict[Address, list[int]]:
        by_node: dict[Address, list[int]] = {}
        for pid in pids:
            digest = bytes([pid & 0xFF, pid >> 8]) + bytes(18)  # any digest of that partition
            by_node.setdefault(self._map.route(ns, digest, P.POLICY_REPLICA_MASTER, 0), []).append(pid)
        return by_node

    # ---- info -----------------------------------------------------------------------------------

    def info_all(self, command: str, policy: dict | None = None) -> dict:
        """{node_id: (error, answer)} for every node, like the official client."""
        answers = {}
        for node_id, address in self._map.nodes.items():
            try:
                answers[node_id] = (None, self._info(address, command, policy))
            except AerospikeError as exc:
                answers[node_id] = (exc, None)
        return answers

    def info_single_node(self, command: str, host: str | tuple, policy: dict | None = None) -> str:
        """The answer of one node, named by node id or (host, port)."""
        address = self._map.nodes.get(host) if isinstance(host, str) else (str(host[0]), int(host[1]))
        if address is None:
            raise ParamError(f"unknown node {host!r}")
        return self._info(address, command, policy)

    def info_random_node(self, command: str, policy: dict | None = None) -> str:
        return self._info(next(iter(self._map.nodes.values())), command, policy)

    def _info(self, address: Address, command: str, policy: dict | None) -> str:
        if not isinstance(command, str):
            raise ParamError("an info command is a str")
        result = self._call_node(address, m.Info((command,)), self._policy("info", policy))
        return result[command]

    def _call_node(self, address: Address, request: Any, policy: dict) -> Any:
        """One request to one named node (info, scans): no routing, no retries."""
        try:
            reply = self._transport.call(address, request, self._timeout(policy))
        except NoConnection as exc:
            raise ConnectionError(str(exc)) from None
        except ReplyLost as exc:
            raise TimeoutError(str(exc)) from None
        if reply.rc != ResultCode.OK:
            raise error_for(reply.rc, reply.msg)
        return reply.result


def _op_tuple(op: Any) -> tuple:
    """An operation dict from `minikv.operations` as the wire tuple (operator, bin, value)."""
    if not isinstance(op, dict) or "op" not in op:
        raise ParamError(f"an operation is a dict from minikv.operations, not {op!r}")
    return (op["op"], op.get("bin"), op.get("val"))
