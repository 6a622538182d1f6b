"""examples/sharded_training: a private training zone with generated shard records, planned and applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import make_workspace

from mldns.emulator import Emulator
from mldns.errors import StackFileError, UnsafePlanError
from mldns.stack import Stack, load_stack

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sharded_training" / "stack.py"
PROJECT = "ml-training"


def load(monkeypatch: pytest.MonkeyPatch, shards: int) -> Stack:
    monkeypatch.setenv("MLDNS_SHARDS", str(shards))
    monkeypatch.setenv("MLDNS_PROJECT", PROJECT)
    return load_stack(EXAMPLE)


def rrsets(emu: Emulator) -> dict[tuple[str, str], dict[str, Any]]:
    zone = emu.snapshot()["projects"][PROJECT]["zones"]["train-internal"]
    return {(r["name"], r["type"]): r for r in zone["rrsets"]}


def test_sharded_training_plans_and_applies(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = load(monkeypatch, 12)
    assert len(stack) == 1 + 1 + 12 + 1 + 2
    ws = make_workspace(stack, emu, tmp_path)
    plan = ws.plan()
    assert plan.counts() == {"create": 17}
    result = ws.apply()
    assert result.outputs == {"zone": "train.internal.", "shards": 12}

    live = rrsets(emu)
    shard_names = sorted(n for n, t in live if t == "A" and n.startswith("shard-"))
    assert len(shard_names) == 12
    assert shard_names[0] == "shard-00.data.train.internal."
    srv = live[("_shards._tcp.data.train.internal.", "SRV")]["rrdatas"]
    assert sorted(r.split()[-1] for r in srv) == shard_names
    weights = sorted(
        i["weight"] for i in live[("ps.train.internal.", "A")]["routingPolicy"]["wrr"]["items"]
    )
    assert weights == [0.1, 0.45, 0.45]
    ckpt = live[("ckpt.train.internal.", "A")]["routingPolicy"]["primaryBackup"]
    assert ckpt["primaryTargets"]["internalLoadBalancers"][0]["ipAddress"] == "10.10.9.5"
    zone = emu.snapshot()["projects"][PROJECT]["zones"]["train-internal"]["resource"]
    assert zone["visibility"] == "private"
    assert not ws.plan().has_changes


def test_shrinking_the_job_is_guarded_then_applied(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_workspace(load(monkeypatch, 16), emu, tmp_path).apply()
    ws = make_workspace(load(monkeypatch, 6), emu, tmp_path)
    plan = ws.plan()
    # Ten shard records go, the SRV list shrinks.
    assert plan.counts() == {"delete": 10, "update": 1}
    assert any("deletes or replaces 10 of 20" in r for r in plan.destructive())
    with pytest.raises(UnsafePlanError, match="allow-destructive"):
        ws.apply()
    assert len([k for k in rrsets(emu) if k[0].startswith("shard-")]) == 16
    ws.apply(allow_destructive=True)
    live = rrsets(emu)
    assert len([k for k in live if k[0].startswith("shard-")]) == 6
    assert len(live[("_shards._tcp.data.train.internal.", "SRV")]["rrdatas"]) == 6
    assert not ws.plan().has_changes


def test_the_documented_limit_of_shards_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """At most 100 shards, as the docstring says: the SRV record set names each one."""
    assert len(load(monkeypatch, 100)) == 1 + 1 + 100 + 1 + 2
    with pytest.raises(StackFileError, match="holds 101 records; a record set holds at most 100"):
        load(monkeypatch, 101)
