"""operate(): an ordered list of bin operations applied to one record, all or nothing.

Aerospike applies the operations of one request under the record's lock, in order, with one
generation bump for the lot; if any operation fails, none of them is applied. We do the same on a
copy of the bins: the node stores the copy only if every operation succeeded.

Each operation is a tuple `(operator, bin_name, value)` with the official client's OPERATOR_*
numbers (see `minikv.policies`). Aerospike also has list, map, bit and HLL operations; we stop at
the scalar ones the course needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from minikv import policies as P
from minikv.errors import BinIncompatibleType, InvalidRequest, UnsupportedFeature
from minikv.core.records import check_bin_name, check_value

Op = tuple[int, str | None, Any]  # (operator, bin name or None, value)


@dataclass(slots=True)
class OpsOutcome:
    """What applying a list of operations did to a record's bins."""

    bins: dict[str, Any]  # the new bins (a copy; the original is untouched)
    reads: list[tuple[str, Any]] = field(default_factory=list)  # [(bin, value)] in op order
    wrote: bool = False  # any write-type operation: the generation goes up
    touched: bool = False  # a touch: the ttl is reset even if no bin changed
    ttl: int | None = None  # the ttl carried by a touch operation, if any
    delete_record: bool = False  # OPERATOR_DELETE: the record goes, unless later ops write bins


def apply_ops(bins: dict[str, Any], ops: list[Op], exists: bool) -> OpsOutcome:
    """Apply `ops` in order to a copy of `bins`. Raises (and changes nothing) on the first error."""
    out = OpsOutcome(bins=dict(bins))
    for operator, bin_name, value in ops:
        handler = _HANDLERS.get(operator)
        if handler is None:
            raise UnsupportedFeature(f"operator {operator!r} is not supported")
        handler(out, bin_name, value, exists)
    return out


# ---- one function per operator -----------------------------------------------------------------


def _read(out: OpsOutcome, bin_name: str | None, value: Any, exists: bool) -> None:
    if bin_name is None:  # read every bin
        out.reads.extend(out.bins.items())
        return
    check_bin_name(bin_name)
    out.reads.append((bin_name, out.bins.get(bin_name)))


def _write(out: OpsOutcome, bin_name: str | None, value: Any, exists: bool) -> None:
    check_bin_name(bin_name)
    out.wrote = True
    if value is None:  # writing None deletes the bin, as in Aerospike
        out.bins.pop(bin_name, None)
        return
    check_value(value)
    out.bins[bin_name] = value


def _increment(out: OpsOutcome, bin_name: str | None, value: Any, exists: bool) -> None:
    check_bin_name(bin_name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequest(f"increment by a number, not {type(value).__name__}")
    current = out.bins.get(bin_name)
    if current is None:
        current = 0 if isinstance(value, int) else 0.0
    if isinstance(current, bool) or type(current) is not type(value):
        raise BinIncompatibleType(
            f"cannot add {type(value).__name__} to bin {bin_name!r} holding {type(current).__name__}"
        )
    result = current + value
    # Aerospike integers are signed 64-bit; we refuse to leave that range rather than wrap.
    check_value(result)
    out.bins[bin_name] = result
    out.wrote = True


def _concat(out: OpsOutcome, bin_name: str | None, value: Any, prepend: bool) -> None:
    check_bin_name(bin_name)
    if not isinstance(value, (str, bytes)):
        raise InvalidRequest(f"append/prepend a str or bytes, not {type(value).__name__}")
    current = out.bins.get(bin_name)
    if current is None:
        current = value[:0]  # empty str or bytes, matching the value
    if type(current) is not type(value):
        raise BinIncompatibleType(
            f"cannot join {type(value).__name__} to bin {bin_name!r} holding {type(current).__name__}"
        )
    out.bins[bin_name] = value + current if prepend else current + value
    out.wrote = True


def _append(out: OpsOutcome, bin_name: str | None, value: Any, exists: bool) -> None:
    _concat(out, bin_name, value, prepend=False)


def _prepend(out: OpsOutcome, bin_name: str | None, value: Any, exists: bool) -> None:
    _concat(out, bin_name, value, prepend=True)


def _touch(out: OpsOutcome, bin_name: str | None, value: Any, exists: bool) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidRequest(f"touch takes an int ttl, not {type(value).__name__}")
    out.touched = True
    out.ttl = value


def _delete(out: OpsOutcome, bin_name: str | None, value: Any, exists: bool) -> None:
    out.delete_record = True
    out.bins = {}


_HANDLERS = {
    P.OPERATOR_READ: _read,
    P.OPERATOR_WRITE: _write,
    P.OPERATOR_INCR: _increment,
    P.OPERATOR_APPEND: _append,
    P.OPERATOR_PREPEND: _prepend,
    P.OPERATOR_TOUCH: _touch,
    P.OPERATOR_DELETE: _delete,
}
