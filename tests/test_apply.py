"""The applier's rules, against an in-memory cloud (tests/helpers.py): no HTTP."""

from __future__ import annotations

import pytest
from helpers import Box, FakeCloud, Shelf, apply_plan, converge, plan_of, temp_store

from mldns.errors import UnsafePlanError
from mldns.stack import Stack


@pytest.fixture
def store(tmp_path):
    return temp_store(tmp_path)


def two_shelves(region: str = "r1") -> Stack:
    stack = Stack("fake")
    for name in ("a", "b"):
        shelf = stack.add(Shelf(name, region=region if name == "a" else "r1"))
        for i in range(3):
            stack.add(Box(shelf, f"{name}{i}"))
    return stack


def position(cloud: FakeCloud, op: str, address: str) -> int:
    return cloud.writes.index((op, address))


def test_creations_follow_what_they_use_and_state_records_all(store) -> None:
    cloud = FakeCloud()
    result = converge(two_shelves(), cloud, store)
    assert result.ok and len(result.done) == 8
    for name in ("a", "b"):
        shelf = position(cloud, "create", f"fake.Shelf.{name}")
        assert all(
            position(cloud, "create", f"fake.Box.{name}/{name}{i}") > shelf for i in range(3)
        )
    state = store.read()
    assert set(state.resources) == set(cloud.objects)
    assert state.resources["fake.Box.a/a0"]["depends_on"] == ["fake.Shelf.a"]
    assert not plan_of(two_shelves(), cloud, store).has_changes


def test_deletions_run_after_the_deletion_of_what_uses_them(store) -> None:
    cloud = FakeCloud()
    converge(two_shelves(), cloud, store)
    cloud.writes.clear()
    result = converge(Stack("fake"), cloud, store)
    assert result.ok and cloud.objects == {}
    for name in ("a", "b"):
        shelf = position(cloud, "delete", f"fake.Shelf.{name}")
        assert all(
            position(cloud, "delete", f"fake.Box.{name}/{name}{i}") < shelf for i in range(3)
        )
    assert store.read().resources == {}


def test_a_replaced_parent_comes_back_with_its_children(store) -> None:
    cloud = FakeCloud()
    converge(two_shelves(), cloud, store)
    cloud.writes.clear()
    result = converge(two_shelves(region="r2"), cloud, store)
    assert result.ok
    replaced = position(cloud, "create", "fake.Shelf.a")
    assert position(cloud, "delete", "fake.Shelf.a") < replaced
    assert all(position(cloud, "create", f"fake.Box.a/a{i}") > replaced for i in range(3))
    assert not any(address.startswith("fake.Box.b/") for _, address in cloud.writes)
    assert cloud.objects["fake.Shelf.a"]["region"] == "r2" and len(cloud.objects) == 8
    assert not plan_of(two_shelves(region="r2"), cloud, store).has_changes


def test_a_failed_unit_skips_its_dependants_while_independent_units_finish(store) -> None:
    cloud = FakeCloud(fail={"fake.Shelf.a"})
    result = converge(two_shelves(), cloud, store)
    assert [key for key, _ in result.failed] == ["fake:fake.Shelf.a"]
    assert "the fake cloud refuses it" in result.failed[0][1]
    assert sorted(result.skipped) == [f"fake:fake.Box.a/a{i}" for i in range(3)]
    assert sorted(result.done) == [
        "fake:fake.Box.b/b0",
        "fake:fake.Box.b/b1",
        "fake:fake.Box.b/b2",
        "fake:fake.Shelf.b",
    ]
    assert set(store.read().resources) == {"fake.Shelf.b", *(f"fake.Box.b/b{i}" for i in range(3))}
    cloud.fail.clear()  # the next run finishes the rest
    assert set(a.address for a in plan_of(two_shelves(), cloud, store).actions) == {
        "fake.Shelf.a",
        *(f"fake.Box.a/a{i}" for i in range(3)),
    }


def test_adopt_and_forget_change_state_without_a_write(store) -> None:
    cloud = FakeCloud()
    cloud.objects["fake.Shelf.a"] = {"name": "a", "region": "r1", "note": ""}
    stack = Stack("fake")
    stack.add(Shelf("a"))
    assert converge(stack, cloud, store).ok
    assert cloud.writes == [] and set(store.read().resources) == {"fake.Shelf.a"}
    del cloud.objects["fake.Shelf.a"]
    plan = plan_of(Stack("fake"), cloud, store)
    assert [a.op for a in plan.actions] == ["forget"]
    assert apply_plan(plan, cloud, store).ok
    assert cloud.writes == [] and store.read().resources == {}


def test_a_resource_that_differs_is_not_taken_over_without_adopt(store) -> None:
    cloud = FakeCloud()
    cloud.objects["fake.Shelf.a"] = {"name": "a", "region": "r1", "note": "theirs"}
    stack = Stack("fake")
    stack.add(Shelf("a"))
    with pytest.raises(UnsafePlanError, match="^fake.Shelf.a exists but differs from the"):
        converge(stack, cloud, store)
    assert cloud.writes == [] and store.read() is None


def test_many_that_differ_are_counted_and_a_few_named(store) -> None:
    cloud = FakeCloud()
    stack = Stack("fake")
    for name in "abcde":
        cloud.objects[f"fake.Shelf.{name}"] = {"name": name, "region": "r1", "note": "theirs"}
        stack.add(Shelf(name))
    with pytest.raises(UnsafePlanError) as caught:
        converge(stack, cloud, store)
    assert str(caught.value).startswith(
        "5 resources exist but differ from the declaration and are not managed yet "
        "(fake.Shelf.a, fake.Shelf.b, fake.Shelf.c and 2 more); apply with --adopt"
    )
    assert cloud.writes == [] and store.read() is None
