"""Record semantics through the public client API, on a one-node SimCluster.

Each test states one behaviour of Aerospike's data model that minikv reproduces: the shape of
what the client returns, generation and the gen/exists policies, TTL and its specials, operate()
atomicity, limits, and which errors are raised (all of them definite: in_doubt False).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import minikv
from minikv import exception as ex
from minikv import operations as ops
from minikv.config import MiB
from minikv.core import messages as m
from minikv.core.records import Record
from minikv.errors import ResultCode

NEVER = minikv.TTL_NEVER_EXPIRE  # what a read reports as the ttl of a never-expiring record
KEY = ("test", "demo", "user:1")


@pytest.fixture
def sim() -> Iterator[minikv.SimCluster]:
    with minikv.SimCluster(nodes=1, seed=11) as cluster:
        yield cluster


@pytest.fixture
def client(sim: minikv.SimCluster) -> minikv.Client:
    return sim.client()


def sim_with(**namespace: object) -> minikv.SimCluster:
    """A one-node SimCluster whose "test" namespace has the given settings."""
    config = minikv.NodeConfig(namespaces=(minikv.NamespaceConfig(**namespace),))
    return minikv.SimCluster(nodes=1, seed=11, config=config)


def raises_definite(exc_type: type, call, *args, **kwargs) -> ex.AerospikeError:
    """Run call(*args, **kwargs), check it raised exc_type with in_doubt False, return the error."""
    with pytest.raises(exc_type) as caught:
        call(*args, **kwargs)
    assert caught.value.in_doubt is False
    return caught.value


# ---- reading and writing -------------------------------------------------------------------------


def test_put_then_get(client: minikv.Client) -> None:
    """get returns (key, meta, bins): key is (ns, set, None, digest), meta {"gen": 1, "ttl": never}."""
    client.put(KEY, {"name": "Ada", "visits": 1})
    key, meta, bins = client.get(KEY)
    assert key == ("test", "demo", None, bytearray(minikv.calc_digest(*KEY)))
    assert isinstance(key[3], bytearray)
    assert meta == {"gen": 1, "ttl": NEVER}
    assert bins == {"name": "Ada", "visits": 1}


def test_get_missing(client: minikv.Client) -> None:
    """get of a key never written raises RecordNotFound (code 2), a definite error."""
    error = raises_definite(ex.RecordNotFound, client.get, KEY)
    assert error.code == ResultCode.KEY_NOT_FOUND_ERROR


def test_value_types_round_trip(client: minikv.Client) -> None:
    """int, float, str, bytes, bool, list and dict bins come back as written (tuples as lists)."""
    bins = {"i": -(2**63), "f": 2.5, "s": "héllo", "b": b"\x00\xff", "t": True,
            "l": [1, "a", [2.0, None]], "m": {"k": 1, 2: [b"x"]}, "tu": (1, 2)}
    client.put(KEY, bins)
    _, _, got = client.get(KEY)
    assert got == {**bins, "tu": [1, 2]}
    assert got["t"] is True


def test_put_merges_bins_by_default(client: minikv.Client) -> None:
    """A second put without an exists policy updates the bins it names and keeps the others."""
    client.put(KEY, {"a": 1, "b": 2})
    client.put(KEY, {"b": 20, "c": 30})
    assert client.get(KEY)[2] == {"a": 1, "b": 20, "c": 30}


def test_select(client: minikv.Client) -> None:
    """select returns only the bins named; names the record lacks are left out."""
    client.put(KEY, {"a": 1, "b": 2, "c": 3})
    _, meta, bins = client.select(KEY, ["a", "c", "zz"])
    assert bins == {"a": 1, "c": 3}
    assert meta["gen"] == 1


def test_exists(client: minikv.Client) -> None:
    """exists returns (key, meta) for a record and (key, None) for a missing one, without raising."""
    missing_key, missing_meta = client.exists(KEY)
    assert missing_meta is None
    assert missing_key[3] == bytearray(minikv.calc_digest(*KEY))
    client.put(KEY, {"a": 1})
    key, meta = client.exists(KEY)
    assert meta == {"gen": 1, "ttl": NEVER}
    assert key[:3] == ("test", "demo", None)


def test_remove(client: minikv.Client) -> None:
    """remove deletes the record; removing it again raises RecordNotFound."""
    client.put(KEY, {"a": 1})
    client.remove(KEY)
    assert client.exists(KEY)[1] is None
    raises_definite(ex.RecordNotFound, client.remove, KEY)


def test_none_deletes_a_bin(client: minikv.Client) -> None:
    """Writing None to a bin deletes that bin and keeps the others."""
    client.put(KEY, {"a": 1, "b": 2})
    client.put(KEY, {"a": None})
    _, meta, bins = client.get(KEY)
    assert bins == {"b": 2}
    assert meta["gen"] == 2


def test_deleting_last_bin_deletes_record(client: minikv.Client) -> None:
    """Deleting the last bin of a record deletes the record itself."""
    client.put(KEY, {"a": 1, "b": 2})
    client.put(KEY, {"a": None, "b": None})
    raises_definite(ex.RecordNotFound, client.get, KEY)


def test_empty_put_refused(client: minikv.Client) -> None:
    """A put with no bins at all is an InvalidRequest."""
    raises_definite(ex.InvalidRequest, client.put, KEY, {})


def test_digest_key_tuple(client: minikv.Client) -> None:
    """A key (ns, set, None, digest) addresses the same record as the user key it was hashed from."""
    client.put(KEY, {"a": 1})
    digest_key = ("test", "demo", None, minikv.calc_digest(*KEY))
    assert client.get(digest_key)[2] == {"a": 1}
    client.put(digest_key, {"b": 2})
    assert client.get(KEY)[2] == {"a": 1, "b": 2}


def test_get_key_partition_id(client: minikv.Client) -> None:
    """get_key_partition_id gives Aerospike's partition for a key."""
    assert client.get_key_partition_id("test", "set", "s") == 3168


# ---- single-bin helpers ---------------------------------------------------------------------------


def test_increment(client: minikv.Client) -> None:
    """increment adds to a bin, creating the record and the bin (from 0) if needed."""
    client.increment(KEY, "n", 2)
    client.increment(KEY, "n", 3)
    client.increment(KEY, "f", 0.5)
    _, meta, bins = client.get(KEY)
    assert bins == {"n": 5, "f": 0.5}
    assert meta["gen"] == 3


def test_increment_wrong_type(client: minikv.Client) -> None:
    """Incrementing a str bin is BinIncompatibleType (code 12) and leaves the record unchanged."""
    client.put(KEY, {"s": "text"})
    error = raises_definite(ex.BinIncompatibleType, client.increment, KEY, "s", 1)
    assert error.code == 12
    assert client.get(KEY)[1:] == ({"gen": 1, "ttl": NEVER}, {"s": "text"})


def test_append_prepend(client: minikv.Client) -> None:
    """append and prepend join strings at either end; each is one write."""
    client.put(KEY, {"s": "b"})
    client.append(KEY, "s", "c")
    client.prepend(KEY, "s", "a")
    _, meta, bins = client.get(KEY)
    assert bins == {"s": "abc"}
    assert meta["gen"] == 3


def test_append_to_int_bin(client: minikv.Client) -> None:
    """Appending to an int bin is BinIncompatibleType."""
    client.put(KEY, {"n": 1})
    raises_definite(ex.BinIncompatibleType, client.append, KEY, "n", "x")


def test_touch(sim: minikv.SimCluster, client: minikv.Client) -> None:
    """touch bumps the generation and resets the expiry, leaving the bins alone."""
    client.put(KEY, {"a": 1}, meta={"ttl": 10})
    sim.run_for(6)
    client.touch(KEY, 100)
    _, meta, bins = client.get(KEY)
    assert meta == {"gen": 2, "ttl": 100}
    assert bins == {"a": 1}


def test_touch_missing(client: minikv.Client) -> None:
    """touch of a missing record raises RecordNotFound."""
    raises_definite(ex.RecordNotFound, client.touch, KEY, 10)


# ---- operate ---------------------------------------------------------------------------------------


def test_operate_one_generation_bump(client: minikv.Client) -> None:
    """operate applies all its operations with one generation bump and returns the last read per bin."""
    client.put(KEY, {"n": 1, "s": "a"})
    key, meta, bins = client.operate(
        KEY, [ops.increment("n", 1), ops.read("n"), ops.append("s", "b"), ops.increment("n", 10),
              ops.read("n"), ops.read("s")]
    )
    assert bins == {"n": 12, "s": "ab"}
    assert meta["gen"] == 2
    assert key[3] == bytearray(minikv.calc_digest(*KEY))
    assert client.get(KEY)[2] == {"n": 12, "s": "ab"}


def test_operate_ordered(client: minikv.Client) -> None:
    """operate_ordered returns every read, in order, as (bin, value) pairs."""
    client.put(KEY, {"n": 1})
    _, meta, reads = client.operate_ordered(
        KEY, [ops.read("n"), ops.increment("n", 4), ops.read("n"), ops.write("t", "x"), ops.read("t")]
    )
    assert reads == [("n", 1), ("n", 5), ("t", "x")]
    assert meta["gen"] == 2


def test_operate_read_only_keeps_generation(client: minikv.Client) -> None:
    """An operate with only reads changes nothing and keeps the generation."""
    client.put(KEY, {"n": 1})
    _, meta, bins = client.operate(KEY, [ops.read("n")])
    assert bins == {"n": 1} and meta["gen"] == 1
    assert client.get(KEY)[1]["gen"] == 1


def test_operate_read_missing_record(client: minikv.Client) -> None:
    """An operate that only reads a missing record raises RecordNotFound."""
    raises_definite(ex.RecordNotFound, client.operate, KEY, [ops.read("n")])


def test_operate_is_atomic(client: minikv.Client) -> None:
    """A failing operation anywhere in the list leaves the record and its generation unchanged."""
    client.put(KEY, {"n": 1, "s": "x"})
    failing = [ops.increment("n", 5), ops.write("new", 1), ops.append("n", "oops"), ops.write("s", "y")]
    raises_definite(ex.BinIncompatibleType, client.operate, KEY, failing)
    assert client.get(KEY)[1:] == ({"gen": 1, "ttl": NEVER}, {"n": 1, "s": "x"})


def test_operate_atomic_on_missing_record(client: minikv.Client) -> None:
    """A failing operate on a missing record does not create it."""
    raises_definite(ex.BinNameError, client.operate, KEY, [ops.write("a", 1), ops.write("b" * 16, 2)])
    assert client.exists(KEY)[1] is None


def test_operate_delete(client: minikv.Client) -> None:
    """ops.delete() removes the record; the reads before it still come back, meta is None."""
    client.put(KEY, {"n": 7})
    _, meta, bins = client.operate(KEY, [ops.read("n"), ops.delete()])
    assert bins == {"n": 7} and meta is None
    assert client.exists(KEY)[1] is None


def test_operate_delete_then_write(client: minikv.Client) -> None:
    """A delete followed by a write leaves a record with only the new bins (as Aerospike does)."""
    client.put(KEY, {"a": 1, "b": 2})
    client.operate(KEY, [ops.delete(), ops.write("c", 3)])
    assert client.get(KEY)[2] == {"c": 3}


def test_operate_touch_op(client: minikv.Client) -> None:
    """ops.touch(ttl) in an operate resets the expiry and bumps the generation."""
    client.put(KEY, {"a": 1})
    _, meta, _ = client.operate(KEY, [ops.touch(30)])
    assert meta == {"gen": 2, "ttl": 30}


def test_operate_unknown_operator(client: minikv.Client) -> None:
    """An operator minikv does not implement is refused with UnsupportedFeature (code 16)."""
    client.put(KEY, {"a": 1})
    raises_definite(ex.UnsupportedFeature, client.operate, KEY, [{"op": 99, "bin": "a"}])


def test_operate_empty_list(client: minikv.Client) -> None:
    """An operate with no operations is an InvalidRequest."""
    raises_definite(ex.InvalidRequest, client.operate, KEY, [])


# ---- generation -------------------------------------------------------------------------------------


def test_generation_counts_writes(client: minikv.Client) -> None:
    """A record starts at generation 1 and every write adds one, whatever kind of write."""
    client.put(KEY, {"n": 1, "s": "a"})
    client.put(KEY, {"n": 2})
    client.increment(KEY, "n", 1)
    client.append(KEY, "s", "b")
    client.touch(KEY, 60)
    client.operate(KEY, [ops.write("x", 1), ops.write("y", 2)])
    assert client.get(KEY)[1]["gen"] == 6


def test_reads_do_not_bump_generation(client: minikv.Client) -> None:
    """get, select, exists and batch_read leave the generation alone."""
    client.put(KEY, {"n": 1})
    client.get(KEY)
    client.select(KEY, ["n"])
    client.exists(KEY)
    client.batch_read([KEY])
    assert client.get(KEY)[1]["gen"] == 1


def test_generation_restarts_after_remove(client: minikv.Client) -> None:
    """A record written again after remove starts over at generation 1."""
    client.put(KEY, {"n": 1})
    client.put(KEY, {"n": 2})
    client.remove(KEY)
    client.put(KEY, {"n": 3})
    assert client.get(KEY)[1]["gen"] == 1


def test_gen_eq_applies_at_matching_generation(client: minikv.Client) -> None:
    """With POLICY_GEN_EQ a write at the record's current generation applies."""
    client.put(KEY, {"n": 1})
    client.put(KEY, {"n": 2}, meta={"gen": 1}, policy={"gen": minikv.POLICY_GEN_EQ})
    assert client.get(KEY)[1:] == ({"gen": 2, "ttl": NEVER}, {"n": 2})


def test_gen_eq_refuses_stale_generation(client: minikv.Client) -> None:
    """With POLICY_GEN_EQ a write at an old generation is RecordGenerationError and changes nothing."""
    client.put(KEY, {"n": 1})
    client.put(KEY, {"n": 2})
    error = raises_definite(ex.RecordGenerationError, client.put, KEY, {"n": 99},
                            meta={"gen": 1}, policy={"gen": minikv.POLICY_GEN_EQ})
    assert error.code == 3
    assert client.get(KEY)[1:] == ({"gen": 2, "ttl": NEVER}, {"n": 2})


def test_gen_eq_on_operate_and_remove(client: minikv.Client) -> None:
    """The generation check guards operate and remove too."""
    client.put(KEY, {"n": 1})
    gen_eq = {"gen": minikv.POLICY_GEN_EQ}
    raises_definite(ex.RecordGenerationError, client.increment, KEY, "n", 1, meta={"gen": 5}, policy=gen_eq)
    raises_definite(ex.RecordGenerationError, client.remove, KEY, meta={"gen": 5}, policy=gen_eq)
    client.increment(KEY, "n", 1, meta={"gen": 1}, policy=gen_eq)
    client.remove(KEY, meta={"gen": 2}, policy=gen_eq)
    assert client.exists(KEY)[1] is None


@pytest.mark.parametrize(("sent", "applies"), [(3, True), (10, True), (2, False), (1, False)])
def test_gen_gt(client: minikv.Client, sent: int, applies: bool) -> None:
    """With POLICY_GEN_GT a write applies only when the sent generation exceeds the record's (2)."""
    client.put(KEY, {"n": 1})
    client.put(KEY, {"n": 2})
    meta, policy = {"gen": sent}, {"gen": minikv.POLICY_GEN_GT}
    if applies:
        client.put(KEY, {"n": 3}, meta=meta, policy=policy)
        assert client.get(KEY)[1:] == ({"gen": 3, "ttl": NEVER}, {"n": 3})
    else:
        raises_definite(ex.RecordGenerationError, client.put, KEY, {"n": 3}, meta=meta, policy=policy)
        assert client.get(KEY)[2] == {"n": 2}


def test_gen_check_on_missing_record_creates(client: minikv.Client) -> None:
    """A missing record has no generation to compare, so a GEN_EQ write to it creates it."""
    client.put(KEY, {"n": 1}, meta={"gen": 7}, policy={"gen": minikv.POLICY_GEN_EQ})
    assert client.get(KEY)[1]["gen"] == 1


def test_generation_wraps_to_one(sim: minikv.SimCluster, client: minikv.Client) -> None:
    """After generation 65535 the next write gives generation 1 (0 is never a record's generation)."""
    digest = minikv.calc_digest(*KEY)
    stored = Record(gen=65535, void_time=0.0, lut=sim.now, bins={"n": 1}, set_name="demo")
    sim.node("n1").stores["test"].put(digest, stored.pack())  # as if written 65535 times
    assert client.get(KEY)[1]["gen"] == 65535
    client.increment(KEY, "n", 1, meta={"gen": 65535}, policy={"gen": minikv.POLICY_GEN_EQ})
    _, meta, bins = client.get(KEY)
    assert meta["gen"] == 1 and bins == {"n": 2}
    client.put(KEY, {"n": 3})
    assert client.get(KEY)[1]["gen"] == 2


# ---- exists policies --------------------------------------------------------------------------------


def test_exists_create(client: minikv.Client) -> None:
    """POLICY_EXISTS_CREATE creates a missing record and refuses an existing one with RecordExistsError."""
    create = {"exists": minikv.POLICY_EXISTS_CREATE}
    client.put(KEY, {"a": 1}, policy=create)
    error = raises_definite(ex.RecordExistsError, client.put, KEY, {"a": 2}, policy=create)
    assert error.code == 5
    assert client.get(KEY)[2] == {"a": 1}


@pytest.mark.parametrize("policy", [minikv.POLICY_EXISTS_UPDATE, minikv.POLICY_EXISTS_REPLACE])
def test_update_and_replace_need_the_record(client: minikv.Client, policy: int) -> None:
    """POLICY_EXISTS_UPDATE and REPLACE on a missing record raise RecordNotFound and create nothing."""
    raises_definite(ex.RecordNotFound, client.put, KEY, {"a": 1}, policy={"exists": policy})
    assert client.exists(KEY)[1] is None


def test_exists_update_merges(client: minikv.Client) -> None:
    """POLICY_EXISTS_UPDATE on an existing record merges the bins, like the default."""
    client.put(KEY, {"a": 1, "b": 2})
    client.put(KEY, {"b": 3}, policy={"exists": minikv.POLICY_EXISTS_UPDATE})
    assert client.get(KEY)[2] == {"a": 1, "b": 3}


def test_exists_replace_drops_unwritten_bins(client: minikv.Client) -> None:
    """POLICY_EXISTS_REPLACE keeps only the bins of this write, and bumps the generation."""
    client.put(KEY, {"a": 1, "b": 2})
    client.put(KEY, {"c": 3}, policy={"exists": minikv.POLICY_EXISTS_REPLACE})
    _, meta, bins = client.get(KEY)
    assert bins == {"c": 3} and meta["gen"] == 2


def test_create_or_replace(client: minikv.Client) -> None:
    """POLICY_EXISTS_CREATE_OR_REPLACE creates a missing record and replaces an existing one."""
    policy = {"exists": minikv.POLICY_EXISTS_CREATE_OR_REPLACE}
    client.put(KEY, {"a": 1, "b": 2}, policy=policy)
    client.put(KEY, {"c": 3}, policy=policy)
    _, meta, bins = client.get(KEY)
    assert bins == {"c": 3} and meta["gen"] == 2


def test_exists_ignore_is_default(client: minikv.Client) -> None:
    """POLICY_EXISTS_IGNORE creates or merges, exactly as no policy does."""
    ignore = {"exists": minikv.POLICY_EXISTS_IGNORE}
    client.put(KEY, {"a": 1}, policy=ignore)
    client.put(KEY, {"b": 2}, policy=ignore)
    assert client.get(KEY)[2] == {"a": 1, "b": 2}


def test_unknown_policy_value(client: minikv.Client) -> None:
    """An exists or gen policy value outside Aerospike's set is an InvalidRequest."""
    raises_definite(ex.InvalidRequest, client.put, KEY, {"a": 1}, policy={"exists": 9})
    raises_definite(ex.InvalidRequest, client.put, KEY, {"a": 1}, policy={"gen": 9})


# ---- TTL --------------------------------------------------------------------------------------------


def test_ttl_counts_down(sim: minikv.SimCluster, client: minikv.Client) -> None:
    """meta ttl is the ttl written, then the seconds left as virtual time passes."""
    client.put(KEY, {"a": 1}, meta={"ttl": 60})
    assert client.get(KEY)[1]["ttl"] == 60
    sim.run_for(20)
    assert client.get(KEY)[1]["ttl"] == 40


def test_expired_invisible_at_once(sim: minikv.SimCluster, client: minikv.Client) -> None:
    """Once its ttl has passed a record is gone for get, exists, select and writes that need it."""
    client.put(KEY, {"a": 1}, meta={"ttl": 5})
    sim.run_for(4.9)
    assert client.get(KEY)[2] == {"a": 1}
    sim.run_for(0.1)
    raises_definite(ex.RecordNotFound, client.get, KEY)
    assert client.exists(KEY)[1] is None
    raises_definite(ex.RecordNotFound, client.select, KEY, ["a"])
    raises_definite(ex.RecordNotFound, client.touch, KEY, 60)
    raises_definite(ex.RecordNotFound, client.put, KEY, {"a": 2}, policy={"exists": minikv.POLICY_EXISTS_UPDATE})


def test_write_after_expiry_is_a_new_record(sim: minikv.SimCluster, client: minikv.Client) -> None:
    """Writing to an expired key creates a fresh record: generation 1, none of the old bins."""
    client.put(KEY, {"a": 1}, meta={"ttl": 5})
    client.put(KEY, {"b": 1}, meta={"ttl": -2})
    sim.run_for(5)
    client.put(KEY, {"c": 1}, policy={"exists": minikv.POLICY_EXISTS_CREATE})
    assert client.get(KEY)[1:] == ({"gen": 1, "ttl": NEVER}, {"c": 1})


def test_expired_records_purged_in_background(sim: minikv.SimCluster, client: minikv.Client) -> None:
    """nsup removes expired records within a period: `objects` drops and an Nsup event is logged."""
    client.put(KEY, {"a": 1}, meta={"ttl": 2})
    client.put(("test", "demo", "stays"), {"a": 1})
    expires_at = sim.now + 2
    assert sim.info("n1")["objects"] == 2
    sim.run_for(2 + sim.node("n1").config.nsup_period + 0.1)
    assert sim.info("n1")["objects"] == 1
    assert sim.info("n1")["expired_objects"] == 1
    purges = [e for e in sim.events() if e.role == "Nsup"]
    assert len(purges) == 1
    assert purges[0].text == "purged 1 expired records from namespace test"
    assert purges[0].t >= expires_at


def test_ttl_never_expire() -> None:
    """ttl -1 never expires, even in a namespace with a default ttl; reads report 0xFFFFFFFF."""
    with sim_with(default_ttl=10) as short:
        c = short.client()
        c.put(KEY, {"a": 1}, meta={"ttl": -1})
        c.put(("test", "demo", "unsigned"), {"a": 1}, meta={"ttl": minikv.TTL_NEVER_EXPIRE})
        short.run_for(60)
        assert c.get(KEY)[1]["ttl"] == 0xFFFFFFFF
        assert c.get(("test", "demo", "unsigned"))[1]["ttl"] == 0xFFFFFFFF


def test_ttl_dont_update_keeps_expiry(sim: minikv.SimCluster, client: minikv.Client) -> None:
    """ttl -2 writes the bins but keeps the record's current expiry."""
    client.put(KEY, {"a": 1}, meta={"ttl": 100})
    sim.run_for(40)
    client.put(KEY, {"b": 2}, meta={"ttl": -2})
    client.increment(KEY, "n", 1, meta={"ttl": minikv.TTL_DONT_UPDATE})
    _, meta, bins = client.get(KEY)
    assert meta == {"gen": 3, "ttl": 60}
    assert bins == {"a": 1, "b": 2, "n": 1}


def test_ttl_dont_update_on_new_record_uses_default() -> None:
    """ttl -2 on a record that does not exist gives it the namespace default."""
    with sim_with(default_ttl=300) as cluster:
        c = cluster.client()
        c.put(KEY, {"a": 1}, meta={"ttl": -2})
        assert c.get(KEY)[1]["ttl"] == 300


def test_write_without_ttl_resets_to_default(sim: minikv.SimCluster, client: minikv.Client) -> None:
    """A write that gives no ttl resets the expiry to the namespace default (never, by default)."""
    client.put(KEY, {"a": 1}, meta={"ttl": 30})
    client.put(KEY, {"b": 2})
    assert client.get(KEY)[1]["ttl"] == NEVER
    client.put(KEY, {"a": 1}, meta={"ttl": 30})
    client.increment(KEY, "n", 1)
    assert client.get(KEY)[1]["ttl"] == NEVER


def test_namespace_default_ttl() -> None:
    """With a namespace default-ttl, ttl 0 or no ttl means that default, and every write resets it."""
    with sim_with(default_ttl=300) as cluster:
        c = cluster.client()
        c.put(KEY, {"a": 1})
        assert c.get(KEY)[1]["ttl"] == 300
        c.put(KEY, {"a": 2}, meta={"ttl": 10})
        assert c.get(KEY)[1]["ttl"] == 10
        cluster.run_for(5)
        c.put(KEY, {"a": 3}, meta={"ttl": 0})
        assert c.get(KEY)[1]["ttl"] == 300
        assert cluster.info("n1", "namespace/test")["default-ttl"] == 300


def test_ttl_over_ten_years(client: minikv.Client) -> None:
    """A ttl over 10 years is refused by the node (InvalidRequest); 10 years exactly is fine."""
    ten_years = 10 * 365 * 24 * 3600
    client.put(KEY, {"a": 1}, meta={"ttl": ten_years})
    raises_definite(ex.InvalidRequest, client.put, KEY, {"a": 1}, meta={"ttl": ten_years + 1})
    assert client.get(KEY)[1]["ttl"] == ten_years


@pytest.mark.parametrize("ttl", [2**32, -4, "60", 1.5])
def test_bad_ttl_is_param_error(client: minikv.Client, ttl: object) -> None:
    """A ttl that is not a 32-bit int (or -1/-2/-3) is refused by the client with ParamError."""
    raises_definite(ex.ParamError, client.put, KEY, {"a": 1}, meta={"ttl": ttl})


# ---- limits and bad values -----------------------------------------------------------------------


def test_record_too_big(client: minikv.Client) -> None:
    """A record over the default 1 MiB max-record-size is RecordTooBig (13); just under it fits."""
    client.put(KEY, {"blob": b"x" * (MiB - 100)})
    error = raises_definite(ex.RecordTooBig, client.put, KEY, {"blob": b"x" * MiB})
    assert error.code == 13
    assert len(client.get(KEY)[2]["blob"]) == MiB - 100


def test_smaller_max_record_size() -> None:
    """A namespace's max_record_size applies to puts and to appends that grow a record past it."""
    with sim_with(max_record_size=1000) as cluster:
        c = cluster.client()
        c.put(KEY, {"s": "x" * 900})
        raises_definite(ex.RecordTooBig, c.put, ("test", "demo", "big"), {"s": "x" * 1000})
        raises_definite(ex.RecordTooBig, c.append, KEY, "s", "y" * 200)
        _, meta, bins = c.get(KEY)
        assert meta["gen"] == 1 and len(bins["s"]) == 900
        assert cluster.info("n1")["fail_record_too_big"] == 2


def test_bin_name_too_long(client: minikv.Client) -> None:
    """A bin name over 15 bytes is BinNameError (21); 15 bytes is fine."""
    client.put(KEY, {"b" * 15: 1})
    error = raises_definite(ex.BinNameError, client.put, KEY, {"b" * 16: 1})
    assert error.code == 21
    raises_definite(ex.BinNameError, client.increment, KEY, "é" * 8, 1)  # 16 bytes in UTF-8


@pytest.mark.parametrize("value", [{1, 2}, object(), 1 + 2j, 2**64])
def test_unencodable_value_is_param_error(sim: minikv.SimCluster, client: minikv.Client, value: object) -> None:
    """A value the wire cannot carry (set, object, complex, int over 64 bits) is a client-side ParamError:
    nothing is sent, so it is definite and the node sees no write."""
    raises_definite(ex.ParamError, client.put, KEY, {"a": value})
    stats = sim.info("n1")
    assert "client_write_error" not in stats and "client_write_success" not in stats


def test_int_past_64_bits_refused_by_node(client: minikv.Client) -> None:
    """An int that msgpack carries but Aerospike cannot store (2**63) is an InvalidRequest from the node."""
    raises_definite(ex.InvalidRequest, client.put, KEY, {"a": 2**63})
    client.put(KEY, {"a": 2**63 - 1})


def test_non_str_bin_name_refused(client: minikv.Client) -> None:
    """A bin name that is not a str is an InvalidRequest."""
    raises_definite(ex.InvalidRequest, client.put, KEY, {1: "a"})


def test_unknown_namespace(client: minikv.Client) -> None:
    """Every single-record call on a namespace the node lacks raises NamespaceNotFound (20)."""
    key = ("nope", "demo", 1)
    error = raises_definite(ex.NamespaceNotFound, client.put, key, {"a": 1})
    assert error.code == 20
    for call, args in [(client.get, ()), (client.exists, ()), (client.remove, ()),
                       (client.increment, ("n", 1)), (client.select, (["a"],))]:
        raises_definite(ex.NamespaceNotFound, call, key, *args)


@pytest.mark.parametrize(
    "bad_key",
    ["test/demo/1", ["test", "demo", 1], ("test", "demo"), ("test", "demo", True), ("test", "demo", None),
     ("test", "demo", [1]), ("", "demo", 1), ("test", "demo", None, b"short")],
)
def test_bad_key_is_param_error(client: minikv.Client, bad_key: object) -> None:
    """Keys that are not (ns, set, str|int|float|bytes) tuples, bool keys included, are ParamError."""
    raises_definite(ex.ParamError, client.put, bad_key, {"a": 1})
    raises_definite(ex.ParamError, client.get, bad_key)


def test_bad_arguments_are_param_errors(client: minikv.Client) -> None:
    """bins, meta, select lists and operations of the wrong shape are ParamError, before sending."""
    raises_definite(ex.ParamError, client.put, KEY, [("a", 1)])
    raises_definite(ex.ParamError, client.put, KEY, {"a": 1}, meta=[60])
    raises_definite(ex.ParamError, client.select, KEY, "a")
    raises_definite(ex.ParamError, client.operate, KEY, [("incr", "n", 1)])


# ---- the user key: POLICY_KEY_SEND -------------------------------------------------------------------


def test_key_digest_policy_stores_no_key(client: minikv.Client) -> None:
    """By default only the digest is stored: reads return None as the user key."""
    client.put(KEY, {"a": 1})
    assert client.get(KEY)[0][2] is None


def test_key_send_stores_user_key(client: minikv.Client) -> None:
    """With POLICY_KEY_SEND the node stores the user key and returns it in the key tuple of reads."""
    client.put(KEY, {"a": 1}, policy={"key": minikv.POLICY_KEY_SEND})
    key, _, _ = client.get(KEY)
    assert key[:3] == KEY
    assert client.exists(("test", "demo", None, minikv.calc_digest(*KEY)))[0][2] == "user:1"
    client.put(KEY, {"b": 2})  # a later write without the key keeps it
    assert client.get(KEY)[0][2] == "user:1"
    assert [rec[0][2] for rec in client.scan("test", "demo").results()] == ["user:1"]


def test_key_mismatch(sim: minikv.SimCluster, client: minikv.Client) -> None:
    """A write whose user key differs from the stored one under the same digest is RecordKeyMismatch (19).
    The client always hashes the key it sends, so this is driven at the node: a digest collision
    or a buggy client is the only way to get there."""
    client.put(KEY, {"a": 1}, policy={"key": minikv.POLICY_KEY_SEND})
    digest = minikv.calc_digest(*KEY)
    node = sim.node("n1")
    (effect,) = node.receive("origin", m.Put("test", "demo", digest, {"a": 2}, user_key="someone else"), sim.now)
    assert effect.reply.rc == ResultCode.KEY_MISMATCH
    (effect,) = node.receive("origin", m.Put("test", "demo", digest, {"a": 3}, user_key="user:1"), sim.now)
    assert effect.reply.rc == ResultCode.OK
    assert client.get(KEY)[2] == {"a": 3}


def test_key_mismatch_maps_to_exception() -> None:
    """The KEY_MISMATCH result code becomes RecordKeyMismatch on the client side."""
    from minikv.errors import error_for

    assert isinstance(error_for(ResultCode.KEY_MISMATCH), ex.RecordKeyMismatch)


# ---- batch_read ---------------------------------------------------------------------------------------


def test_batch_read(client: minikv.Client) -> None:
    """batch_read returns a BatchRecord per key, in order, with a result code each:
    0 with (key, meta, bins), 2 for a missing key, 20 for an unknown namespace."""
    client.put(("test", "demo", 1), {"n": 1})
    client.put(("test", "demo", 2), {"n": 2, "m": 20})
    keys = [("test", "demo", 2), ("test", "demo", 404), ("nope", "demo", 1), ("test", "demo", 1)]
    batch = client.batch_read(keys)
    assert isinstance(batch, minikv.BatchRecords) and batch.result == 0
    records = batch.batch_records
    assert [r.key for r in records] == keys
    assert [r.result for r in records] == [0, ResultCode.KEY_NOT_FOUND_ERROR, ResultCode.NAMESPACE_NOT_FOUND, 0]
    assert records[0].record == (("test", "demo", None, bytearray(minikv.calc_digest("test", "demo", 2))),
                                 {"gen": 1, "ttl": NEVER}, {"n": 2, "m": 20})
    assert records[1].record is None and records[2].record is None
    assert records[3].record[2] == {"n": 1}


def test_batch_read_selected_bins(client: minikv.Client) -> None:
    """batch_read with bins returns only those bins of each record."""
    client.put(("test", "demo", 1), {"n": 1, "m": 2})
    (record,) = client.batch_read([("test", "demo", 1)], ["m"]).batch_records
    assert record.record[2] == {"m": 2}


def test_batch_read_skips_expired(sim: minikv.SimCluster, client: minikv.Client) -> None:
    """An expired record reads as not found in a batch, at once."""
    client.put(("test", "demo", 1), {"n": 1}, meta={"ttl": 1})
    sim.run_for(1)
    (record,) = client.batch_read([("test", "demo", 1)]).batch_records
    assert record.result == ResultCode.KEY_NOT_FOUND_ERROR


# ---- scan ---------------------------------------------------------------------------------------------


@pytest.fixture
def filled(client: minikv.Client) -> minikv.Client:
    """Twelve records in set "a" (bins n, sq) and five in set "b"."""
    for i in range(12):
        client.put(("test", "a", i), {"n": i, "sq": i * i})
    for i in range(5):
        client.put(("test", "b", i), {"n": 100 + i})
    return client


def test_scan_results(filled: minikv.Client) -> None:
    """scan(ns).results() returns every record of the namespace as (key, meta, bins)."""
    records = filled.scan("test").results()
    assert len(records) == 17
    assert sorted(bins["n"] for _, _, bins in records) == list(range(12)) + list(range(100, 105))
    key, meta, _ = records[0]
    assert key[0] == "test" and isinstance(key[3], bytearray) and meta["gen"] == 1


def test_scan_set_filter(filled: minikv.Client) -> None:
    """scan(ns, set) returns only the records of that set."""
    records = filled.scan("test", "b").results()
    assert sorted(bins["n"] for _, _, bins in records) == list(range(100, 105))
    assert {key[1] for key, _, _ in records} == {"b"}


def test_scan_select(filled: minikv.Client) -> None:
    """scan.select(bin) returns only the chosen bins."""
    scan = filled.scan("test", "a")
    scan.select("sq")
    assert sorted(bins["sq"] for _, _, bins in scan.results()) == [i * i for i in range(12)]
    assert all(set(bins) == {"sq"} for _, _, bins in scan.results())


def test_scan_foreach_stops_on_false(filled: minikv.Client) -> None:
    """foreach calls back once per record and stops as soon as the callback returns False."""
    seen: list[tuple] = []

    def callback(record: tuple) -> bool:
        seen.append(record)
        return len(seen) < 3

    filled.scan("test").foreach(callback)
    assert len(seen) == 3
    every: list[tuple] = []
    filled.scan("test").foreach(every.append)  # None is not False: it goes on to the end
    assert len(every) == 17


def test_scan_skips_expired(sim: minikv.SimCluster, filled: minikv.Client) -> None:
    """Expired records are left out of a scan at once, before nsup purges them."""
    filled.put(("test", "b", "short"), {"n": -1}, meta={"ttl": 1})
    assert len(filled.scan("test", "b").results()) == 6
    sim.run_for(1)
    assert len(filled.scan("test", "b").results()) == 5


def test_scan_empty_and_unknown_namespace(client: minikv.Client) -> None:
    """Scanning an empty namespace returns []; an unknown namespace raises NamespaceNotFound."""
    assert client.scan("test").results() == []
    raises_definite(ex.NamespaceNotFound, client.scan("nope").results)


def test_scan_pages_cover_every_record_once(sim: minikv.SimCluster, client: minikv.Client) -> None:
    """A scan larger than one page (1000 records) returns every record exactly once."""
    store = sim.node("n1").stores["test"]
    for i in range(2500):
        digest = minikv.calc_digest("test", "big", i)
        store.put(digest, Record(1, 0.0, 0.0, {"i": i}, "big").pack())
    values = [bins["i"] for _, _, bins in client.scan("test", "big").results()]
    assert sorted(values) == list(range(2500))


# ---- at the node: requests the client API never sends ----------------------------------------------


def digest_in(pid: int, n: int) -> bytes:
    """A digest in partition `pid`, made distinct by `n`."""
    return bytes([pid & 0xFF, pid >> 8]) + n.to_bytes(18, "big")


def ask(sim: minikv.SimCluster, request: object) -> m.Reply:
    """Hand one request straight to n1 and return its reply."""
    (effect,) = sim.node("n1").receive("origin", request, sim.now)
    return effect.reply


def test_node_refuses_malformed_requests(sim: minikv.SimCluster) -> None:
    """A short digest, a user key of the wrong type or a ttl past 32 bits gets PARAMETER_ERROR."""
    digest = minikv.calc_digest(*KEY)
    bad = [
        m.Get("test", "demo", b"short"),
        m.Put("test", "demo", digest, {"a": 1}, user_key=[1]),
        m.Put("test", "demo", digest, {"a": 1}, user_key=True),
        m.Put("test", "demo", digest, {"a": 1}, ttl=2**32),
        m.ScanPage("test", None, (4096,)),
    ]
    for request in bad:
        assert ask(sim, request).rc == ResultCode.PARAMETER_ERROR, request
    assert sim.node("n1").stores["test"].count() == 0


def test_node_answers_unserved_message(sim: minikv.SimCluster) -> None:
    """A known message the node does not serve gets UNSUPPORTED_FEATURE, never silence."""
    assert ask(sim, m.Reply(0)).rc == ResultCode.UNSUPPORTED_FEATURE


def test_scan_page_stops_after_whole_partition(sim: minikv.SimCluster) -> None:
    """A scan page returns whole partitions and stops after the one that reaches max_records."""
    store = sim.node("n1").stores["test"]
    for pid, count in [(0, 3), (1, 2), (2, 1)]:
        for n in range(count):
            store.put(digest_in(pid, n), Record(1, 0.0, 0.0, {"n": n}, "s").pack())
    reply = ask(sim, m.ScanPage("test", None, (0, 1, 2), max_records=2))
    assert reply.result["done"] == 1 and len(reply.result["records"]) == 3
    reply = ask(sim, m.ScanPage("test", None, (1, 2), max_records=5))
    assert reply.result["done"] == 2 and len(reply.result["records"]) == 3
