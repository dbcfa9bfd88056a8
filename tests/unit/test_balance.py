"""Partition balance (minikv.core.balance.plan_partition): for one partition in a new view, who
masters it, who serves it meanwhile, and which copies must move (Aerospike's lead migrations to the
final master, fills from it, witnesses dropping their copy, duplicates to resolve).
"""

from __future__ import annotations

from minikv.core.balance import Copy, plan_partition

OLD, NEW, OTHER = 0xA1, 0xB2, 0xC3  # cluster keys: a previous view, the new one, another side's
ROW = ("n3", "n1", "n2", "n4")  # the partition's succession row in the new view


def full(ckey: int = OLD, holders: tuple[str, ...] = ("n3", "n1")) -> Copy:
    return Copy(ckey, True, holders)


def test_nobody_holds_it_so_it_starts_fresh() -> None:
    """A partition nobody holds gets a fresh empty version: the final master serves at once,
    nothing migrates (Aerospike's "fresh-partitions")."""
    plan = plan_partition(7, ROW, 2, {}, NEW)
    assert plan.replicas == ("n3", "n1")
    assert (plan.final_master, plan.working_master, plan.version) == ("n3", "n3", NEW)
    assert not plan.migrating and plan.sources == plan.witnesses == plan.duplicates == ()


def test_replicas_already_in_sync_need_no_migration() -> None:
    """When exactly the new replicas hold the same version, it is kept and nothing moves."""
    copies = {"n3": full(), "n1": full()}
    plan = plan_partition(7, ROW, 2, copies, NEW)
    assert plan.version == OLD and plan.working_master == "n3"
    assert not plan.migrating and plan.duplicates == ()


def test_new_final_master_gathers_from_the_old_holder() -> None:
    """A final master without data leaves the first holder in the row as working master, which
    leads the migration to it; then the final master fills the replica that lacks the data."""
    copies = {"n2": full(holders=("n2", "n4")), "n4": full(holders=("n2", "n4"))}
    plan = plan_partition(7, ROW, 2, copies, NEW)
    assert plan.final_master == "n3" and plan.working_master == "n2"
    assert plan.sources == ("n2",)
    assert plan.fills == ("n1",)
    assert plan.witnesses == ("n2", "n4")  # non-replicas holding data drop it when told
    assert plan.duplicates == ()


def test_a_replica_holding_the_version_is_not_filled() -> None:
    """With one version, a replica that already holds it stays in sync (writes keep reaching it)."""
    copies = {"n1": full(holders=("n1", "n2")), "n2": full(holders=("n1", "n2"))}
    plan = plan_partition(7, ROW, 2, copies, NEW)
    assert plan.working_master == "n1" and plan.sources == ("n1",)
    assert plan.fills == ()
    assert plan.witnesses == ("n2",)


def test_a_lost_holder_forks_the_version() -> None:
    """If an expected holder of the version is outside the view (dead, or across a split), it may
    still write, so this view's copies take the new cluster key as their version."""
    copies = {"n3": full(holders=("n3", "n9"))}  # n9 is not in the row: it left
    plan = plan_partition(7, ROW, 2, copies, NEW)
    assert plan.version == NEW
    assert plan.working_master == "n3" and plan.sources == ()
    assert plan.fills == ("n1",)


def test_two_versions_are_duplicates_merged_into_the_final_master() -> None:
    """After a split heals, each version's first holder sends to the final master (except the
    version the final master already has), every other replica is filled with the merged data,
    and the working master consults the other version's holders before writing."""
    copies = {"n3": full(OLD, ("n3",)), "n2": full(OTHER, ("n2",))}
    plan = plan_partition(7, ROW, 2, copies, NEW)
    assert plan.version == NEW
    assert plan.working_master == "n3"
    assert plan.sources == ("n2",)
    assert plan.fills == ("n1",)
    assert plan.duplicates == ("n2",)


def test_incomplete_copies_count_only_when_nothing_is_full() -> None:
    """A copy still immigrating (not full) is ignored while a full copy exists elsewhere."""
    copies = {"n3": Copy(OLD, False, ("n3", "n1")), "n2": full(OLD, ("n2", "n4"))}
    plan = plan_partition(7, ROW, 2, copies, NEW)
    assert plan.working_master == "n2" and plan.sources == ("n2",)
    only_partial = plan_partition(7, ROW, 2, {"n1": Copy(OLD, False, ("n3", "n1"))}, NEW)
    assert only_partial.working_master == "n1" and only_partial.sources == ("n1",)


def test_replication_factor_caps_the_replicas() -> None:
    """The replicas are the first RF nodes of the row."""
    assert plan_partition(7, ROW, 3, {}, NEW).replicas == ("n3", "n1", "n2")
    assert plan_partition(7, ROW[:1], 1, {}, NEW).replicas == ("n3",)


def test_every_member_gets_the_same_plan() -> None:
    """The plan is a pure function of its inputs: computing it twice gives equal plans."""
    copies = {"n3": full(OLD, ("n3",)), "n2": full(OTHER, ("n2",)), "n4": full(OTHER, ("n2", "n4"))}
    assert plan_partition(7, ROW, 2, copies, NEW) == plan_partition(7, ROW, 2, dict(reversed(copies.items())), NEW)
