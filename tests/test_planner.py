"""The planner's rules, against an in-memory cloud (tests/helpers.py): no HTTP."""

from __future__ import annotations

import attrs
import pytest
from helpers import Box, FakeCloud, Shelf, converge, plan_of, temp_store

from mldns.errors import PlanFileError, StateError, UnsafePlanError, ValidationError
from mldns.plan import Plan, load_plan, save_plan
from mldns.stack import Stack


def shelves(region: str = "r1", boxes: int = 2, note: str = "", **box_options) -> Stack:
    stack = Stack("fake")
    shelf = stack.add(Shelf("a", region=region, note=note))
    for i in range(boxes):
        stack.add(Box(shelf, f"b{i}", **box_options))
    return stack


def ops(plan: Plan) -> dict[str, str]:
    return {a.address: a.op for a in plan.actions}


@pytest.fixture
def store(tmp_path):
    return temp_store(tmp_path)


def test_create_everything_declared_with_its_dependencies(store) -> None:
    plan = plan_of(shelves(), FakeCloud(), store)
    assert ops(plan) == {
        "fake.Shelf.a": "create",
        "fake.Box.a/b0": "create",
        "fake.Box.a/b1": "create",
    }
    box = next(a for a in plan.actions if a.address == "fake.Box.a/b0")
    assert box.depends_on == ("fake.Shelf.a",) and box.parent == "fake.Shelf.a"
    assert box.after == {"name": "b0", "size": 1, "label": ""} and box.before is None
    assert plan.lineage is None and plan.serial == 0


def test_nothing_to_do_once_converged(store) -> None:
    cloud = FakeCloud()
    converge(shelves(), cloud, store)
    again = plan_of(shelves(), cloud, store)
    assert not again.has_changes and again.serial > 0 and again.lineage


def test_a_changed_field_is_an_update_with_its_field_change(store) -> None:
    cloud = FakeCloud()
    converge(shelves(), cloud, store)
    plan = plan_of(shelves(note="tidy"), cloud, store)
    assert ops(plan) == {"fake.Shelf.a": "update"}
    assert plan.actions[0].field_changes() == [("note", "", "tidy")]
    assert plan.destructive() == []


def test_a_replaced_parent_recreates_its_children_changed_or_not(store) -> None:
    cloud = FakeCloud()
    converge(shelves(), cloud, store)
    stack = Stack("fake")
    shelf = stack.add(Shelf("a", region="r2"))
    stack.add(Box(shelf, "b0"))
    stack.add(Box(shelf, "b1", size=5))
    plan = plan_of(stack, cloud, store)
    assert ops(plan) == {
        "fake.Shelf.a": "replace",
        "fake.Box.a/b0": "create",
        "fake.Box.a/b1": "create",
    }
    assert {a.reason for a in plan.actions if a.op == "create"} == {"its shelf is replaced"}
    assert plan.destructive() == ["replaces shelf fake.Shelf.a"]


def test_undeclared_is_deleted_and_vanished_is_forgotten(store) -> None:
    cloud = FakeCloud()
    converge(shelves(boxes=3), cloud, store)
    del cloud.objects["fake.Box.a/b2"]
    plan = plan_of(shelves(boxes=1), cloud, store)
    assert ops(plan) == {"fake.Box.a/b1": "delete", "fake.Box.a/b2": "forget"}
    assert [a.op for a in plan.actions] == ["delete", "forget"]  # deletions are listed first


def test_declared_but_deleted_outside_is_created_again(store) -> None:
    cloud = FakeCloud()
    converge(shelves(), cloud, store)
    del cloud.objects["fake.Box.a/b0"]
    plan = plan_of(shelves(), cloud, store)
    assert ops(plan) == {"fake.Box.a/b0": "create"}
    assert plan.actions[0].reason == "deleted outside mldns; will be recreated"


def test_existing_and_matching_is_adopted_existing_and_different_needs_adopt(store) -> None:
    cloud = FakeCloud()
    cloud.objects["fake.Shelf.a"] = {"name": "a", "region": "r1", "note": ""}
    cloud.objects["fake.Box.a/b0"] = {"name": "b0", "size": 9, "label": ""}
    plan = plan_of(shelves(boxes=1), cloud, store)
    assert ops(plan) == {"fake.Shelf.a": "adopt", "fake.Box.a/b0": "update"}
    update = next(a for a in plan.actions if a.op == "update")
    assert update.needs_adopt and update.raw == {"reply": {"name": "b0", "size": 9, "label": ""}}
    assert plan.warnings == (
        "fake.Box.a/b0 exists but differs from the declaration; apply with --adopt to take it over",
    )


def test_a_protected_resource_is_never_planned_for_destruction(store) -> None:
    cloud = FakeCloud()
    stack = Stack("fake")
    stack.add(Shelf("a", protect=True))
    converge(stack, cloud, store)
    with pytest.raises(UnsafePlanError, match=r"fake.Shelf.a \(delete\)"):
        plan_of(Stack("fake"), cloud, store)


@pytest.mark.parametrize(
    ("managed", "kept", "destructive"),
    [
        (10, 7, False),  # 3 of 10: not more than 30%
        (10, 6, True),  # 4 of 10
        (9, 0, False),  # fewer than 10 managed: no threshold
        (20, 0, True),
    ],
)
def test_losing_many_children_of_a_parent_needs_consent(store, managed, kept, destructive) -> None:
    cloud = FakeCloud()
    converge(shelves(boxes=managed), cloud, store)
    plan = plan_of(shelves(boxes=kept), cloud, store)
    expected = [f"deletes or replaces {managed - kept} of {managed} managed boxes in fake.Shelf.a"]
    assert plan.destructive() == (expected if destructive else [])


def test_deleting_a_parent_is_destructive_on_its_own(store) -> None:
    cloud = FakeCloud()
    converge(shelves(boxes=0), cloud, store)
    assert plan_of(Stack("fake"), cloud, store).destructive() == ["deletes shelf fake.Shelf.a"]


def test_a_plan_survives_its_json_and_its_file(store, tmp_path) -> None:
    cloud = FakeCloud()
    converge(shelves(boxes=3), cloud, store)
    plan = plan_of(shelves(region="r2", boxes=2), cloud, store)
    assert plan.has_changes and plan.destructive()
    assert Plan.from_json(plan.to_json()) == plan
    save_plan(plan, tmp_path / "p.json")
    assert load_plan(tmp_path / "p.json") == plan


def test_a_kinds_stack_check_runs_as_resources_are_declared() -> None:
    stack = Stack("fake")
    shelf = stack.add(Shelf("a"))
    stack.add(Box(shelf, "b0", label="fragile"))
    with pytest.raises(ValidationError, match="is also used by fake.Box.a/b0"):
        stack.add(Box(shelf, "b1", label="fragile"))


def test_a_state_entry_is_checked_by_its_kind(store) -> None:
    cloud = FakeCloud()
    converge(shelves(boxes=1), cloud, store)
    text = store.path.read_text()
    store.path.write_text(text.replace('"parent": "fake.Shelf.a"', '"parent": null'))
    with pytest.raises(StateError, match=r"resource fake.Box.a/b0 names no shelf \(parent\)"):
        temp_store(store.directory).read()


def test_a_plan_is_data_and_one_read_back_has_no_workspace(store) -> None:
    cloud = FakeCloud()
    plan = plan_of(shelves(), cloud, store)
    fields = {field.name for field in attrs.fields(Plan)}
    assert not fields & {"workspace", "calls", "retries", "clients"}
    assert plan.destructive_reasons == () and plan.to_json()["destructive"] == []
    with pytest.raises(PlanFileError, match=r"apply it with Workspace.apply\(plan\)"):
        Plan.from_json(plan.to_json()).apply()
