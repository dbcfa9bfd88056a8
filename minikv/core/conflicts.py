"""Replace-if-better: which of two copies of a record wins when they meet.

Copies meet when a migration delivers a record the receiver already has, and when a master
resolves duplicates before a write. Aerospike's AP rule (`conflict-resolution-policy`):

- `generation` (default): the higher generation wins, compared directly, so the copy with more
  history wins; on a tie the later last-update time wins.
- `last-update-time`: the later update wins; on a tie the higher generation (wrap-aware).

Whole records win or lose: the losing copy's updates vanish. After a split brain, where both
sides wrote, this is where acknowledged writes are lost (notebook 05).
"""

from __future__ import annotations

from minikv.core.records import Record


def incoming_wins(local: Record | None, incoming: Record, policy: str) -> bool:
    """Should `incoming` replace `local`? A full tie keeps the local copy."""
    if local is None:
        return True
    if policy == "last-update-time":
        if incoming.lut != local.lut:
            return incoming.lut > local.lut
        return _gen_newer(incoming.gen, local.gen)
    if incoming.gen != local.gen:
        return incoming.gen > local.gen
    return incoming.lut > local.lut


def _gen_newer(a: int, b: int) -> bool:
    """Is generation `a` newer than `b`, allowing for the 16-bit wrap (Aerospike's rule)?"""
    return a != b and (a - b) & 0xFFFF < 0x8000
