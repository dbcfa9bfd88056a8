"""The recipes of notebook 07 (minikv/recipes) on a SimCluster: cache, locks, counters.

Each test states one behaviour of a recipe. The lock tests replay the stories of
minikv/grading/ex7.py (a paused holder, a partitioned one) with the recipe's NaiveLock and
FencedLock: the naive lock lets the stale holder's write land, the fenced one refuses it.
"""

from __future__ import annotations

import random

import pytest

import minikv
from minikv.grading import ex7
from minikv.recipes import lock
from minikv.recipes.cache import TTLCache
from minikv.recipes.counters import ShardedCounter, Stats

SEED = 7
FENCED = (lock.acquire, lock.guarded_write)
NAIVE = (lock.naive_acquire, lock.naive_write)


@pytest.fixture
def sim():
    """One node is enough for a recipe's own behaviour (and cheap); the lock stories use three."""
    cluster = minikv.SimCluster(nodes=1, seed=SEED)
    yield cluster
    cluster.close()


# ---- cache ----------------------------------------------------------------------------------------


def test_cache_counts_hits_and_misses(sim):
    """A get of a cached key is a hit and returns the value; of an unknown key a miss returning the default."""
    cache = TTLCache(sim.client(), ttl=10)
    cache.put("a", "apple")
    assert cache.get("a") == "apple"
    assert cache.get("b", "none") == "none"
    assert (cache.stats.hits, cache.stats.misses, cache.stats.hit_ratio) == (1, 1, 0.5)


def test_cache_entry_expires_after_its_ttl(sim):
    """An entry nobody reads is gone (a miss) once its TTL has passed."""
    cache = TTLCache(sim.client(), ttl=5)
    cache.put("a", "apple")
    sim.run_for(5.5)
    assert cache.get("a") is None and cache.stats.misses == 1


def test_read_touch_keeps_a_hot_entry_alive(sim):
    """With read-touch every hit resets the TTL, so an entry read every 3 s outlives its 5 s TTL."""
    cache = TTLCache(sim.client(), ttl=5)
    cache.put("a", "apple")
    for _ in range(4):
        sim.run_for(3)
        assert cache.get("a") == "apple"
    assert cache.stats.touches == 4


def test_without_read_touch_a_hot_entry_still_expires(sim):
    """With read_touch_percent=0 reads leave the expiry alone: the entry dies 5 s after its write."""
    cache = TTLCache(sim.client(), ttl=5, read_touch_percent=0)
    cache.put("a", "apple")
    sim.run_for(3)
    assert cache.get("a") == "apple"
    sim.run_for(3)
    assert cache.get("a") is None and cache.stats.touches == 0


def test_partial_read_touch_touches_only_late_in_the_life(sim):
    """With read_touch_percent=50 a hit touches only in the last half of the entry's TTL."""
    client = sim.client()
    cache = TTLCache(client, ttl=10, read_touch_percent=50)
    cache.put("a", "apple")
    sim.run_for(2)
    cache.get("a")
    assert cache.stats.touches == 0 and client.get(cache.key("a"))[1]["ttl"] == 8
    sim.run_for(4)
    cache.get("a")
    assert cache.stats.touches == 1 and client.get(cache.key("a"))[1]["ttl"] == 10


def test_get_or_load_loads_once_then_hits(sim):
    """get_or_load calls the loader on a miss only, and caches what it returned."""
    cache, loads = TTLCache(sim.client(), ttl=10), []
    for _ in range(3):
        assert cache.get_or_load("a", lambda: loads.append(1) or "apple") == "apple"
    assert len(loads) == 1 and (cache.stats.hits, cache.stats.misses) == (2, 1)


# ---- locks ----------------------------------------------------------------------------------------


def test_fenced_lock_is_exclusive_while_the_lease_lasts(sim):
    """A second owner gets no token while the lease lives, and a larger token once it has expired."""
    a = lock.FencedLock(sim.client(), "job", "A", lease=2)
    b = lock.FencedLock(sim.client(), "job", "B", lease=2)
    token_a = a.acquire()
    assert token_a == 1 and b.acquire() is None
    sim.run_for(2.5)
    assert b.acquire() == 2


def test_renew_extends_only_our_own_lease(sim):
    """The holder's renew keeps the lock past the first lease; after it expired and changed hands, renew fails."""
    a = lock.FencedLock(sim.client(), "job", "A", lease=2)
    b = lock.FencedLock(sim.client(), "job", "B", lease=2)
    a.acquire()
    sim.run_for(1.5)
    assert a.renew()
    sim.run_for(1.5)
    assert b.acquire() is None
    sim.run_for(1.0)
    assert b.acquire() is not None and not a.renew()


def test_release_frees_the_lock_only_for_its_holder(sim):
    """release by the holder frees the lock at once; a stale holder's release leaves the new holder's lease alone."""
    a = lock.FencedLock(sim.client(), "job", "A", lease=2)
    b = lock.FencedLock(sim.client(), "job", "B", lease=2)
    a.acquire()
    assert a.release() and b.acquire() is not None
    a.token = 1  # A believes it still holds its old lease
    assert not a.release() and b.held() is not None


def test_guarded_write_refuses_a_lower_token(sim):
    """The resource takes tokens 5, 7 and 7 again, and refuses 6, keeping the value written with 7."""
    client, key = sim.client(), ("test", "files", "f")
    results = [lock.guarded_write(client, key, f"v{t}", t) for t in (5, 7, 6, 7)]
    assert results == [True, True, False, True]
    assert client.get(key)[2] == {"value": "v7", "token": 7}


@pytest.mark.parametrize("story", list(ex7.STORIES))
def test_fenced_lock_refuses_the_stale_holder(story):
    """In every story (pause, partition, cut after read) B's write survives and A's late writes are refused."""
    told = ex7.STORIES[story](*FENCED, seed=SEED)
    assert told.final == "B1", told
    assert not any(step.ok for step in told.writes("A")[1:]), told
    assert told.tokens["B"] > told.tokens["A"]


@pytest.mark.parametrize("story", ["pause", "partition"])
def test_naive_lock_lets_both_holders_write(story):
    """Under a paused or partitioned holder the naive lock lets A's late write overwrite B's."""
    told = ex7.STORIES[story](*NAIVE, seed=SEED)
    assert told.final == "A2", told
    assert any(step.ok for step in told.writes("B")), told


def test_pause_story_shows_two_holders_with_the_naive_lock():
    """In the naive pause story, A writes after B acquired the lock: two clients wrote as holders."""
    told = ex7.pause_story(*NAIVE, seed=SEED)
    b_acquired = next(s.t for s in told.steps if s.who == "B" and s.what == "acquire")
    assert [s.t > b_acquired for s in told.writes("A") if s.ok] == [False, True]


def test_a_story_replays_identically_with_its_seed():
    """The same story with the same seed tells the same steps at the same virtual times."""
    assert str(ex7.partition_story(*FENCED, seed=3)) == str(ex7.partition_story(*FENCED, seed=3))


# ---- counters ---------------------------------------------------------------------------------


def test_sharded_counter_sums_its_shards(sim):
    """100 adds from 3 clients spread over 8 shards, and value() sums them to 100."""
    counters = [ShardedCounter(sim.client(), "views", shards=8, rng=random.Random(i)) for i in range(3)]
    for i in range(100):
        counters[i % 3].add()
    shards = counters[0].shard_values()
    assert sum(shards) == 100 == counters[1].value()
    assert sum(1 for n in shards if n) == 8


def test_sharded_counter_keys_fall_in_different_partitions():
    """The 8 shard keys of a counter hash to 8 different partitions."""
    counter = ShardedCounter(None, "views", shards=8)
    assert len({minikv.partition_id(minikv.calc_digest(*key)) for key in counter.keys()}) == 8


def test_stats_keep_count_sum_min_max_and_buckets(sim):
    """Recording 3, 1, 70 and 7 gives count 4, sum 81, min 1, max 70, and one value in each of four buckets."""
    stats = Stats(sim.client(), "latency", bounds=(1, 5, 10, 50))
    for value in (3, 1, 70, 7):
        stats.record(value)
    summary = stats.summary()
    assert (summary["count"], summary["sum"], summary["min"], summary["max"]) == (4, 81, 1, 70)
    assert summary["buckets"] == {"<=1": 1, "<=5": 1, "<=10": 1, "<=50": 0, ">50": 1}


def test_stats_min_max_retry_when_another_writer_gets_in_first(sim):
    """When another writer changes the record between record()'s operate and its min/max put, the put
    is refused by its generation check and retried, so neither writer's extreme is lost."""
    client = sim.client()
    other = Stats(client, "lat")

    class Meddler:
        """The client, except that before its first put another writer records a new maximum."""

        def __init__(self) -> None:
            self.meddled = False

        def __getattr__(self, name):
            return getattr(client, name)

        def put(self, *args, **kwargs):
            if not self.meddled:
                self.meddled = True
                other.record(500)
            return client.put(*args, **kwargs)

    other.record(10)
    Stats(Meddler(), "lat").record(1)  # a new minimum; its put meets the meddler's new maximum
    summary = other.summary()
    assert (summary["min"], summary["max"], summary["count"]) == (1, 500, 3)
