"""Tests for the pure-Python RIPEMD-160 fallback in minikv.ripemd160."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from minikv.ripemd160 import ripemd160


def _hashlib_has_ripemd160() -> bool:
    """Return True if this Python's OpenSSL provides RIPEMD-160."""
    try:
        hashlib.new("ripemd160")
    except ValueError:
        return False
    return True


HASHLIB_HAS_RIPEMD160 = _hashlib_has_ripemd160()

# Test vectors from the RIPEMD-160 paper (Dobbertin, Bosselaers, Preneel 1996).
PAPER_VECTORS = [
    (b"", "9c1185a5c5e9fc54612808977ee8f548b2258d31"),
    (b"a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"),
    (b"abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
    (b"message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"),
    (b"abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc"),
    (
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "12a053384a9c0c88e405a06c27dcf49ada62eb2b",
    ),
    (
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "b0e20b6e3116640286ed3a87a5713079b21f5189",
    ),
    (b"1234567890" * 8, "9b752e45573d4b39f4dbd3323cab82bf63326bfb"),
]

# Lengths where padding changes shape: 55 is the longest message whose padding
# fits in one block, 56 the shortest that needs a second block, and multiples
# of 64 fill a block exactly.
PADDING_BOUNDARY_LENGTHS = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128, 129]


@pytest.mark.parametrize(("message", "expected_hex"), PAPER_VECTORS)
def test_paper_vectors(message: bytes, expected_hex: str) -> None:
    """ripemd160 reproduces each short test vector published with the algorithm."""
    assert ripemd160(message).hex() == expected_hex


def test_one_million_a() -> None:
    """ripemd160 of one million "a" bytes matches the paper's long-message vector."""
    assert ripemd160(b"a" * 1_000_000).hex() == "52783243c1697bdbe16d37f97f68f08325dc1528"


def test_digest_is_20_bytes() -> None:
    """ripemd160 returns a bytes object of exactly 20 bytes."""
    digest = ripemd160(b"minikv")
    assert isinstance(digest, bytes)
    assert len(digest) == 20


def test_accepts_bytearray_and_memoryview() -> None:
    """ripemd160 gives the same digest for bytes, bytearray and memoryview input."""
    data = b"set-name\x00user-key"
    assert ripemd160(bytearray(data)) == ripemd160(data)
    assert ripemd160(memoryview(data)) == ripemd160(data)


@pytest.mark.skipif(
    not HASHLIB_HAS_RIPEMD160,
    reason="hashlib has no ripemd160 here (OpenSSL 3 without the legacy provider)",
)
@pytest.mark.parametrize("length", PADDING_BOUNDARY_LENGTHS)
def test_matches_hashlib_at_padding_boundaries(length: int) -> None:
    """ripemd160 matches hashlib for messages whose length sits on a padding boundary."""
    data = bytes(range(256)) * 2
    message = data[:length]
    assert ripemd160(message) == hashlib.new("ripemd160", message).digest()


@pytest.mark.skipif(
    not HASHLIB_HAS_RIPEMD160,
    reason="hashlib has no ripemd160 here (OpenSSL 3 without the legacy provider)",
)
@given(st.binary(min_size=0, max_size=300))
@example(b"")
@example(b"\x00" * 55)
@example(b"\xff" * 56)
@example(b"\x80" * 63)
@example(b"\x00" * 64)
@example(b"\xff" * 65)
@example(b"\x01" * 300)
def test_matches_hashlib_on_random_bytes(data: bytes) -> None:
    """ripemd160 agrees with hashlib's RIPEMD-160 on arbitrary byte strings up to 300 bytes."""
    assert ripemd160(data) == hashlib.new("ripemd160", data).digest()
