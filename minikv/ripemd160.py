"""RIPEMD-160 in pure Python, written for reading rather than speed.

Aerospike identifies every record by a 20-byte *digest*: the RIPEMD-160 hash
of the set name and the key. minikv does the same, so it needs RIPEMD-160.
Python's ``hashlib.new("ripemd160")`` normally provides it, but hashlib only
wraps OpenSSL, and OpenSSL 3 moved RIPEMD-160 into its "legacy" provider,
which some builds do not load. On such a system hashlib raises ValueError and
this module is the fallback. When hashlib has the algorithm, use hashlib: it
is much faster than the code here.

The algorithm follows the specification by Dobbertin, Bosselaers and Preneel,
"RIPEMD-160: A Strengthened Version of RIPEMD" (1996). Its outline:

1. Pad the message to a multiple of 64 bytes (as in MD4/MD5).
2. Split each 64-byte block into sixteen 32-bit little-endian words.
3. Run two independent "lines" of 80 steps over the words, each starting from
   the current 5-word state but with different word orders, rotations,
   constants and boolean functions.
4. Combine both lines' results with the state to form the next state.
5. The digest is the final state, written as five little-endian words.
"""

from __future__ import annotations

import struct
from typing import Callable

__all__ = ["DIGEST_SIZE", "BLOCK_SIZE", "ripemd160"]

DIGEST_SIZE = 20
BLOCK_SIZE = 64

State = tuple[int, int, int, int, int]
BooleanFunction = Callable[[int, int, int], int]

# All arithmetic is on unsigned 32-bit words; results are reduced with this.
MASK32 = 0xFFFFFFFF

# The five chaining words that the hash starts from (h0..h4).
INITIAL_STATE: State = (
    0x67452301,
    0xEFCDAB89,
    0x98BADCFE,
    0x10325476,
    0xC3D2E1F0,
)

# One additive constant per round (5 rounds). The left line's are the integer
# parts of 2**30 times the square roots of 2, 3, 5, 7; the right line's are
# 2**30 times their cube roots. Round 1 (left) and round 5 (right) add nothing.
LEFT_CONSTANTS: tuple[int, ...] = (
    0x00000000,
    0x5A827999,
    0x6ED9EBA1,
    0x8F1BBCDC,
    0xA953FD4E,
)
RIGHT_CONSTANTS: tuple[int, ...] = (
    0x50A28BE6,
    0x5C4DD124,
    0x6D703EF3,
    0x7A6D76E9,
    0x00000000,
)

# 5 rounds x 16 steps: which message word each step of the left line reads.
LEFT_WORD_ORDER: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    (7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8),
    (3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12),
    (1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7, 15, 14, 5, 6, 2),
    (4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13),
)

# 5 rounds x 16 steps: which message word each step of the right line reads.
RIGHT_WORD_ORDER: tuple[tuple[int, ...], ...] = (
    (5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12),
    (6, 11, 3, 7, 0, 13, 5, 10, 14, 15, 8, 12, 4, 9, 1, 2),
    (15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13),
    (8, 6, 4, 1, 3, 11, 15, 0, 5, 12, 2, 13, 9, 7, 10, 14),
    (12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11),
)

# 5 rounds x 16 steps: how many bits each step of the left line rotates by.
LEFT_ROTATIONS: tuple[tuple[int, ...], ...] = (
    (11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8),
    (7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12),
    (11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5),
    (11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12),
    (9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6),
)

# 5 rounds x 16 steps: how many bits each step of the right line rotates by.
RIGHT_ROTATIONS: tuple[tuple[int, ...], ...] = (
    (8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6),
    (9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11),
    (9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5),
    (15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8),
    (8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11),
)

def _rotate_left(word: int, bits: int) -> int:
    """Rotate a 32-bit word left by ``bits``; the bits pushed out re-enter on the right."""
    return ((word << bits) | (word >> (32 - bits))) & MASK32


# The five boolean functions, applied bit by bit to three words. Python's ~
# yields a negative int, so results that use it are masked back to 32 bits.


def _f_xor(x: int, y: int, z: int) -> int:
    """f1: x XOR y XOR z (parity)."""
    return x ^ y ^ z


def _f_choose(x: int, y: int, z: int) -> int:
    """f2: where x is 1 take y, else z ("if x then y else z")."""
    return (x & y) | (~x & z)


def _f_or_not(x: int, y: int, z: int) -> int:
    """f3: (x OR NOT y) XOR z."""
    return ((x | ~y) ^ z) & MASK32


def _f_choose_z(x: int, y: int, z: int) -> int:
    """f4: where z is 1 take x, else y ("if z then x else y")."""
    return (x & z) | (y & ~z)


def _f_xor_or_not(x: int, y: int, z: int) -> int:
    """f5: x XOR (y OR NOT z)."""
    return (x ^ (y | ~z)) & MASK32


# The two lines use the same functions in opposite order, one per round, so
# that each round pairs two different functions and the lines stay unlike.
LEFT_FUNCTIONS: tuple[BooleanFunction, ...] = (
    _f_xor,
    _f_choose,
    _f_or_not,
    _f_choose_z,
    _f_xor_or_not,
)
RIGHT_FUNCTIONS: tuple[BooleanFunction, ...] = tuple(reversed(LEFT_FUNCTIONS))


def _pad(message: bytes) -> bytes:
    """Append the padding that makes the length a multiple of 64 bytes.

    The padding is a single 1 bit (byte 0x80), then zero bytes until the length
    is 56 mod 64, then the original length in *bits* as a 64-bit little-endian
    integer. Including the length means two messages that differ only in
    trailing zero bytes still pad to different inputs.
    """
    zero_count = (55 - len(message)) % BLOCK_SIZE
    bit_length = (len(message) * 8) & 0xFFFFFFFFFFFFFFFF
    return message + b"\x80" + b"\x00" * zero_count + struct.pack("<Q", bit_length)


def _run_line(
    state: State,
    words: tuple[int, ...],
    functions: tuple[BooleanFunction, ...],
    constants: tuple[int, ...],
    word_order: tuple[tuple[int, ...], ...],
    rotations: tuple[tuple[int, ...], ...],
) -> State:
    """Run one line (5 rounds x 16 steps) over a block and return its registers.

    Each step mixes one message word into register ``a``, rotates it, adds
    ``e``, then shifts the five registers along by one position; ``c`` is also
    rotated by 10 so that no register passes through unchanged.
    """
    a, b, c, d, e = state
    for round_index in range(5):
        f = functions[round_index]
        constant = constants[round_index]
        for word_index, bits in zip(word_order[round_index], rotations[round_index]):
            mixed = (a + f(b, c, d) + words[word_index] + constant) & MASK32
            t = (_rotate_left(mixed, bits) + e) & MASK32
            a, b, c, d, e = e, t, b, _rotate_left(c, 10), d
    return a, b, c, d, e


def _compress(state: State, block: bytes) -> State:
    """Absorb one 64-byte block and return the next chaining state.

    Both lines start from the same state and read the same sixteen words, but
    in different orders, with different rotations, constants and functions.
    A collision attack has to steer both lines at once; in the original RIPEMD
    the two lines differed only in their constants, and making them truly
    different is a main part of RIPEMD-160's strengthening.

    The final combination adds each old state word to one register from each
    line, taken at staggered positions (new h[i] = h[i+1] + left[i+2] +
    right[i+3], indices mod 5), so each output word mixes unrelated registers
    from the two lines instead of pairing a register with its counterpart.
    """
    words = struct.unpack("<16I", block)
    la, lb, lc, ld, le = _run_line(
        state, words, LEFT_FUNCTIONS, LEFT_CONSTANTS, LEFT_WORD_ORDER, LEFT_ROTATIONS
    )
    ra, rb, rc, rd, re = _run_line(
        state, words, RIGHT_FUNCTIONS, RIGHT_CONSTANTS, RIGHT_WORD_ORDER, RIGHT_ROTATIONS
    )
    h0, h1, h2, h3, h4 = state
    return (
        (h1 + lc + rd) & MASK32,
        (h2 + ld + re) & MASK32,
        (h3 + le + ra) & MASK32,
        (h4 + la + rb) & MASK32,
        (h0 + lb + rc) & MASK32,
    )


def ripemd160(data: bytes) -> bytes:
    """Return the 20-byte RIPEMD-160 digest of ``data``.

    Same result as ``hashlib.new("ripemd160", data).digest()``, which should be
    preferred when available because this version is far slower.
    """
    padded = _pad(bytes(data))
    state = INITIAL_STATE
    for start in range(0, len(padded), BLOCK_SIZE):
        state = _compress(state, padded[start : start + BLOCK_SIZE])
    return struct.pack("<5I", *state)
