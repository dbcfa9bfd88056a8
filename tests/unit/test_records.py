"""Records (minikv.core.records): packing, generation, TTL to void time, and what a bin may hold."""

from __future__ import annotations

import pytest

from minikv.core.records import (
    MAX_GENERATION,
    MAX_TTL,
    TTL_KEEP,
    TTL_NEVER,
    Record,
    blob_expired,
    check_bin_name,
    check_bins,
    check_value,
    next_generation,
    void_time_for,
)
from minikv.errors import BinNameError, InvalidRequest

# ---- packing -----------------------------------------------------------------------------------


def test_pack_round_trip() -> None:
    """Record.unpack(record.pack()) gives back an equal record, bins, set and user key included."""
    record = Record(7, 120.5, 100.25, {"a": 1, "b": [1, "x"], "c": {"k": b"\x00"}}, "demo", "user:1")
    blob = record.pack()
    assert isinstance(blob, bytes)
    assert Record.unpack(blob) == record


def test_pack_keeps_int_dict_keys() -> None:
    """Map bins with non-str keys survive packing (msgpack is read with strict_map_key off)."""
    record = Record(1, 0.0, 0.0, {"m": {1: "one", 2: [2]}})
    assert Record.unpack(record.pack()).bins == {"m": {1: "one", 2: [2]}}


def test_packed_record_is_compact() -> None:
    """A small record packs to a few dozen bytes: a 18-byte header plus msgpack bins."""
    blob = Record(1, 0.0, 0.0, {"n": 1}, "demo").pack()
    assert len(blob) < 40


def test_defaults_no_set_no_user_key() -> None:
    """A record written without set or POLICY_KEY_SEND has set "" and user key None."""
    record = Record.unpack(Record(1, 0.0, 0.0, {"a": 1}).pack())
    assert record.set_name == "" and record.user_key is None


# ---- expiry as seen by reads ---------------------------------------------------------------------


def test_void_time_zero_never_expires() -> None:
    """A void time of 0 never expires, however late it is, and reads report TTL_NEVER."""
    record = Record(1, 0.0, 0.0, {"a": 1})
    assert not record.expired(1e12)
    assert not blob_expired(record.pack(), 1e12)
    assert record.ttl(5.0) == TTL_NEVER == 0xFFFFFFFF


def test_expired_at_void_time() -> None:
    """A record is live before its void time and expired from that instant on."""
    record = Record(1, 10.0, 0.0, {"a": 1})
    assert not record.expired(9.999)
    assert record.expired(10.0)
    assert record.expired(11.0)


def test_blob_expired_agrees_with_record() -> None:
    """blob_expired reads the same answer from the header alone."""
    blob = Record(1, 10.0, 0.0, {"a": 1}).pack()
    assert not blob_expired(blob, 9.5)
    assert blob_expired(blob, 10.0)


def test_reported_ttl_rounds_up_and_never_reaches_zero() -> None:
    """A live record reports whole seconds left, rounded up, and at least 1."""
    record = Record(1, 10.0, 0.0, {"a": 1})
    assert record.ttl(0.0) == 10
    assert record.ttl(0.5) == 10
    assert record.ttl(9.99) == 1


# ---- generation --------------------------------------------------------------------------------


@pytest.mark.parametrize(("gen", "after"), [(0, 1), (1, 2), (41, 42), (65534, 65535), (65535, 1)])
def test_next_generation(gen: int, after: int) -> None:
    """Generation starts at 1, counts up by one and wraps from 65535 to 1 (0 means no record)."""
    assert next_generation(gen) == after


def test_generation_is_16_bits() -> None:
    """The largest generation is 0xFFFF, as in Aerospike's index entry."""
    assert MAX_GENERATION == 65535


# ---- TTL -> void time ----------------------------------------------------------------------------

NOW = 1000.0


def existing(void_time: float) -> Record:
    return Record(3, void_time, NOW - 1, {"a": 1})


def test_ttl_zero_uses_namespace_default() -> None:
    """ttl 0 means the namespace default: never when the default is 0, else now + default."""
    assert void_time_for(0, NOW, 0, None) == 0.0
    assert void_time_for(0, NOW, 100, None) == NOW + 100


def test_ttl_never_expire() -> None:
    """ttl 0xFFFFFFFF (-1) never expires, whatever the namespace default."""
    assert void_time_for(0xFFFFFFFF, NOW, 100, None) == 0.0
    assert void_time_for(TTL_NEVER, NOW, 0, existing(NOW + 5)) == 0.0


def test_ttl_keep_current_expiry() -> None:
    """ttl 0xFFFFFFFE (-2) keeps the record's current void time, including 'never'."""
    assert TTL_KEEP == 0xFFFFFFFE
    assert void_time_for(TTL_KEEP, NOW, 100, existing(NOW + 5)) == NOW + 5
    assert void_time_for(TTL_KEEP, NOW, 100, existing(0.0)) == 0.0


def test_ttl_keep_on_new_record_uses_default() -> None:
    """ttl -2 on a record that does not exist yet falls back to the namespace default."""
    assert void_time_for(TTL_KEEP, NOW, 0, None) == 0.0
    assert void_time_for(TTL_KEEP, NOW, 100, None) == NOW + 100


def test_positive_ttl_is_seconds_from_now() -> None:
    """A positive ttl sets the void time that many seconds from now, replacing the old one."""
    assert void_time_for(60, NOW, 100, None) == NOW + 60
    assert void_time_for(1, NOW, 0, existing(NOW + 500)) == NOW + 1


def test_ttl_up_to_ten_years() -> None:
    """10 years is the longest ttl; one second more is an InvalidRequest."""
    assert MAX_TTL == 10 * 365 * 24 * 3600
    assert void_time_for(MAX_TTL, NOW, 0, None) == NOW + MAX_TTL
    with pytest.raises(InvalidRequest):
        void_time_for(MAX_TTL + 1, NOW, 0, None)


# ---- bin names and values ----------------------------------------------------------------------


def test_bin_name_up_to_15_bytes() -> None:
    """A 15-byte bin name is accepted; 16 bytes is a BinNameError."""
    check_bin_name("b" * 15)
    with pytest.raises(BinNameError):
        check_bin_name("b" * 16)


def test_bin_name_limit_counts_utf8_bytes() -> None:
    """The limit is in UTF-8 bytes: 8 'é' are 8 characters but 16 bytes, too long."""
    check_bin_name("é" * 7)
    with pytest.raises(BinNameError):
        check_bin_name("é" * 8)


@pytest.mark.parametrize("name", ["", 1, None, b"bin"])
def test_bin_name_must_be_non_empty_str(name: object) -> None:
    """An empty or non-str bin name is an InvalidRequest."""
    with pytest.raises(InvalidRequest):
        check_bin_name(name)


def test_bin_name_error_is_code_21() -> None:
    """BinNameError carries Aerospike's BIN_NAME_TOO_LONG result code, 21."""
    with pytest.raises(BinNameError) as caught:
        check_bins({"x" * 16: 1})
    assert caught.value.code == 21


@pytest.mark.parametrize(
    "value",
    [0, -(2**63), 2**63 - 1, 1.5, float("inf"), "", "text", b"", b"\x00\xff", True,
     [], [1, "a", [2.0, None]], {}, {"k": 1, 2: [b"x"], "n": None}, (1, 2)],
)
def test_supported_values(value: object) -> None:
    """int (64-bit), float, str, bytes, bool, and lists/dicts of them (None inside) are accepted."""
    check_value(value)


@pytest.mark.parametrize(
    "value",
    [2**63, -(2**63) - 1, {1, 2}, object(), 1 + 2j, [1, {2}], {"k": object()}, None],
)
def test_unsupported_values(value: object) -> None:
    """Ints past 64 bits, sets, objects and a bare None value are InvalidRequest."""
    with pytest.raises(InvalidRequest):
        check_value(value)


def test_nesting_limit() -> None:
    """Values nested more than 32 levels deep are refused."""
    value: list = []
    for _ in range(32):
        value = [value]
    check_value(value)
    with pytest.raises(InvalidRequest):
        check_value([value])


def test_check_bins_allows_none_to_delete() -> None:
    """In a bins dict None is allowed: it means delete the bin."""
    check_bins({"a": None, "b": 1})


def test_check_bins_needs_a_dict() -> None:
    """bins that are not a dict are an InvalidRequest."""
    with pytest.raises(InvalidRequest):
        check_bins([("a", 1)])


def test_check_bins_checks_values() -> None:
    """check_bins refuses a bins dict holding an unsupported value."""
    with pytest.raises(InvalidRequest):
        check_bins({"a": {1, 2}})
