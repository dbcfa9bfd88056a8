"""Operation builders for `client.operate()`, like `aerospike_helpers.operations.operations`.

Each returns the same dict the official helpers return, so

    from minikv import operations as ops            # on a real cluster:
    client.operate(key, [ops.increment("n", 1),     # from aerospike_helpers.operations
                         ops.read("n")])            #     import operations as ops
"""

from __future__ import annotations

from typing import Any

from minikv import policies as P


def read(bin_name: str) -> dict:
    """Read one bin (its value as of this point in the operation list)."""
    return {"op": P.OPERATOR_READ, "bin": bin_name}


def write(bin_name: str, write_item: Any) -> dict:
    """Set a bin; None deletes it."""
    return {"op": P.OPERATOR_WRITE, "bin": bin_name, "val": write_item}


def increment(bin_name: str, amount: int | float) -> dict:
    """Add to an int or float bin (a missing bin counts as 0)."""
    return {"op": P.OPERATOR_INCR, "bin": bin_name, "val": amount}


def append(bin_name: str, append_item: str | bytes) -> dict:
    return {"op": P.OPERATOR_APPEND, "bin": bin_name, "val": append_item}


def prepend(bin_name: str, prepend_item: str | bytes) -> dict:
    return {"op": P.OPERATOR_PREPEND, "bin": bin_name, "val": prepend_item}


def touch(ttl: int | None = None) -> dict:
    """Bump the generation and reset the expiry (to `ttl` if given, else the call's meta ttl)."""
    op: dict = {"op": P.OPERATOR_TOUCH}
    if ttl is not None:
        op["val"] = ttl
    return op


def delete() -> dict:
    """Delete the whole record."""
    return {"op": P.OPERATOR_DELETE}
