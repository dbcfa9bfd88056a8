"""Keys, digests and partition ids (minikv.keys): the same bits as Aerospike's clients.

The vectors come from the official Python client's own tests (issue 2, facts section 1).
"""

from __future__ import annotations

import hashlib

import pytest

import minikv
from minikv import keys
from minikv.errors import ParamError
from minikv.ripemd160 import ripemd160 as pure_ripemd160

# (set, user_key) -> (digest hex, partition id), namespace "test"
VECTORS = [
    ("set", "s", "607cddba7cd111745ef0a3d783d57f0e83c8f311", 3168),
    ("set", -128, "93191e549f8f3548d7e2cfc958ddc8c65bcbe4c6", 2451),
    ("", 1, "a443f05d05d962202b59abb402afae1737dbf66a", 932),
]


@pytest.mark.parametrize(("set_name", "user_key", "digest_hex", "pid"), VECTORS)
def test_digest_vectors(set_name: str, user_key: object, digest_hex: str, pid: int) -> None:
    """calc_digest reproduces Aerospike's 20-byte digest for the published test vectors."""
    digest = minikv.calc_digest("test", set_name, user_key)
    assert isinstance(digest, bytes)
    assert digest.hex() == digest_hex


@pytest.mark.parametrize(("set_name", "user_key", "digest_hex", "pid"), VECTORS)
def test_partition_id_vectors(set_name: str, user_key: object, digest_hex: str, pid: int) -> None:
    """partition_id of each vector's digest is the partition Aerospike assigns it."""
    assert minikv.partition_id(bytes.fromhex(digest_hex)) == pid


def test_bytes_key_vector() -> None:
    """A bytes key is hashed as a blob: ("test", "set", b"s") starts ca2d96dc and ends e001."""
    digest = minikv.calc_digest("test", "set", b"s").hex()
    assert digest.startswith("ca2d96dc")
    assert digest.endswith("e001")


def test_bytearray_key_same_as_bytes() -> None:
    """A bytearray key gives the same digest as the equal bytes key."""
    assert minikv.calc_digest("test", "set", bytearray(b"s")) == minikv.calc_digest("test", "set", b"s")


def test_namespace_is_not_hashed() -> None:
    """The same set and key in two namespaces have the same digest (Aerospike hashes set and key only)."""
    assert minikv.calc_digest("test", "s", 1) == minikv.calc_digest("bar", "s", 1)


def test_none_set_same_as_empty_set() -> None:
    """A set of None hashes like the empty set name."""
    assert minikv.calc_digest("test", None, 1) == minikv.calc_digest("test", "", 1)


def test_key_type_changes_digest() -> None:
    """The particle type byte makes 1, "1", 1.0 and b"1" four different keys."""
    digests = {minikv.calc_digest("test", "s", key) for key in (1, "1", 1.0, b"1")}
    assert len(digests) == 4


def test_key_bytes_layout() -> None:
    """key_bytes is the particle type byte then the key: big-endian int64, IEEE float64, UTF-8, raw."""
    assert keys.key_bytes(-128) == b"\x01" + (-128).to_bytes(8, "big", signed=True)
    assert keys.key_bytes(1.5) == b"\x02" + bytes.fromhex("3ff8000000000000")
    assert keys.key_bytes("é") == b"\x03" + "é".encode()
    assert keys.key_bytes(b"\x00\xff") == b"\x04\x00\xff"


def test_int_key_limits() -> None:
    """Integer keys must fit in signed 64 bits: both ends are accepted, one past them is a ParamError."""
    minikv.calc_digest("test", "s", 2**63 - 1)
    minikv.calc_digest("test", "s", -(2**63))
    for too_big in (2**63, -(2**63) - 1):
        with pytest.raises(ParamError):
            minikv.calc_digest("test", "s", too_big)


@pytest.mark.parametrize("bad_key", [True, False, None, [1], {"a": 1}, (1,)])
def test_bad_user_key_is_param_error(bad_key: object) -> None:
    """bool, None and container keys are refused with ParamError (Aerospike has no such keys)."""
    with pytest.raises(ParamError):
        minikv.calc_digest("test", "s", bad_key)


@pytest.mark.parametrize("bad_ns", ["", None, 1, b"test"])
def test_bad_namespace_is_param_error(bad_ns: object) -> None:
    """The namespace must be a non-empty str even though it is not hashed."""
    with pytest.raises(ParamError):
        minikv.calc_digest(bad_ns, "s", 1)


def test_bad_set_is_param_error() -> None:
    """A set name that is not a str (or None) is a ParamError."""
    with pytest.raises(ParamError):
        minikv.calc_digest("test", 5, 1)


def test_partition_id_uses_low_12_bits_little_endian() -> None:
    """partition_id reads byte 0 and the low nibble of byte 1; the rest of the digest is ignored."""
    assert minikv.partition_id(bytes([0xFF, 0xFF]) + bytes(18)) == 4095
    assert minikv.partition_id(bytes([0x00, 0xF0]) + bytes([0xFF] * 18)) == 0
    assert minikv.partition_id(bytes([0x34, 0x12]) + bytes(18)) == 0x234
    assert minikv.N_PARTITIONS == 4096


def test_key_digest_of_key_tuple() -> None:
    """key_digest of (ns, set, key) equals calc_digest of its parts."""
    assert keys.key_digest(("test", "set", "s")) == minikv.calc_digest("test", "set", "s")


def test_key_digest_of_digest_tuple() -> None:
    """A key (ns, set, None, digest) is addressed by its 20-byte digest as given."""
    digest = bytes(range(20))
    assert keys.key_digest(("test", "set", None, bytearray(digest))) == digest


def test_key_digest_prefers_user_key_over_digest() -> None:
    """A 4-tuple with a user key is hashed from the user key; the digest element is ignored."""
    key = ("test", "set", "s", bytes(20))
    assert keys.key_digest(key) == minikv.calc_digest("test", "set", "s")


@pytest.mark.parametrize(
    "bad",
    [
        "test/set/s",
        ["test", "set", "s"],
        ("test", "set"),
        ("test", "set", "s", bytes(20), "extra"),
        ("test", "set", None, b"short"),
        ("test", "set", None, "x" * 20),
        ("", "set", None, bytes(20)),
        ("test", "set", None),
    ],
)
def test_key_digest_rejects_bad_keys(bad: object) -> None:
    """Anything but a 3-tuple or a (ns, set, None, 20-byte digest) 4-tuple is a ParamError."""
    with pytest.raises(ParamError):
        keys.key_digest(bad)


@pytest.mark.parametrize(("set_name", "user_key", "digest_hex", "pid"), VECTORS)
def test_vectors_with_pure_python_fallback(
    monkeypatch: pytest.MonkeyPatch, set_name: str, user_key: object, digest_hex: str, pid: int
) -> None:
    """calc_digest gives the same vectors when forced onto the pure-Python RIPEMD-160."""
    monkeypatch.setattr(keys, "ripemd160", pure_ripemd160)
    assert minikv.calc_digest("test", set_name, user_key).hex() == digest_hex


def test_fallback_chosen_when_hashlib_lacks_ripemd160(monkeypatch: pytest.MonkeyPatch) -> None:
    """When hashlib cannot make RIPEMD-160 (OpenSSL 3 without legacy), keys picks the pure fallback."""

    def no_ripemd(name: str, *args: object, **kwargs: object) -> object:
        raise ValueError(f"unsupported hash type {name}")

    monkeypatch.setattr(hashlib, "new", no_ripemd)
    assert keys._pick_ripemd160() is pure_ripemd160
