"""`mldns resolve` and `mldns.resolve.resolve`: answers from the declaration and from the live zones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import make_workspace

from mldns.cli import cli
from mldns.errors import UsageError
from mldns.regions import distance_km
from mldns.resolve import ResolveError, answer, declared_zones, live_zones, matrix, resolve
from mldns.resources.fleet import FleetValue
from mldns.stack import load_stack

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SEED_000 = str(EXAMPLES / "seed_000_geo_routing" / "stack.py")
TRAINING = str(EXAMPLES / "training_dns" / "stack.py")
APEX = "mlworkloads.example.com"


def run(*args: str):
    return CliRunner().invoke(cli, ["resolve", *args])


def test_resolve_from_two_regions_names_the_nearest_item_and_distance():
    near = run(APEX, "--from", "europe-west4", "-f", SEED_000)
    assert near.exit_code == 0, near.output
    assert near.output.splitlines()[1].strip() == "203.0.113.20"
    assert run(APEX, "--region", "europe-west4", "-f", SEED_000).output == near.output
    far = run(APEX, "A", "--from", "europe-west2", "-f", SEED_000)
    km = round(distance_km("europe-west2", "europe-west4"))
    assert f"europe-west2 has no item; nearest is europe-west4, {km} km" in far.output


def test_resolve_with_a_target_down_says_who_answers_instead():
    result = run(APEX, "--from", "europe-west2", "--down", "203.0.113.20", "-f", SEED_000)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].strip() == "203.0.113.10"
    assert "target 203.0.113.20 is down in europe-west4, so us-central1 answers" in result.output


def test_resolve_json_and_samples_of_a_weighted_set():
    result = run(
        "ps.ml.example.com.", "--from", "us-east1", "--samples", "4000", "--json", "-f", TRAINING
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert {tuple(a["records"][0]["rrdatas"]): a["share"] for a in body["answers"]} == {
        ("10.1.0.10",): 0.8,
        ("10.1.0.11",): 0.2,
    }
    drawn = {tuple(s["rrdatas"]): s["share"] for s in body["samples"]["shares"]}
    assert abs(drawn[("10.1.0.10",)] - 0.8) <= 0.03
    text = run("ps.ml.example.com.", "--from", "us-east1", "--samples", "1000", "-f", TRAINING)
    assert "1000 sampled queries:" in text.output and "(80% of queries)" in text.output


def test_resolve_matrix_has_every_region_and_routed_name():
    result = run("--matrix", "-f", TRAINING)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["from", "dataset.ml.example.com.", "A", "ps.ml.example.com.", "A"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "203.0.113.20" in rows["europe-west2"] and "203.0.113.10" in rows["us-east1"]
    assert "10.1.0.10 80% | 10.1.0.11 20%" in rows["asia-east1"]
    # plain items never count as down; health-checked ones do
    plain = json.loads(run("--matrix", "--json", "--down", "203.0.113.20", "-f", TRAINING).output)
    checked = json.loads(run("--matrix", "--json", "--down", "203.0.113.20", "-f", SEED_000).output)
    for body, key, expected in [
        (plain, "dataset.ml.example.com. A", ["203.0.113.20"]),
        (checked, "mlworkloads.example.com. A", ["203.0.113.10"]),
    ]:
        europe = next(r for r in body["rows"] if r["from"] == "europe-west4")
        assert europe["answers"][key]["answers"][0]["records"][0]["rrdatas"] == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [APEX, "--from", "europe-wst2"],
            "'europe-wst2' is not a Google Cloud region; did you mean europe-west2?",
        ),
        (["ml.example.org", "--from", "us-east1"], "ml.example.org. is outside every zone"),
        ([APEX, "TXT", "--from", "us-east1"], "mlworkloads.example.com. holds A; no TXT (NODATA)"),
        (
            [APEX, "AAA", "--from", "us-east1"],
            "TYPE: 'AAA' is not a record type Cloud DNS serves; did you mean 'AAAA'?",
        ),
        (
            ["gone." + APEX, "--from", "us-east1"],
            f"gone.{APEX}. is not declared in the stack (zone ml-dns-zone); try --live",
        ),
        (
            [APEX, "--from", "us-east1", "--down", "203.0.113"],
            "--down: '203.0.113' is not an IP address",
        ),
        ([APEX], "give NAME and --from REGION or --network NETWORK, or --matrix"),
        (["--matrix", "--from", "us-east1"], "--matrix answers every routed name"),
    ],
)
def test_bad_questions_get_one_line_and_exit_1(args, message, capsys):
    from mldns.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["resolve", *args, "-f", SEED_000])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1
    assert err.count("\n") == 1 and message in err, err


def test_notebook_resolve_returns_a_table():
    stack = load_stack(SEED_000)
    result = resolve(stack, APEX, from_region="asia-east1", down=["203.0.113.30"])
    assert result.outcomes[0].data == ("203.0.113.20",)
    html = result._repr_html_()
    assert "<table>" in html and "203.0.113.20" in html and "asia-east1" in html
    with pytest.raises(UsageError, match="from_region: 'asia-est1'"):
        resolve(stack, APEX, from_region="asia-est1")
    with pytest.raises(ResolveError, match="NODATA"):
        resolve(stack, APEX, "AAAA", from_region="asia-east1")


def fleet_fed(resource) -> bool:
    data = getattr(resource, "rrdatas", None) or getattr(resource, "records", None)
    return isinstance(data, FleetValue)


DOWN_SETS = [(), ("203.0.113.20",), ("203.0.113.10", "203.0.113.20", "203.0.113.30")]
DOWN_SETS += [("10.1.0.10",), ("10.10.8.10", "10.10.8.11"), ("10.10.9.10",)]


@pytest.mark.parametrize("example", sorted(p.parent.name for p in EXAMPLES.glob("*/stack.py")))
def test_declared_and_live_answers_agree_for_every_example(example, emu, tmp_path):
    stack = load_stack(EXAMPLES / example / "stack.py")
    ws = make_workspace(stack, emu, tmp_path)
    ws.apply()
    declared, live = declared_zones(stack), live_zones(ws.clients, ws.project)
    assert [z.dns_name for z in declared] == [z.dns_name for z in live]
    asked = 0
    for zone in declared:
        for name, rtype in zone.rrsets:
            for region in ("us-central1", "europe-west2", "asia-east1"):
                for down in DOWN_SETS:
                    want = answer(declared, name, rtype, region, down).to_dict()
                    assert answer(live, name, rtype, region, down).to_dict() == want
                    asked += 1
    # Record sets whose data is the live fleet's are answered with --live only.
    static = [
        r for r in stack if r.kind in ("dns.RecordSet", "dns.RecordTable") and not fleet_fed(r)
    ]
    assert asked > 0 or not static
    if any(body.get("routingPolicy") for z in declared for body in z.rrsets.values()):
        for down in DOWN_SETS:
            assert matrix(live, down).to_dict() == matrix(declared, down).to_dict()
        cli_live = CliRunner().invoke(
            cli,
            [
                "resolve",
                "--matrix",
                "--live",
                "--emulator",
                emu.host_port,
                "-f",
                str(EXAMPLES / example / "stack.py"),
                "--state-dir",
                str(tmp_path),
            ],
        )
        assert cli_live.exit_code == 0, cli_live.output
        assert cli_live.output.strip() == str(matrix(declared))


def test_live_answers_follow_the_zone_not_the_file(emu, tmp_path):
    stack = load_stack(TRAINING)
    make_workspace(stack, emu, tmp_path).apply()
    emu.reset()
    result = CliRunner().invoke(
        cli,
        [
            "resolve",
            "ps.ml.example.com",
            "--from",
            "us-east1",
            "--live",
            "--emulator",
            emu.host_port,
            "-f",
            TRAINING,
        ],
    )
    assert result.exit_code != 0
    assert "outside every zone" in str(result.exception) or "outside every zone" in result.output


def _looping_stack():
    import mldns
    from mldns import dns

    stack = mldns.Stack("loops", project="p")
    zone = stack.add(dns.ManagedZone(name="z", dns_name="ml.example.com."))
    stack.add(dns.RecordSet(zone=zone, name="a", type="CNAME", rrdatas=["b.ml.example.com."]))
    stack.add(dns.RecordSet(zone=zone, name="b", type="CNAME", rrdatas=["a.ml.example.com."]))
    stack.add(dns.RecordSet(zone=zone, name="c", type="A", rrdatas=["10.0.0.3"]))
    stack.add(
        dns.RecordSet(
            zone=zone,
            name="w",
            type="CNAME",
            routing=dns.Weighted([(0.5, ["a.ml.example.com."]), (0.5, ["c.ml.example.com."])]),
        )
    )
    return stack


def test_a_cname_loop_is_servfail_not_an_answer():
    """A chain that never reaches an address gets a client SERVFAIL; its last link is not
    shown as the answer, and where every answer loops the question fails naming the loop."""
    stack = _looping_stack()
    with pytest.raises(ResolveError) as failed:
        resolve(stack, "a.ml.example.com", from_region="us-east1")
    assert str(failed.value) == (
        "a.ml.example.com. does not resolve: its CNAME chain a.ml.example.com. -> "
        "b.ml.example.com. -> a.ml.example.com. loops (SERVFAIL)"
    )
    half = resolve(
        stack, "w.ml.example.com", from_region="us-east1"
    )  # one weighted branch loops, the other answers
    assert half.to_dict()["status"] == "NOERROR"
    assert [a.get("servfail", False) for a in half.to_dict()["answers"]] == [True, False]
    text = str(half).splitlines()
    assert text[1] == "  SERVFAIL (the CNAME chain is too long)  (50% of queries)"
    assert "  10.0.0.3  (50% of queries)" in text
