"""Guardrails as code: the built-in pack, custom rules, exceptions, and where they show.

The built-in rules are judged offline over a stack (as `mldns check` does); the engine's own
behaviour (filters, exceptions, failures, blocking an apply) over the in-memory fake provider;
the command line in-process through `run_cli` against the local emulator.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import Box, FakeCloud, FakeProvider, Shelf, plan_of, run_cli, temp_store

import mldns
from mldns import dns, iam
from mldns.clients import Clients
from mldns.errors import RulesViolated
from mldns.plan import Plan
from mldns.providers.registry import build_providers
from mldns.render import render_html, render_json, render_markdown, render_text
from mldns.rules import Book, RulesError, collecting, evaluate, judge_offline, load_rules_file
from mldns.rules.evaluate import judge
from mldns.rules.view import answers_of, build_view

TRAIN = "projects/p/global/networks/train"


def _stack() -> tuple[mldns.Stack, Any, Any]:
    stack = mldns.Stack("rules", project="p")
    public = stack.add(dns.ManagedZone(name="pub", dns_name="example.com."))
    private = stack.add(
        dns.ManagedZone(
            name="priv", dns_name="corp.example.com.", visibility="private", networks=[TRAIN]
        )
    )
    return stack, public, private


def _found(stack: mldns.Stack, *ids: str, **options: Any) -> list[tuple[str, str, str]]:
    book = Book()
    with collecting(book):
        mldns.use(*ids, **options)
    judged = judge_offline(stack, book)
    return [(v.rule, v.level, v.address) for v in judged.violations]


def _record(zone: Any, name: str, rtype: str = "A", **kw: Any) -> dns.RecordSet:
    kw.setdefault("ttl", 300)
    return dns.RecordSet(zone=zone, name=name, type=rtype, **kw)


# --- the built-in pack ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ip",
    ["10.1.2.3", "172.16.0.9", "192.168.1.1", "100.64.0.1", "127.0.0.1", "169.254.1.1", "fd00::1"],
)
def test_public_answer_private_address_fires_on_each_private_range(ip: str) -> None:
    stack, public, _ = _stack()
    rtype = "AAAA" if ":" in ip else "A"
    stack.add(_record(public, "db", rtype, rrdatas=[ip]))
    assert _found(stack, "public-answer-private-address") == [
        ("public-answer-private-address", "mandatory", f"dns.RecordSet.pub/db.example.com./{rtype}")
    ]


def test_public_answer_private_address_is_quiet_for_public_data_and_private_zones() -> None:
    stack, public, private = _stack()
    stack.add(_record(public, "www", rrdatas=["203.0.113.5"]))
    stack.add(_record(private, "db", rrdatas=["10.0.0.5"]))  # a private zone answers the inside
    assert _found(stack, "public-answer-private-address") == []


def test_public_answer_private_address_sees_a_backup_that_answers_only_when_a_target_is_down() -> (
    None
):
    stack, public, _ = _stack()
    hc = stack.add(mldns.compute.HealthCheck(name="hc", port=80))
    stack.add(
        _record(
            public,
            "api",
            routing=dns.Failover(
                primary=["203.0.113.7"], backup={"us-central1": ["10.9.9.9"]}, health_check=hc
            ),
        )
    )
    book = Book()
    with collecting(book):
        mldns.use("public-answer-private-address")
    (found,) = judge_offline(stack, book).violations
    assert found.address == "dns.RecordSet.pub/api.example.com./A"
    assert "10.9.9.9" in found.message and "203.0.113.7 down" in found.message


def test_public_answer_private_address_on_a_geo_item_from_its_region() -> None:
    stack, public, _ = _stack()
    routing = dns.Geo({"us-central1": ["203.0.113.10"], "europe-west4": ["192.168.7.7"]})
    stack.add(_record(public, "data", routing=routing))
    assert [a for _, _, a in _found(stack, "public-answer-private-address")] == [
        "dns.RecordSet.pub/data.example.com./A"
    ]
    stack2, public2, _ = _stack()
    routing2 = dns.Geo({"us-central1": ["203.0.113.10"], "europe-west4": ["203.0.113.20"]})
    stack2.add(_record(public2, "data", routing=routing2))
    assert _found(stack2, "public-answer-private-address") == []


def test_public_zone_unsigned_fires_on_an_unsigned_public_zone_only() -> None:
    stack, _, _ = _stack()  # pub is unsigned; priv is private and cannot be signed
    assert _found(stack, "public-zone-unsigned") == [
        ("public-zone-unsigned", "advisory", "dns.ManagedZone.pub")
    ]


def test_public_zone_unsigned_is_quiet_for_a_signed_zone() -> None:
    stack = mldns.Stack("signed", project="p")
    private = dns.ManagedZone(name="priv", dns_name="in.example.com.", visibility="private")
    stack.add(private)
    signed = _signed_zone()
    stack.add(signed)
    assert _found(stack, "public-zone-unsigned") == []


def _signed_zone() -> dns.ManagedZone:
    """A signed public zone, in whichever form the kind takes DNSSEC."""
    if hasattr(dns, "Dnssec"):
        return dns.ManagedZone(name="pub", dns_name="example.com.", dnssec=dns.Dnssec(state="on"))
    return dns.ManagedZone(name="pub", dns_name="example.com.", dnssec=True)


def test_ttl_bounds_fires_outside_the_configured_bounds_and_not_inside() -> None:
    stack, public, _ = _stack()
    stack.add(_record(public, "fast", ttl=5, rrdatas=["203.0.113.1"]))
    stack.add(_record(public, "ok", ttl=300, rrdatas=["203.0.113.2"]))
    stack.add(_record(public, "slow", ttl=7200, rrdatas=["203.0.113.3"]))
    assert [a for _, _, a in _found(stack, "ttl-bounds")] == [
        "dns.RecordSet.pub/fast.example.com./A"
    ]
    found = _found(stack, "ttl-bounds", level="mandatory", min=60, max=3600)
    assert found == [
        ("ttl-bounds", "mandatory", "dns.RecordSet.pub/fast.example.com./A"),
        ("ttl-bounds", "mandatory", "dns.RecordSet.pub/slow.example.com./A"),
    ]


def test_ttl_bounds_sees_table_rows() -> None:
    stack, public, _ = _stack()
    stack.add(
        dns.RecordTable(zone=public, name="workers", type="A", ttl=1, records={"w0": "203.0.113.9"})
    )
    assert [a for _, _, a in _found(stack, "ttl-bounds")] == ["dns.RecordSet.pub/w0.example.com./A"]


def test_ttl_bounds_refuses_bounds_that_make_no_sense() -> None:
    with pytest.raises(RulesError, match="min <= max"), collecting(Book()):
        mldns.use("ttl-bounds", min=600, max=60)


def test_cname_dangling_fires_on_a_missing_target_in_a_managed_zone() -> None:
    stack, public, _ = _stack()
    stack.add(_record(public, "alias", "CNAME", rrdatas=["gone.example.com."]))
    stack.add(_record(public, "away", "CNAME", rrdatas=["cdn.other.net."]))  # not ours to judge
    assert [a for _, _, a in _found(stack, "cname-dangling")] == [
        "dns.RecordSet.pub/alias.example.com./CNAME"
    ]


def test_cname_dangling_is_quiet_when_the_target_exists_or_a_wildcard_answers() -> None:
    stack, public, _ = _stack()
    stack.add(_record(public, "www", rrdatas=["203.0.113.5"]))
    stack.add(_record(public, "alias", "CNAME", rrdatas=["www.example.com."]))
    stack.add(_record(public, "*.w", rrdatas=["203.0.113.6"]))
    stack.add(_record(public, "alias2", "CNAME", rrdatas=["x.w.example.com."]))
    assert _found(stack, "cname-dangling") == []


def test_cname_loop_fires_on_a_chain_that_comes_back_and_nowhere_else() -> None:
    stack, public, private = _stack()
    stack.add(_record(public, "ping", "CNAME", rrdatas=["pong.example.com."]))
    stack.add(_record(public, "pong", "CNAME", rrdatas=["ping.example.com."]))
    stack.add(_record(public, "www", rrdatas=["203.0.113.5"]))
    stack.add(_record(public, "alias", "CNAME", rrdatas=["www.example.com."]))
    stack.add(_record(public, "away", "CNAME", rrdatas=["cdn.other.net."]))
    stack.add(_record(private, "self", "CNAME", rrdatas=["self.corp.example.com."]))
    book = Book()
    with collecting(book):
        mldns.use("cname-loop")
    found = {v.address: (v.level, v.message) for v in judge_offline(stack, book).violations}
    assert found == {
        "dns.RecordSet.pub/ping.example.com./CNAME": (
            "mandatory",
            "its CNAME chain never reaches an address (ping.example.com. -> pong.example.com. "
            "-> ping.example.com.): clients get SERVFAIL",
        ),
        "dns.RecordSet.pub/pong.example.com./CNAME": (
            "mandatory",
            "its CNAME chain never reaches an address (pong.example.com. -> ping.example.com. "
            "-> pong.example.com.): clients get SERVFAIL",
        ),
        "dns.RecordSet.priv/self.corp.example.com./CNAME": (
            "mandatory",
            "its CNAME chain never reaches an address (self.corp.example.com. -> "
            "self.corp.example.com.): clients get SERVFAIL",
        ),
    }


def test_wildcard_record_fires_on_a_wildcard_only() -> None:
    stack, public, _ = _stack()
    stack.add(_record(public, "*.jobs", rrdatas=["203.0.113.6"]))
    stack.add(_record(public, "jobs", rrdatas=["203.0.113.6"]))
    assert [a for _, _, a in _found(stack, "wildcard-record")] == [
        "dns.RecordSet.pub/*.jobs.example.com./A"
    ]


def test_project_dns_admin_fires_on_project_grants_of_dns_roles_but_reader() -> None:
    stack, _, _ = _stack()
    stack.add(iam.ProjectIamMember(role="roles/dns.admin", member="user:bob@example.com"))
    stack.add(iam.ProjectIamBinding(role="roles/dns.peer", members=["group:net@example.com"]))
    stack.add(iam.ProjectIamMember(role="roles/dns.reader", member="user:ann@example.com"))
    stack.add(iam.ProjectIamMember(role="roles/viewer", member="user:ann@example.com"))
    assert [a for _, _, a in _found(stack, "project-dns-admin")] == [
        "iam.ProjectIamMember.roles/dns.admin/user:bob@example.com",
        "iam.ProjectIamBinding.roles/dns.peer",
    ]


def test_server_policy_logging_off_fires_without_logging_and_not_with_it() -> None:
    stack, _, _ = _stack()
    stack.add(dns.Policy("quiet", networks=[TRAIN]))
    stack.add(dns.Policy("loud", networks=["projects/p/global/networks/other"], logging=True))
    assert [a for _, _, a in _found(stack, "server-policy-logging-off")] == ["dns.Policy.quiet"]


def test_use_names_an_unknown_built_in_rule_with_a_suggestion() -> None:
    with pytest.raises(RulesError, match="did you mean 'ttl-bounds'"), collecting(Book()):
        mldns.use("ttl-bound")


# --- the engine: filters, exceptions, failures ----------------------------------------------------


def _fake() -> tuple[mldns.Stack, Plan]:
    stack = mldns.Stack("fake")
    shelf = stack.add(Shelf(name="s1"))
    stack.add(Box(shelf=shelf, name="big", size=9))
    stack.add(Box(shelf=shelf, name="small", size=1))
    return stack, plan_of(stack, FakeCloud(), temp_store(Path("/nonexistent-never-written")))


def _judge(book: Book, stack: mldns.Stack, plan: Plan, today: datetime.date | None = None) -> Plan:
    return judge(plan, book, stack.resources, [FakeProvider(FakeCloud())], today)


def test_a_custom_rule_sees_its_kinds_and_blocks_the_plan(tmp_path: Path) -> None:
    stack, plan = _fake()
    book = Book()
    seen: list[str] = []
    with collecting(book):

        @mldns.rule("small-boxes", kinds=[Box])
        def small(plan: Any, answers: Any) -> Any:
            seen.extend(i.address for i in plan)
            for item in plan.actions:
                if item.after["size"] > 5:
                    yield item.address, f"size {item.after['size']} is over 5"

    judged = _judge(book, stack, plan)
    assert seen == ["fake.Box.s1/big", "fake.Box.s1/small"]  # no shelf: kinds narrow the view
    assert [v.text() for v in judged.violations] == [
        "[small-boxes] fake.Box.s1/big: size 9 is over 5"
    ]
    assert judged.blocked == list(judged.violations)


def test_an_advisory_rule_is_counted_and_does_not_block() -> None:
    stack, plan = _fake()
    book = Book()
    with collecting(book):
        mldns.rule("any-box", level="advisory", kinds=["fake.Box"])(
            lambda plan, answers: [(i.address, "a box") for i in plan]
        )
    judged = _judge(book, stack, plan)
    assert len(judged.violations) == 2 and judged.blocked == []
    assert render_text(judged).splitlines()[-1].endswith("Rules: 2 advisory.")


def test_an_exception_allows_until_it_expires() -> None:
    stack, plan = _fake()
    book = Book()
    with collecting(book):
        mldns.rule("no-boxes", kinds=["fake.Box"])(
            lambda plan, answers: [(i.address, "a box") for i in plan]
        )
        mldns.allow("no-boxes", "fake.Box.s1/*", reason="legacy shelf", until="2027-03-01")
    before = _judge(book, stack, plan, datetime.date(2027, 3, 1))
    assert before.violations == ()
    after = _judge(book, stack, plan, datetime.date(2027, 3, 2))
    assert len(after.blocked) == 2
    assert "the exception 'legacy shelf' expired on 2027-03-01" in after.violations[0].message


def test_an_exception_for_a_rule_nobody_declared_is_refused() -> None:
    book = Book()
    with collecting(book):
        mldns.rule("no-boxes")(lambda plan, answers: [])
        mldns.allow("no-boxe", "x", reason="typo")
    with pytest.raises(RulesError, match="allow: no rule 'no-boxe'; did you mean 'no-boxes'"):
        book.check()


def test_an_exception_needs_a_reason_and_a_real_date() -> None:
    with collecting(Book()):
        with pytest.raises(RulesError, match="give the reason"):
            mldns.allow("r", "a", reason=" ")
        with pytest.raises(RulesError, match="not a date"):
            mldns.allow("r", "a", reason="x", until="next year")


def test_a_rule_that_raises_or_answers_nonsense_is_that_rules_error_and_blocks() -> None:
    stack, plan = _fake()
    book = Book()
    with collecting(book):
        mldns.rule("broken")(lambda plan, answers: 1 / 0)
        mldns.rule("chatty")(lambda plan, answers: "not a list")
        mldns.rule("odd")(lambda plan, answers: [("addr",)])
        mldns.rule("fine")(lambda plan, answers: None)
    judged = _judge(book, stack, plan)
    messages = {v.rule: v.message for v in judged.violations}
    assert set(messages) == {"broken", "chatty", "odd"}
    assert "ZeroDivisionError: division by zero" in messages["broken"]
    assert messages["chatty"] == "the rule returned str, not violations (address, message)"
    assert messages["odd"] == "the rule yielded ('addr',), not violations (address, message)"
    assert all(v.level == "error" and "\n" not in v.message for v in judged.violations)
    assert len(judged.blocked) == 3


def test_zones_narrow_a_rule_to_matching_zones() -> None:
    stack, public, private = _stack()
    stack.add(_record(public, "a", ttl=1, rrdatas=["203.0.113.1"]))
    stack.add(_record(private, "b", ttl=1, rrdatas=["10.0.0.1"]))
    book = Book()
    with collecting(book):

        @mldns.rule("corp-only", zones=["*.example.com."], kinds=[dns.RecordSet])
        def corp(plan: Any, answers: Any) -> Any:
            return [(r.address, "seen") for r in plan.records()]

    judged = judge_offline(stack, book)
    assert [v.address for v in judged.violations] == ["dns.RecordSet.priv/b.corp.example.com./A"]


def test_answers_resolve_from_a_network_through_its_private_zones_first() -> None:
    stack, public, private = _stack()
    stack.add(_record(public, "db.corp", rrdatas=["203.0.113.1"]))
    stack.add(_record(private, "db", rrdatas=["10.0.0.1"]))
    plan = Plan(stack.name, "p", None, 0, ())
    providers = build_providers(Clients("p"))
    by_kind = {k: p for p in providers for k in p.kinds}
    view = build_view(plan, stack.resources, lambda r: by_kind[r.kind].desired_body(r, "p"))
    answers = answers_of(view)
    inside = answers("db.corp.example.com.", "A", network="train")
    outside = answers("db.corp.example.com.", "A")
    assert inside is not None and inside.outcomes[0].data == ("10.0.0.1",)
    assert outside is not None and outside.outcomes[0].data == ("203.0.113.1",)
    assert answers("nothing.example.com.", "A") is None
    # A CNAME chain that loops answers nothing, as NXDOMAIN and NODATA do.
    stack.add(_record(public, "ping", "CNAME", rrdatas=["pong.example.com."]))
    stack.add(_record(public, "pong", "CNAME", rrdatas=["ping.example.com."]))
    view = build_view(plan, stack.resources, lambda r: by_kind[r.kind].desired_body(r, "p"))
    assert answers_of(view)("ping.example.com.", "A") is None


# --- where they show -------------------------------------------------------------------------------


def test_every_view_shows_the_violations_with_their_rule_ids() -> None:
    stack, plan = _fake()
    book = Book()
    with collecting(book):
        mldns.rule("no-big", kinds=[Box])(
            lambda plan, answers: [(i.address, "too big") for i in plan if i.body["size"] > 5]
        )
        mldns.rule("note", level="advisory", kinds=[Shelf])(
            lambda plan, answers: [(i.address, "a shelf") for i in plan]
        )
    judged = _judge(book, stack, plan)
    body = json.loads(render_json(judged))
    assert [(v["rule"], v["level"], v["address"]) for v in body["violations"]] == [
        ("no-big", "mandatory", "fake.Box.s1/big"),
        ("note", "advisory", "fake.Shelf.s1"),
    ]
    markdown = render_markdown(judged).splitlines()
    assert markdown[2].endswith("Rules: 1 mandatory violation, 1 advisory.**")
    assert markdown[4:7] == [
        "> [!CAUTION]",
        "> - Mandatory: [no-big] fake.Box.s1/big: too big",
        "> - Advisory: [note] fake.Shelf.s1: a shelf",
    ]
    assert "Mandatory: [no-big] fake.Box.s1/big: too big" in render_html(judged)
    assert "Mandatory: [no-big] fake.Box.s1/big: too big" in render_text(judged)
    # A saved plan keeps them (and so refuses to apply later).
    assert Plan.from_json(judged.to_json()).violations == judged.violations


STACK = """
import mldns
from mldns import dns

stack = mldns.Stack("guarded")
zone = stack.add(dns.ManagedZone(name="pub", dns_name="example.com."))
stack.add(dns.RecordSet(zone=zone, name="db", type="A", ttl=300, rrdatas=["{ip}"]))
{extra}
"""

IN_STACK_RULE = """
@mldns.rule("no-db", kinds=[dns.RecordSet])
def no_db(plan, answers):
    for record in plan.records():
        if record.body["name"].startswith("db."):
            yield record.address, "no db names in public"
"""

FILE_RULE = """
import mldns

@mldns.rule("ten-nets", kinds=["dns.RecordSet"])
def ten_nets(plan, answers):
    for record in plan.records():
        result = answers(record.body["name"], "A", from_region="us-central1")
        if result and any(d.startswith("10.") for o in result.outcomes for d in o.data):
            yield record.address, "answers a 10/8 address"
"""


def _write(tmp_path: Path, ip: str = "10.0.0.5", extra: str = "") -> str:
    path = tmp_path / "stack.py"
    path.write_text(STACK.format(ip=ip, extra=extra))
    return str(path)


def test_a_rule_in_the_stack_blocks_plan_and_apply_before_any_write(
    tmp_path: Path, capsys: Any
) -> None:
    stack_file = _write(tmp_path, extra=IN_STACK_RULE)
    state = str(tmp_path / "state")
    planned = run_cli(capsys, "plan", "--local", "--state-dir", state, stack_file)
    assert planned.code == 1
    assert (
        "Mandatory: [no-db] dns.RecordSet.pub/db.example.com./A: no db names in public"
        in planned.out
    )
    assert planned.err.splitlines()[-1] == (
        "Error: the plan breaks 1 rule (no-db); it cannot be applied"
    )
    applied = run_cli(
        capsys, "apply", "--local", "--auto-approve", "--state-dir", state, stack_file
    )
    assert applied.code == 1 and "[no-db]" in applied.err
    assert not (tmp_path / "state" / "guarded.json").exists()
    cloud = tmp_path / "state" / "local-cloud.json"
    assert not cloud.exists() or "example.com." not in cloud.read_text()


def test_a_rule_in_a_rules_file_blocks_apply_and_mldns_rules_adds_more(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "org.py"
    rules.write_text(FILE_RULE)
    state = str(tmp_path / "state")
    stack_file = _write(tmp_path)
    applied = run_cli(
        capsys,
        "apply",
        "--local",
        "--auto-approve",
        "--state-dir",
        state,
        "--rules",
        str(rules),
        stack_file,
    )
    assert applied.code == 1 and "[ten-nets]" in applied.err
    assert not (tmp_path / "state" / "guarded.json").exists()
    # Through MLDNS_RULES too; and a public address passes, and applies.
    monkeypatch.setenv("MLDNS_RULES", str(rules))
    assert run_cli(capsys, "plan", "--local", "--state-dir", state, stack_file).code == 1
    good = _write(tmp_path, ip="203.0.113.5")
    applied = run_cli(capsys, "apply", "--local", "--auto-approve", "--state-dir", state, good)
    assert applied.code == 0, applied.err
    assert (tmp_path / "state" / "guarded.json").exists()


def test_bad_rules_input_is_one_line_and_exit_1(tmp_path: Path, capsys: Any) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("import mldns\n\n@mldns.rule('x'\ndef f(plan, answers): pass\n")
    stack_file = _write(tmp_path, ip="203.0.113.5")
    state = str(tmp_path / "state")
    run = run_cli(
        capsys, "plan", "--local", "--state-dir", state, "--rules", str(broken), stack_file
    )
    assert run.code == 1
    assert run.err.strip().splitlines() == [
        f"Error: {broken}:3: syntax error: '(' was never closed"
    ]
    typo = _write(
        tmp_path,
        ip="203.0.113.5",
        extra="mldns.use('ttl-bounds')\nmldns.allow('ttl-bound', '*', reason='x')",
    )
    run = run_cli(capsys, "check", typo)
    assert run.code == 1
    assert run.err.strip() == "Error: allow: no rule 'ttl-bound'; did you mean 'ttl-bounds'?"
    assert not (tmp_path / "state" / "guarded.json").exists()


def test_check_counts_one_resource_and_one_rule_in_the_singular(
    tmp_path: Path, capsys: Any
) -> None:
    path = tmp_path / "stack.py"
    path.write_text(
        "import mldns\nfrom mldns import dns\n\nstack = mldns.Stack('one')\n"
        "stack.add(dns.ManagedZone(name='pub', dns_name='example.com.'))\n"
        "mldns.use('ttl-bounds')\n"
    )
    run = run_cli(capsys, "check", str(path))
    assert run.code == 0
    assert run.out.splitlines()[-1] == "Checked 1 resource against 1 rule. No violations."


def test_check_judges_without_a_refresh_and_rules_list_shows_the_pack(
    tmp_path: Path, capsys: Any
) -> None:
    stack_file = _write(
        tmp_path, extra="mldns.use('public-answer-private-address', 'wildcard-record')"
    )
    run = run_cli(capsys, "check", stack_file)
    assert run.code == 1
    assert run.out.splitlines() == [
        "Mandatory: [public-answer-private-address] dns.RecordSet.pub/db.example.com./A: answers 10.0.0.5 to the internet",
        "Checked 2 resources against 2 rules. Rules: 1 mandatory violation.",
    ]
    listed = run_cli(capsys, "rules", "list", stack_file, "--json")
    rows = {r["id"]: r for r in json.loads(listed.out)["rules"]}
    assert rows["public-answer-private-address"]["in_force"] is True
    assert rows["ttl-bounds"]["in_force"] is False and rows["ttl-bounds"]["doc"]
    assert set(mldns.rules.PACK) <= set(rows)


def test_workspace_apply_refuses_a_saved_plan_that_breaks_a_rule(tmp_path: Path) -> None:
    from mldns.workspace import Workspace

    stack, plan = _fake()
    book = Book()
    with collecting(book):
        mldns.rule("none")(lambda plan, answers: [("fake.Shelf.s1", "no")])
    judged = _judge(book, stack, plan)
    ws = Workspace(stack_name="fake", project="p", stack=stack, state_dir=str(tmp_path))
    with pytest.raises(RulesViolated, match=r"the plan breaks 1 rule: \[none\] fake.Shelf.s1: no"):
        ws.apply_plan(Plan.from_json(judged.to_json()))
    assert list(tmp_path.glob("*.json")) == []


def test_evaluate_runs_every_rule_once_in_declaration_order() -> None:
    stack, plan = _fake()
    book = Book()
    calls: list[str] = []
    with collecting(book):
        for name in ("b", "a"):
            mldns.rule(name)(lambda plan, answers, name=name: calls.append(name))
    view = build_view(plan, stack.resources, lambda r: None)
    assert evaluate(book, view) == () and calls == ["b", "a"]


def _preset_stack(**options: Any) -> mldns.Stack:
    stack = mldns.Stack("apis", project="p")
    for resource in dns.private_google_apis([TRAIN], **options):
        stack.add(resource)
    return stack


@pytest.mark.parametrize("options", [{}, {"vip": "restricted"}, {"zones": True}])
def test_private_apis_coverage_is_quiet_when_storage_resolves_to_the_vip(options: Any) -> None:
    assert _found(_preset_stack(**options), "private-apis-coverage") == []


def test_private_apis_coverage_fires_when_the_domains_leave_googleapis_out() -> None:
    stack = _preset_stack(domains=["gcr.io", "pkg.dev"])
    book = Book()
    with collecting(book):
        mldns.use("private-apis-coverage")
    (found,) = judge_offline(stack, book).violations
    assert found.address == "dns.ResponsePolicy.google-apis"
    assert found.message == (
        "network projects/p/global/networks/train does not resolve storage.googleapis.com.: "
        "Cloud Storage is out of reach"
    )


def test_private_apis_coverage_fires_when_a_rule_bypasses_the_policy_or_answers_elsewhere() -> None:
    stack = _preset_stack()
    policy = stack.resources["dns.ResponsePolicy.google-apis"]
    stack.add(
        dns.ResponsePolicyRule(policy, "storage.googleapis.com.", behavior="bypassResponsePolicy")
    )
    assert [a for _, _, a in _found(stack, "private-apis-coverage")] == [
        "dns.ResponsePolicy.google-apis"
    ]
    other = _preset_stack()
    policy = other.resources["dns.ResponsePolicy.google-apis"]
    record = dns.Record("storage.googleapis.com.", "A", 300, ["203.0.113.80"])
    other.add(dns.ResponsePolicyRule(policy, "storage.googleapis.com.", local_data=[record]))
    book = Book()
    with collecting(book):
        mldns.use("private-apis-coverage")
    (found,) = judge_offline(other, book).violations
    assert "resolves storage.googleapis.com. to 203.0.113.80, not to the VIP" in found.message


def test_answers_follow_a_response_policy_cname_to_the_vip() -> None:
    stack = _preset_stack()
    plan = Plan(stack.name, "p", None, 0, ())
    providers = build_providers(Clients("p"))
    by_kind = {k: p for p in providers for k in p.kinds}
    view = build_view(plan, stack.resources, lambda r: by_kind[r.kind].desired_body(r, "p"))
    result = answers_of(view)("storage.googleapis.com", "A", network=TRAIN)
    assert result is not None
    (outcome,) = result.outcomes
    assert [r.type for r in outcome.records] == ["CNAME", "A"]
    assert sorted(outcome.data) == [
        "199.36.153.10",
        "199.36.153.11",
        "199.36.153.8",
        "199.36.153.9",
    ]
    assert answers_of(view)("storage.googleapis.com", "A") is None  # not from the internet


def test_private_apis_coverage_takes_a_psc_endpoint_as_the_vip() -> None:
    assert _found(_preset_stack(psc_endpoint="10.1.2.3"), "private-apis-coverage") == []
    assert _found(_preset_stack(psc_endpoint="10.1.2.3", zones=True), "private-apis-coverage") == []


def test_a_notebook_rule_judges_the_plans_its_stacks_make(tmp_path: Path, emu: Any) -> None:
    from mldns.rules import registry

    stack, public, _ = _stack()
    stack.add(_record(public, "db", rrdatas=["10.0.0.5"]))
    book = Book()
    with collecting(book):  # as a notebook declares into the default book
        mldns.use("public-answer-private-address")
        assert registry.current() is book
        plan = stack.plan(emulator=emu.host_port, state_dir=str(tmp_path))
    assert [v.rule for v in plan.blocked] == ["public-answer-private-address"]
    with pytest.raises(RulesViolated):
        plan.apply()
    assert not (tmp_path / "rules.json").exists()


def test_a_rule_declared_again_in_the_same_place_replaces_itself_and_elsewhere_is_refused(
    tmp_path: Path,
) -> None:
    book = Book()
    source = "import mldns\n@mldns.rule('once')\ndef f(plan, answers):\n    return []\n"
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    first.write_text(source)
    second.write_text(source)
    load_rules_file(first, book)
    load_rules_file(first, book)  # a notebook cell run twice
    assert list(book.rules) == ["once"]
    with pytest.raises(RulesError, match=r"b.py:2: rule 'once' is declared twice \(.*a.py:2, "):
        load_rules_file(second, book)
