"""The official `aerospike` Python client (its C core, written by nobody here) against minikv.

Issue 8: "`aerospike.client({"hosts": cluster.aerospike_hosts}).connect()` against a 3-node
LocalCluster: put, get, select, exists, remove, touch, increment, append, operate, generation-
checked put raising RecordGenerationError, TTL in meta, and reads of records written by the
native client (and back). The official client routes to the same masters minikv's own client
does, keeps working after a node is killed and the cluster rebalances, and its
info_all("statistics") returns minikv's figures. Bad frames on this port get an error reply or a
closed connection, never a dead node."

The wheel is a test dependency (requirements.txt). Where it cannot be installed the whole module
is skipped, saying so; here it runs. Real processes: every wait is a condition with a deadline.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator

import pytest

aerospike = pytest.importorskip(
    "aerospike", reason="the official aerospike client wheel is not installed for this Python/platform")
from aerospike import exception as ex  # noqa: E402
from aerospike_helpers.operations import list_operations, operations  # noqa: E402

from conftest import process_state, wait_until  # noqa: E402
from minikv import POLICY_REPLICA_MASTER, LocalCluster, NodeConfig, calc_digest, partition_id  # noqa: E402
from minikv.core.info import parse_info  # noqa: E402
from minikv.runtime import aerospike_codec as ac  # noqa: E402

# the client warns that string append/prepend will move to new helpers with server 8.2; we speak 7.0
pytestmark = pytest.mark.filterwarnings("ignore:.*(append|prepend) is deprecated:DeprecationWarning")

NS, SET = "test", "official"
TEND_MS = 250  # the official client's tend interval (its minimum); the default is 1000 ms
# 10 s instead of the clients' 1 s default: a loaded CI machine is slow, not broken (no assertion
# here is about speed, and a timeout would only turn slowness into a failure)
TIMEOUT_MS = 10_000
# 2 s of silence before a peer is dead (default 0.5 s): on a machine loaded far past its cores a
# starved node looks dead, the view flaps, and an AP read may briefly miss a record (notebook 02's
# lesson). These tests are about the protocol, so they take the patient failure detector.
PATIENT = NodeConfig(heartbeat_timeout_intervals=20)
OFFICIAL_POLICIES = {group: {"total_timeout": TIMEOUT_MS} for group in
                     ("read", "write", "operate", "remove", "batch", "scan", "query", "apply")}
IO_TIMEOUT = 10.0  # seconds a raw socket waits for an answer before the test fails


def official(cluster: LocalCluster) -> aerospike.Client:
    config = {"hosts": cluster.aerospike_hosts, "tend_interval": TEND_MS, "policies": OFFICIAL_POLICIES}
    return aerospike.client(config).connect()


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(nodes=3, config=PATIENT) as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster: LocalCluster) -> Iterator[aerospike.Client]:
    connected = official(cluster)
    yield connected
    connected.close()


# ---- the codec alone -------------------------------------------------------------------------


def test_lists_and_maps_use_aerospike_msgpack():
    """Strings and blobs inside lists and maps are msgpack raw strings led by their particle type."""
    assert ac.pack_collection(["a", b"b", 1]) == b"\x93\xa2\x03a\xa2\x04b\x01"
    assert ac.unpack_collection(b"\x93\xa2\x03a\xa2\x04b\x01") == ["a", b"b", 1]
    # a key-ordered map starts with an ext entry holding its flags: minikv drops it
    assert ac.unpack_collection(b"\x82\xd4\x00\x01\xc0\xa2\x03k\x05") == {"k": 5}


def test_void_time_counts_from_2010():
    """A reply's record ttl is the void time in seconds since 2010-01-01; 0 means never expires."""
    now = ac.CITRUSLEAF_EPOCH + 1000.5
    assert ac.void_time(100, now) == 1100
    assert ac.void_time(0xFFFFFFFF, now) == 0


# ---- single-record commands --------------------------------------------------------------------


def test_connect_discovers_every_node(cluster, client):
    """Seeded with the Aerospike ports, the client learns all three nodes through peers-clear-std."""
    wait_until(lambda: len(client.get_nodes()) == 3, what="the client knows every node")
    assert sorted(node["node_name"] for node in client.get_node_names()) == cluster.node_ids
    assert sorted(node["port"] for node in client.get_node_names()) == sorted(p for _, p in cluster.aerospike_hosts)


def test_put_get_select_exists_remove(client):
    """Every particle type round-trips; select reads some bins, exists only the metadata, remove deletes."""
    key = (NS, SET, "types")
    bins = {"i": -7, "f": 2.5, "s": "héllo", "b": b"\x00\xff", "t": True,
            "l": [1, "two", b"3", 4.5, None, [False]], "m": {"k": {"n": [1]}, 3: "v"}}
    client.put(key, bins)
    _, meta, got = client.get(key)
    assert got == bins and meta["gen"] == 1
    assert client.select(key, ["s", "nope"])[2] == {"s": "héllo"}
    assert client.exists(key)[1]["gen"] == 1
    client.remove(key)
    assert client.exists(key)[1] is None
    with pytest.raises(ex.RecordNotFound):
        client.get(key)


def test_touch_increment_append_prepend_operate(client):
    """Bin operations apply in order with one generation bump per call, as on Aerospike."""
    key = (NS, SET, "ops")
    client.put(key, {"n": 1, "s": "b"})
    client.increment(key, "n", 41)
    client.append(key, "s", "c")
    client.prepend(key, "s", "a")
    client.touch(key, 500)
    _, meta, bins = client.get(key)
    assert bins == {"n": 42, "s": "abc"} and meta["gen"] == 5
    _, meta, bins = client.operate(key, [operations.increment("n", 1), operations.read("n"),
                                         operations.write("w", "x")])
    assert bins == {"n": 43} and meta["gen"] == 6
    _, _, ordered = client.operate_ordered(key, [operations.read("w"), operations.prepend("w", ">"),
                                                 operations.read("w")])
    assert ordered == [("w", "x"), ("w", ">x")]
    client.operate(key, [operations.delete()])
    assert client.exists(key)[1] is None


def test_generation_checked_put(client):
    """A put with POLICY_GEN_EQ at a stale generation raises RecordGenerationError and changes nothing."""
    key = (NS, SET, "cas")
    client.put(key, {"v": 1})
    _, meta, _ = client.get(key)
    client.put(key, {"v": 2}, meta={"gen": meta["gen"]}, policy={"gen": aerospike.POLICY_GEN_EQ})
    with pytest.raises(ex.RecordGenerationError):
        client.put(key, {"v": 3}, meta={"gen": meta["gen"]}, policy={"gen": aerospike.POLICY_GEN_EQ})
    assert client.get(key)[2] == {"v": 2}
    with pytest.raises(ex.RecordExistsError):
        client.put(key, {"v": 4}, policy={"exists": aerospike.POLICY_EXISTS_CREATE})


def test_ttl_in_meta(client):
    """The ttl written in meta comes back in meta (the node sends a void time; the client subtracts)."""
    key = (NS, SET, "ttl")
    client.put(key, {"v": 1}, policy={"ttl": 100})
    assert 90 <= client.get(key)[1]["ttl"] <= 100
    client.touch(key, 1000)
    assert 990 <= client.exists(key)[1]["ttl"] <= 1000
    client.put((NS, SET, "forever"), {"v": 1}, policy={"ttl": aerospike.TTL_NEVER_EXPIRE})
    assert client.get((NS, SET, "forever"))[1]["ttl"] == 0xFFFFFFFF  # the client's "never expires"


def test_native_and_official_clients_share_records(cluster, client):
    """A record written by minikv's client reads the same through the official one, and back."""
    native = cluster.client(policies={"total_timeout": TIMEOUT_MS})
    native.put((NS, SET, 1), {"from": "native", "l": [1, {"a": b"x"}]})
    assert client.get((NS, SET, 1))[2] == {"from": "native", "l": [1, {"a": b"x"}]}
    client.put((NS, SET, 2), {"from": "official", "m": {"k": [2.5, "s"]}}, policy={"ttl": 300})
    _, meta, bins = native.get((NS, SET, 2))
    assert bins == {"from": "official", "m": {"k": [2.5, "s"]}} and 290 <= meta["ttl"] <= 300
    native.close()


# ---- the cluster side ----------------------------------------------------------------------------


def _served(client: aerospike.Client) -> dict[str, int]:
    """{node: messages its Aerospike port has handled}, from each node's statistics."""
    answers = client.info_all("statistics")
    return {node: parse_info(text.strip()).get("aerospike_messages", 0) for node, (_, text) in answers.items()}


def test_routes_to_the_same_masters(cluster, client):
    """For each key the official client sends its get to the node minikv's map names master."""
    native = cluster.client(policies={"total_timeout": TIMEOUT_MS})
    by_address = {address: node for node, address in native._map.nodes.items()}
    table = cluster.partition_table(NS)
    for i in range(12):
        key = (NS, SET, f"route-{i}")
        client.put(key, {"i": i})
        digest = calc_digest(*key)
        master = table[partition_id(digest)][0]
        assert by_address[native._map.route(NS, digest, POLICY_REPLICA_MASTER, 0)] == master
        before = _served(client)
        client.get(key)
        after = _served(client)
        assert {n for n in after if after[n] != before.get(n, 0)} == {master}
    native.close()


def test_info_all_statistics_are_minikvs(cluster, client):
    """info_all answers with each node's own asinfo figures (statistics, namespace/test)."""
    stats = {node: parse_info(text.strip()) for node, (_, text) in client.info_all("statistics").items()}
    assert sorted(stats) == cluster.node_ids
    for node, figures in stats.items():
        assert figures["cluster_size"] == 3 and figures["cluster_members"] == "n3,n2,n1"
        assert (cluster.host, figures["aerospike_port"]) == cluster.aerospike_hosts[cluster.node_ids.index(node)]
        assert figures["aerospike_port"] == cluster.info(node)["aerospike_port"]
    namespace = parse_info(client.info_all("namespace/test")["n1"][1].strip())
    assert namespace["replication-factor"] == 2


def test_batch_read_and_scan(client):
    """batch_read answers each key in order (missing ones with result 2); a scan returns the whole set."""
    keys = [(NS, "scanned", i) for i in range(30)]
    for i, key in enumerate(keys):
        client.put(key, {"i": i, "sq": i * i}, policy={"key": aerospike.POLICY_KEY_SEND})
    batch = client.batch_read(keys[:5] + [(NS, "scanned", "missing")], ["sq"])
    assert [r.result for r in batch.batch_records] == [0] * 5 + [2]
    assert [r.record[2] for r in batch.batch_records[:5]] == [{"sq": i * i} for i in range(5)]
    records = client.scan(NS, "scanned").results()
    assert sorted((r[0][2], r[2]["i"]) for r in records) == [(i, i) for i in range(30)]


def test_unsupported_operations_are_refused(client):
    """A list operation gets UNSUPPORTED_FEATURE (16) and the connection goes on serving."""
    key = (NS, SET, "cdt")
    client.put(key, {"l": [1]})
    with pytest.raises(ex.AerospikeError) as refused:
        client.operate(key, [list_operations.list_append("l", 2)])
    assert refused.value.code == 16
    assert client.get(key)[2] == {"l": [1]}


# ---- bad bytes on the Aerospike port -------------------------------------------------------------


def _put_frame(key: str) -> bytes:
    """A valid put as_msg built with the codec: namespace, set, digest, one write op."""
    fields = [ac.encode_field(ac.FIELD_NAMESPACE, NS.encode()), ac.encode_field(ac.FIELD_SET, b"fuzz"),
              ac.encode_field(ac.FIELD_DIGEST, calc_digest(NS, "fuzz", key))]
    ops = ac.encode_op("v", [1, "x"], ac.OP_WRITE)
    header = ac.MSG_HEADER.pack(22, 0, ac.INFO2_WRITE, 0, 0, 0, 0, 0, 1000, len(fields), 1)
    return header + b"".join(fields) + ops


def _exchange(port: int, data: bytes) -> tuple[int, bytes] | None:
    """Send bytes on a fresh connection; the first frame answered (type, body), or None if closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as sock:
        sock.sendall(data)
        header = _read(sock, 8)
        if header is None:
            return None
        _, kind, size = ac.split_proto_header(header)
        return kind, _read(sock, size) or b""


def _read(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def test_bad_frames_get_an_error_or_a_hang_up(cluster, client):
    """Garbage closes the connection, broken messages get an error code (never a server error),
    an oversized frame gets RecordTooBig, and the node serves on."""
    port = cluster.aerospike_hosts[0][1]
    assert _exchange(port, b"GET / HTTP/1.1\r\n\r\n") is None
    assert _exchange(port, ac.PROTO_HEADER.pack(9 << 56 | 3 << 48 | 4) + b"abcd") is None
    too_big = cluster.config.max_frame_size + 1
    kind, body = _exchange(port, ac.PROTO_HEADER.pack(2 << 56 | 3 << 48 | too_big) + bytes(too_big))
    assert kind == ac.TYPE_MESSAGE and body[5] == 13
    assert _exchange(port, ac.proto(ac.TYPE_INFO, b"\xff\xfenode\n"))[0] == ac.TYPE_INFO
    base, rng, codes = _put_frame("fuzz-base"), random.Random(8), set()
    for _ in range(200):  # a valid put with a few bytes changed, sometimes cut short
        body = bytearray(base)
        for _ in range(rng.randint(1, 3)):
            body[rng.randrange(len(body))] = rng.randrange(256)
        if rng.random() < 0.3:
            body = body[: rng.randint(0, len(body))]
        answer = _exchange(port, ac.proto(ac.TYPE_MESSAGE, bytes(body)))
        if answer is not None:
            kind, reply = answer
            assert kind == ac.TYPE_MESSAGE and len(reply) >= 22 and reply[5] != 1  # never SERVER_ERROR
            codes.add(reply[5])
    assert {0, 4, 16} <= codes  # some still applied, some refused as malformed, some as unsupported
    assert process_state(cluster.pids()[0]) not in (None, "Z")
    client.put((NS, SET, "after-fuzz"), {"ok": True})
    assert client.get((NS, SET, "after-fuzz"))[2] == {"ok": True}


# ---- failover -----------------------------------------------------------------------------------


def test_keeps_working_after_a_node_is_killed():
    """After a node dies and the cluster rebalances, the official client reads every record and
    writes again, through the survivors only."""
    with LocalCluster(nodes=3, config=PATIENT) as local:
        client = official(local)
        keys = [(NS, SET, f"survive-{i}") for i in range(40)]
        for i, key in enumerate(keys):
            client.put(key, {"i": i})
        local.kill("n3")
        local.wait_stable()

        def all_served() -> bool:
            try:
                return all(client.get(key)[2]["i"] == i for i, key in enumerate(keys)) and all(
                    client.put(key, {"again": 1}) == 0 for key in keys)
            except ex.AerospikeError:
                return False

        wait_until(all_served, timeout=30, what="every key readable and writable after the kill")
        wait_until(lambda: sorted(n["node_name"] for n in client.get_node_names()) == ["n1", "n2"],
                   what="the client dropped the dead node")
        assert [client.get(key)[2] for key in keys] == [{"i": i, "again": 1} for i in range(len(keys))]
        client.close()
