"""The plan's views: nested diffs, the four renderers, and golden files of a plan holding every
kind of action. Regenerate the goldens with MLDNS_UPDATE_GOLDEN=1 after a deliberate change."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from plan_fixture import every_action_plan, many_creates_plan, rs

from mldns.dns import RecordSet
from mldns.iam import ProjectIamBinding
from mldns.plan import Action, Plan
from mldns.render import render_html, render_json, render_markdown, render_text
from mldns.render.diff import diff, leaves, natural_key, natural_key_for
from mldns.render.markdown import COMMENT_LIMIT

RECORDS = RecordSet.list_items

GOLDEN = Path(__file__).parent / "golden"
VIEWS = {
    "plan.txt": lambda p: render_text(p) + "\n",
    "plan-verbose.txt": lambda p: render_text(p, verbose=True) + "\n",
    "plan-compact.txt": lambda p: render_text(p, compact=True) + "\n",
    "plan.json": lambda p: render_json(p) + "\n",
    "plan.md": render_markdown,
    "plan.html": lambda p: render_html(p, page=True),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_golden(name: str) -> None:
    rendered = VIEWS[name](every_action_plan())
    path = GOLDEN / name
    if os.environ.get("MLDNS_UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8"), (
        f"{name} changed; if on purpose: MLDNS_UPDATE_GOLDEN=1 pytest tests/test_render.py"
    )


@pytest.mark.parametrize("name", ["plan.txt", "plan.json", "plan.md", "plan.html"])
def test_every_view_carries_what_the_text_view_says(name: str) -> None:
    out = VIEWS[name](every_action_plan())
    if name.endswith(".html"):
        out = out.replace("&quot;", '"')
    if name.endswith(".json"):
        out = out.replace('\\"', '"')
        pending = json.loads(VIEWS[name](every_action_plan()))
        assert pending["outputs_after_apply"] == ["stage_servers"]
        assert {c["name"] for c in pending["output_changes"]} == {
            "owner",
            "stage_servers",
            "legacy",
        }
    for must in (
        "deletes zone dns.ManagedZone.old-zone",  # destructive reason
        "weights do not sum to 1",  # warning
        "loses roles/dns.admin: user:alice@example.com",  # IAM loss
        "changed outside mldns since the last apply",  # drift
        "cannot change in place differs: replaced",  # replacement cause
        "already gone from the cloud",  # forget
        "exists and matches",  # adopt
        "stage_servers",  # an output the plan changes
        'routingPolicy.geo.items["europe-west4"].rrdatas',
    ):
        assert must in out, f"{name} lacks {must!r}"
    if name != "plan.json":
        assert "2 unmanaged record sets" in out or "2 in ml-zone" in out


def test_outputs_that_apply_changes_are_listed() -> None:
    text = render_text(every_action_plan())
    assert 'output owner: "ml-infra" -> "ml-platform"' in text
    assert "output stage_servers: " in text and "(known after apply: " in text
    assert 'output legacy: "old" -> (removed)' in text
    assert "output name_servers" not in text  # from a zone that stays: unchanged


def test_geo_items_are_matched_by_location() -> None:
    before = {"items": [{"location": "a", "rrdatas": ["1"]}, {"location": "b", "rrdatas": ["2"]}]}
    after = {"items": [{"location": "b", "rrdatas": ["3"]}]}
    got = [(c.where, c.op) for c in diff({"geo": before}, {"geo": after}, lists=RECORDS)]
    assert got == [('geo.items["a"]', "remove"), ('geo.items["b"].rrdatas', "change")]


def test_weighted_items_are_matched_by_their_data() -> None:
    def wrr(*items: tuple[float, str]) -> dict:
        return {"wrr": {"items": [{"weight": w, "rrdatas": [d]} for w, d in items]}}

    changes = diff(
        wrr((0.7, "10.1.0.10"), (0.3, "10.1.0.11")),
        wrr((0.6, "10.1.0.10"), (0.4, "10.1.0.11")),
        lists=RECORDS,
    )
    assert [(c.where, c.before, c.after) for c in changes] == [
        ('wrr.items["10.1.0.10"].weight', 0.7, 0.6),
        ('wrr.items["10.1.0.11"].weight', 0.3, 0.4),
    ]


def test_iam_members_are_matched_by_member() -> None:
    before = {"role": "roles/x", "members": ["user:a@x.com", "user:b@x.com"]}
    after = {"role": "roles/x", "members": ["user:b@x.com", "user:c@x.com"]}
    assert [(c.where, c.op) for c in diff(before, after, lists=ProjectIamBinding.list_items)] == [
        ('members["user:a@x.com"]', "remove"),
        ('members["user:c@x.com"]', "add"),
    ]


def test_primary_backup_parts_have_paths_of_their_own() -> None:
    def policy(primary: str, backup: str) -> dict:
        return {
            "primaryBackup": {
                "primaryTargets": {"externalEndpoints": [primary]},
                "backupGeoTargets": {"items": [{"location": "us-east1", "rrdatas": [backup]}]},
                "trickleTraffic": 0.1,
            }
        }

    changes = diff(policy("10.0.0.1", "10.0.0.2"), policy("10.0.0.1", "10.0.0.3"), lists=RECORDS)
    assert [c.where for c in changes] == [
        'primaryBackup.backupGeoTargets.items["us-east1"].rrdatas'
    ]


def test_short_lists_compare_whole_and_long_ones_item_by_item() -> None:
    assert [c.where for c in diff({"rrdatas": ["a"]}, {"rrdatas": ["b"]})] == ["rrdatas"]
    long = [f"10.0.0.{i}" for i in range(6)]
    assert [c.where for c in diff({"rrdatas": long}, {"rrdatas": long[1:]})] == [
        'rrdatas["10.0.0.0"]'
    ]


def test_names_sort_naturally() -> None:
    assert sorted(["big10", "big2", "big1", "a"], key=natural_key) == ["a", "big1", "big2", "big10"]
    assert natural_key("z0000/w12.x./A") == "z0040000/w00212.x./A"
    assert natural_key("no-digits") == "no-digits" and natural_key("7") == "0017"
    assert sorted(["w010", "w9", "w10"], key=natural_key) == ["w9", "w10", "w010"]
    text = render_text(every_action_plan())
    assert text.index("/big2.") < text.index("/big10.")


def test_texts_with_digits_in_the_same_places_sort_naturally_as_they_are() -> None:
    """The order `natural_key_for` chooses is `natural_key`'s for any texts, and it skips the
    regex only when every text has its digits in the same places."""
    same_places = [f"z{z:02d}/w{i:03d}.x./A" for z in (3, 10) for i in (7, 12, 400)]
    assert natural_key_for(same_places)("w7") == "w7"
    assert natural_key_for(["w9", "w10"]) is natural_key
    pick = random.Random(24)
    for _ in range(2000):
        texts = [
            "".join(pick.choice("ab0129٣.\udc80") for _ in range(pick.randint(0, 6)))
            for _ in range(pick.randint(0, 6))
        ]
        if pick.random() < 0.5:  # one shape, digits varied: the path that skips the regex
            shape = texts[0] if texts else ""
            texts = [
                "".join(pick.choice("0123456789") if c in "0129" else c for c in shape)
                for _ in texts
            ]
        key = natural_key_for(texts)
        assert sorted(texts, key=key) == sorted(texts, key=natural_key), texts


def test_creates_list_declared_fields_once_and_deletes_only_the_address() -> None:
    text = render_text(every_action_plan())
    block = text.split("dns.RecordSet.ml-zone/coordinator.ml.example.com./A\n", 1)[1]
    assert block.startswith('        ttl: 60\n        rrdatas: ["10.0.0.2"]\n')
    assert "(none)" not in text
    assert "name: " not in block.split("\n    ", 1)[0]  # the address already says it
    old = "dns.RecordSet.ml-zone/old.ml.example.com./A  # no longer declared\n"
    assert old + "  -/+" in text  # nothing under the delete
    verbose = render_text(every_action_plan(), verbose=True)
    assert old + '        ttl: 60\n        rrdatas: ["10.9.9.9"]\n' in verbose


def test_non_ascii_text_shows_as_itself() -> None:
    for out in (render_text(every_action_plan()), render_json(every_action_plan())):
        assert "Entraînement — équipe données" in out
        assert "\\u00ee" not in out


def test_a_big_group_is_summarised_with_its_count() -> None:
    plan = many_creates_plan(1000)
    text = render_text(plan)
    assert "+ 1,000 record sets to create in dns.ManagedZone.ml-zone" in text
    assert "worker-0.ml.example.com. ... worker-999.ml.example.com." in text
    assert len(text.splitlines()) < 10
    compact = render_text(plan, compact=True).splitlines()
    assert sum(1 for line in compact if line.startswith("    + ")) == 1000
    assert "ttl" not in "\n".join(compact)
    assert len(render_text(plan, verbose=True).splitlines()) > 3000


def test_markdown_stays_under_githubs_comment_limit_and_says_so() -> None:
    out = render_markdown(many_creates_plan(20_000), verbose=True)
    assert len(out) < COMMENT_LIMIT
    assert "shown as counts to stay under GitHub's comment limit" in out
    assert "20,000 to create" in out
    small = render_markdown(every_action_plan())
    assert "comment limit" not in small
    assert small.index("[!CAUTION]") < small.index("<details>")  # destructive first


def test_json_changes_carry_the_nested_paths() -> None:
    body = json.loads(render_json(every_action_plan()))
    changes = {c["address"]: c for c in body["changes"]}
    paths = changes[rs("ml-zone", "dataset")]["paths"]
    assert paths == [
        {
            "path": 'routingPolicy.geo.items["europe-west4"].rrdatas',
            "op": "change",
            "before": ["203.0.113.20"],
            "after": ["203.0.113.21"],
        }
    ]
    iam = changes["iam.ProjectIamBinding.roles/dns.admin"]["paths"]
    assert {(p["path"], p["op"]) for p in iam} == {
        ('members["user:alice@example.com"]', "remove"),
        ('members["user:bob@example.com"]', "add"),
    }


def test_html_is_one_self_contained_page() -> None:
    page = render_html(every_action_plan(), page=True)
    assert page.startswith("<!DOCTYPE html>")
    for external in ("<link", "<script", "src=", "url(", "http://", "@import"):
        assert external not in page
    assert page.count("<details") == 4  # one per group: zones, the zone's records, compute, iam


def test_leaves_name_list_items_without_repeating_their_identity() -> None:
    body = {"geo": {"items": [{"location": "eu", "rrdatas": ["1.2.3.4"]}]}}
    assert [(c.where, c.after) for c in leaves(body, lists=RECORDS)] == [
        ('geo.items["eu"].rrdatas', ["1.2.3.4"])
    ]
    weighted = {"wrr": {"items": [{"weight": 0.8, "rrdatas": ["10.1.0.10"]}]}}
    assert [(c.where, c.after) for c in leaves(weighted, lists=RECORDS)] == [
        ('wrr.items["10.1.0.10"].weight', 0.8)
    ]


def test_an_empty_plan_reads_no_changes_in_every_view() -> None:
    plan = Plan(stack="s", project="p", lineage=None, serial=0, actions=[])
    assert "No changes" in render_text(plan)
    assert "No changes" in render_markdown(plan)
    assert "No changes" in render_html(plan)
    assert json.loads(render_json(plan))["changes"] == []


def test_a_replace_shows_what_forces_it() -> None:
    action = Action(
        address="dns.ManagedZone.z",
        kind="dns.ManagedZone",
        op="replace",
        project="p",
        before={"name": "z", "dnsName": "a.example.com."},
        after={"name": "z", "dnsName": "b.example.com."},
    )
    text = render_text(Plan(stack="s", project="p", lineage=None, serial=0, actions=[action]))
    assert '~ dnsName: "a.example.com." -> "b.example.com."' in text
