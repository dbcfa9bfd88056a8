"""Keys, digests and partition ids: where a record lives.

A record is addressed by `(namespace, set, user_key)`. Aerospike never stores or routes by the user
key itself: it hashes the set name and the key into a 20-byte RIPEMD-160 *digest*, and the low 12
bits of the digest pick one of 4096 *partitions*. Every node and every client computes the same
digest, so a client can send a request straight to the node that owns the partition.

We reproduce the digest bit for bit (notebook 01 checks it against Aerospike's own test vectors),
so a key lands in the same partition on minikv as on a real cluster. Note the namespace is not
hashed: ("test", "s", 1) and ("bar", "s", 1) have the same digest.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Callable

from minikv.errors import ParamError
from minikv.ripemd160 import ripemd160 as _pure_ripemd160

N_PARTITIONS = 4096  # Aerospike's AS_PARTITIONS: fixed per namespace, whatever the cluster size
DIGEST_SIZE = 20  # bytes of RIPEMD-160

# Aerospike's particle types: the byte hashed between set name and key value tells the key's type,
# so the integer 1 and the string "1" are different keys.
PARTICLE_INTEGER = 1
PARTICLE_FLOAT = 2
PARTICLE_STRING = 3
PARTICLE_BLOB = 4
# the type byte and the key's bytes in one step (this runs for every request a client sends)
_INTEGER_KEY = struct.Struct(">Bq")
_FLOAT_KEY = struct.Struct(">Bd")
_STRING_TYPE, _BLOB_TYPE = bytes([PARTICLE_STRING]), bytes([PARTICLE_BLOB])


def _pick_ripemd160() -> Callable[[bytes], bytes]:
    """hashlib's C RIPEMD-160 when OpenSSL provides it (OpenSSL 3 may not), else our pure Python."""
    try:
        fresh = hashlib.new("ripemd160")
    except (ValueError, TypeError):
        return _pure_ripemd160

    def ripemd160(data: bytes) -> bytes:
        hasher = fresh.copy()  # copying a fresh hasher is ~2x faster than looking one up by name
        hasher.update(data)
        return hasher.digest()

    return ripemd160


ripemd160: Callable[[bytes], bytes] = _pick_ripemd160()


def key_bytes(user_key: str | int | float | bytes | bytearray) -> bytes:
    """The particle type byte followed by the key's bytes, exactly as Aerospike's clients hash them."""
    if isinstance(user_key, bool):  # bool is an int in Python; Aerospike has no bool keys
        raise ParamError(f"key must be str, int, float or bytes, not bool ({user_key!r})")
    if isinstance(user_key, str):
        return _STRING_TYPE + user_key.encode("utf-8")
    if isinstance(user_key, int):
        if not -(2**63) <= user_key < 2**63:
            raise ParamError(f"integer key {user_key} does not fit in 64 bits")
        return _INTEGER_KEY.pack(PARTICLE_INTEGER, user_key)  # big-endian two's complement
    if isinstance(user_key, float):
        return _FLOAT_KEY.pack(PARTICLE_FLOAT, user_key)
    if isinstance(user_key, (bytes, bytearray)):
        return _BLOB_TYPE + bytes(user_key)
    raise ParamError(f"key must be str, int, float or bytes, not {type(user_key).__name__}")


def calc_digest(ns: str, set_name: str | None, user_key: str | int | float | bytes) -> bytes:
    """Aerospike's 20-byte record digest: RIPEMD-160(set name ‖ particle type ‖ key bytes).

    `ns` is checked but not hashed (Aerospike hashes only set and key). Returns bytes; the
    official client returns a bytearray with the same contents.
    """
    if not isinstance(ns, str) or not ns:
        raise ParamError(f"namespace must be a non-empty str, not {ns!r}")
    if set_name is not None and not isinstance(set_name, str):
        raise ParamError(f"set must be a str or None, not {type(set_name).__name__}")
    return ripemd160((set_name or "").encode("utf-8") + key_bytes(user_key))


def partition_id(digest: bytes) -> int:
    """The partition (0..4095) of a digest: its low 12 bits, read little-endian."""
    return digest[0] | ((digest[1] & 0x0F) << 8)


def key_digest(key: tuple) -> bytes:
    """The digest of a key tuple `(ns, set, user_key)` or `(ns, set, None, digest)`."""
    if not isinstance(key, tuple) or len(key) not in (3, 4):
        raise ParamError(f"a key is a tuple (namespace, set, user_key), not {key!r}")
    ns, set_name, user_key = key[0], key[1], key[2]
    if user_key is None and len(key) == 4:
        digest = key[3]
        if not isinstance(digest, (bytes, bytearray)) or len(digest) != DIGEST_SIZE:
            raise ParamError("a digest must be 20 bytes")
        if not isinstance(ns, str) or not ns:
            raise ParamError(f"namespace must be a non-empty str, not {ns!r}")
        return bytes(digest)
    return calc_digest(ns, set_name, user_key)
