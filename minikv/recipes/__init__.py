"""Recipes: what applications build on a key-value store, written on top of the client.

One module per recipe, each explained in its docstring and in a notebook:

- `cache.py`    (notebook 07) TTLCache: entries expire by TTL; a hit can touch the entry to keep
                it alive (read-touch); hit and miss counters.
- `lock.py`     (notebook 07) FencedLock: a lease (a record with a TTL, created with
                POLICY_EXISTS_CREATE) plus fencing tokens from a counter that only grows, and
                `guarded_write`, which refuses a stale token; NaiveLock, the lease alone, to show
                why that breaks.
- `counters.py` (notebook 07) ShardedCounter: one counter spread over several records to avoid a
                hot key, summed on read; Stats: count, sum, min, max and histogram bins kept with
                operate.
- `quorum.py`   (notebook 03) quorum reads and writes, Cassandra's R and W, emulated on minikv.

cache, lock and counters use only the public client API (put, get, exists, operate, touch,
remove, batch_read, the policy constants and `minikv.exception`), so each runs unchanged on a real
Aerospike cluster with `import aerospike` and `aerospike_helpers.operations`. quorum reads a
chosen replica directly, which the official client cannot do; its docstring says how.
"""
