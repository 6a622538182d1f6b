"""The provider contract (`mldns.providers.base.Provider`): what every provider gets for free."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from helpers import FakeCloud, FakeProvider

from mldns import kinds
from mldns.plan import Action
from mldns.providers.base import ActionFailed, ApplyContext, Provider
from mldns.providers.registry import build_providers


def action(op: str, address: str = "fake.Shelf.a", **fields: Any) -> Action:
    body = {"name": address.rsplit(".", 1)[-1], "region": "r1", "note": ""}
    return Action(
        address=address,
        kind="fake.Shelf",
        op=op,  # type: ignore[arg-type]
        project="p",
        before=None if op == "create" else body,
        after=None if op in ("delete", "forget") else body,
        **fields,
    )


def context(commits: list[dict[str, Any]], adopt: bool = False) -> ApplyContext:
    return ApplyContext(clients=SimpleNamespace(), commit=commits.append, adopt=adopt)  # type: ignore[arg-type]


def test_a_unit_needing_adopt_is_refused_before_any_call_or_commit() -> None:
    cloud = FakeCloud()
    commits: list[dict[str, Any]] = []
    unit = [action("create", "fake.Shelf.b"), action("update", needs_adopt=True)]
    with pytest.raises(ActionFailed, match="fake.Shelf.a: exists but .* apply with --adopt"):
        FakeProvider(cloud).execute(unit, context(commits))
    assert cloud.writes == [] and commits == []
    FakeProvider(cloud).execute(unit, context(commits, adopt=True))
    assert cloud.writes == [("create", "fake.Shelf.b"), ("update", "fake.Shelf.a")]


def test_adoptions_and_forgettings_are_recorded_in_one_write_without_a_call() -> None:
    cloud = FakeCloud()
    commits: list[dict[str, Any]] = []
    unit = [action("adopt"), action("forget", "fake.Shelf.gone"), action("create", "fake.Shelf.c")]
    FakeProvider(cloud).execute(unit, context(commits))
    assert cloud.writes == [("create", "fake.Shelf.c")]
    assert commits[0].keys() == {"fake.Shelf.a", "fake.Shelf.gone"}  # first, and together
    assert commits[0]["fake.Shelf.gone"] is None
    assert commits[0]["fake.Shelf.a"]["attributes"] == unit[0].after


def test_polling_stops_at_the_call_deadline() -> None:
    provider = FakeProvider(FakeCloud())
    provider.clients = SimpleNamespace(timeout=0.2)  # type: ignore[assignment]
    reads: list[int] = []

    def again(n: int) -> int:
        reads.append(n)
        return n + 1

    assert provider.poll(0, lambda n: n == 3, again, "late", first=0.0) == 3
    assert reads == [0, 1, 2]
    with pytest.raises(ActionFailed, match="^late$"):
        provider.poll(0, lambda n: False, again, "late")
    assert len(reads) < 12  # backed off, not spun: 0.05 + 0.1 + 0.2 s, then past the deadline


def test_every_shipped_kind_has_one_provider_of_the_contract() -> None:
    providers = build_providers(SimpleNamespace())  # type: ignore[arg-type]
    assert all(isinstance(p, Provider) for p in providers)
    served = [kind for p in providers for kind in p.kinds]
    assert len(served) == len(set(served))
    shipped = {k for k in kinds.names() if kinds.lookup(k).__module__.startswith("mldns.")}  # type: ignore[union-attr]
    assert set(served) == shipped
    assert all(p.bulk_kinds <= p.kinds for p in providers)
