"""Fuzz: generated stack declarations and mutated state files get a clear error and change nothing."""

from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mldns
from mldns import dns
from mldns.cli import main
from mldns.emulator import Emulator
from mldns.errors import ValidationError

ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 1 << 33),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.lists(st.text(max_size=12), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.drill
@SETTINGS
@given(
    name=ANY,
    rtype=st.one_of(st.sampled_from(["A", "AAAA", "CNAME", "TXT", "MX", "SOA", "BOGUS"]), ANY),
    ttl=ANY,
    rrdatas=ANY,
    zone_name=st.one_of(st.just("ml-zone"), ANY),
    dns_name=st.one_of(st.just("ml.example.com."), ANY),
)
def test_generated_declarations_validate_or_fail_clearly(
    name, rtype, ttl, rrdatas, zone_name, dns_name
):
    """Any field value either builds a valid resource or raises ValidationError naming the field."""
    try:
        zone = dns.ManagedZone(name=zone_name, dns_name=dns_name)
        dns.RecordSet(zone=zone, name=name, type=rtype, ttl=ttl, rrdatas=rrdatas)
    except ValidationError as exc:
        assert exc.field, str(exc)
        assert "\n" not in str(exc)


def _stack_file(tmp_path, body: str):
    path = tmp_path / "stack.py"
    path.write_text("import mldns\nfrom mldns import dns\n" + textwrap.dedent(body))
    return path


@pytest.fixture(scope="module")
def cloud():
    with Emulator() as emu:
        yield emu


def _run(args: list[str], capsys) -> tuple[int, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    return code, capsys.readouterr().err


@pytest.mark.drill
@SETTINGS
@given(ttl=ANY, rrdata=ANY, name=ANY)
def test_generated_stack_files_never_write(tmp_path_factory, capsys, cloud, ttl, rrdata, name):
    tmp = tmp_path_factory.mktemp("fuzz")
    path = _stack_file(
        tmp,
        f"""
        stack = mldns.Stack("fuzz", project="fuzz-project")
        zone = stack.add(dns.ManagedZone(name="ml-zone", dns_name="ml.example.com."))
        stack.add(dns.RecordSet(zone=zone, name={name!r}, type="A", ttl={ttl!r}, rrdatas=[{rrdata!r}]))
    """,
    )
    before = cloud.requests()["writes"]
    code, err = _run(
        ["plan", str(path), "--emulator", cloud.host_port, "--state-dir", str(tmp)], capsys
    )
    assert cloud.requests()["writes"] == before
    assert code in (0, 1)
    if code == 1:
        assert err.startswith("Error: ") and len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err


def _mutations() -> st.SearchStrategy:
    return st.one_of(
        st.integers(0, 400).map(lambda n: ("truncate", n)),
        st.tuples(st.just("flip"), st.integers(0, 400), st.characters(codec="ascii")),
        st.tuples(
            st.just("set"),
            st.sampled_from(
                ["format_version", "stack", "lineage", "serial", "resources", "outputs"]
            ),
            ANY,
        ),
    )


def _mutate(text: str, mutation) -> str:
    if mutation[0] == "truncate":
        return text[: mutation[1] % max(len(text), 1)]
    if mutation[0] == "flip":
        i = mutation[1] % len(text)
        return text[:i] + mutation[2] + text[i + 1 :]
    data = json.loads(text)
    data[mutation[1]] = mutation[2]
    return json.dumps(data)


@pytest.fixture(scope="module")
def applied(tmp_path_factory, cloud):
    """A stack applied once; its state file is the seed of every mutation."""
    tmp = tmp_path_factory.mktemp("state")
    path = _stack_file(
        tmp,
        """
        stack = mldns.Stack("fuzz", project="fuzz-project")
        zone = stack.add(dns.ManagedZone(name="fuzz-zone", dns_name="fuzz.example.com."))
        stack.add(dns.RecordSet(zone=zone, name="a", type="A", rrdatas=["10.0.0.1"]))
    """,
    )
    main_code = None
    try:
        main(
            [
                "apply",
                str(path),
                "--emulator",
                cloud.host_port,
                "--state-dir",
                str(tmp),
                "--auto-approve",
            ]
        )
    except SystemExit as exc:
        main_code = exc.code
    assert main_code in (None, 0)
    return path, tmp / "fuzz.json"


@pytest.mark.drill
@SETTINGS
@given(mutation=_mutations())
def test_mutated_state_is_refused_untouched(applied, cloud, capsys, mutation):
    stack_file, state_file = applied
    good = state_file.read_text()
    bad = _mutate(good, mutation).encode("utf-8", "surrogateescape")
    try:
        state_file.write_bytes(bad)
        before = cloud.requests()["writes"]
        code, err = _run(
            [
                "plan",
                str(stack_file),
                "--emulator",
                cloud.host_port,
                "--state-dir",
                str(state_file.parent),
            ],
            capsys,
        )
        assert cloud.requests()["writes"] == before, "plan wrote to the cloud"
        assert state_file.read_bytes() == bad, "plan touched the state file"
        if code == 1:
            assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
            code, err = _run(
                [
                    "apply",
                    str(stack_file),
                    "--emulator",
                    cloud.host_port,
                    "--state-dir",
                    str(state_file.parent),
                    "--auto-approve",
                ],
                capsys,
            )
            assert code == 1 and "Traceback" not in err, err
            assert cloud.requests()["writes"] == before, (
                "apply wrote to the cloud despite a bad state"
            )
            assert state_file.read_bytes() == bad, "apply overwrote a bad state"
        else:
            assert code == 0
    finally:
        state_file.write_text(good)


def test_two_stacks_cannot_share_resources():
    one, two = mldns.Stack("one"), mldns.Stack("two")
    zone = one.add(dns.ManagedZone(name="z", dns_name="z.example.com."))
    with pytest.raises(ValidationError, match="not declared in stack two"):
        two.add(dns.RecordSet(zone=zone, name="a", type="A", rrdatas=["10.0.0.1"]))
