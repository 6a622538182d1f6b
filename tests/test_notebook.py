"""The example notebook, executed in a real Jupyter kernel against the emulator."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from helpers import make_workspace
from IPython.lib.pretty import pretty
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from mldns.emulator import Emulator
from mldns.errors import PlanFileError, UsageError
from mldns.stack import Stack

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "notebook.ipynb"


def kernel_name() -> str:
    """The `python3` kernel, provided it runs this interpreter (it launches `python`, which
    jupyter_client maps to sys.executable); else a kernelspec installed into this environment."""
    spec = KernelSpecManager().get_kernel_spec("python3")
    if spec.argv[0] in ("python", "python3", sys.executable):
        return "python3"
    from ipykernel.kernelspec import install

    install(prefix=sys.prefix, kernel_name="mldns-test")
    return "mldns-test"


def outputs_of(cell: Any) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        for value in (out.get("data") or {}).values():
            parts.append(value if isinstance(value, str) else str(value))
    return "\n".join(parts)


def test_notebook_runs_end_to_end(emu: Emulator, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("MLDNS_EMULATOR_HOST", emu.host_port)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    probe = nbformat.v4.new_code_cell("import sys, mldns; print(sys.prefix); print(mldns.__file__)")
    nb.cells.insert(0, probe)
    NotebookClient(
        nb,
        kernel_name=kernel_name(),
        timeout=60,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()

    prefix, module = outputs_of(nb.cells[0]).split()
    assert prefix == sys.prefix  # the kernel is this environment's interpreter
    assert Path(module).resolve().parent == Path(__file__).resolve().parent.parent / "mldns"

    code = [c for c in nb.cells if c.cell_type == "code"]
    setup = outputs_of(code[1])
    assert f"using the emulator at {emu.host_port}" in setup

    plan_cell = next(c for c in code if c.source.startswith("plan = stack.plan("))
    html = next(o["data"]["text/html"] for o in plan_cell.outputs if "data" in o)
    assert '<div class="mldns-plan">' in html  # the renderer `mldns plan --format html` uses
    assert "(none)" not in html  # a create lists its declared fields, not "(none) -> value"
    assert "dns.ManagedZone.run-42" in html
    assert "Plan: 7 to create, 0 to update, 0 to delete." in html

    apply_cell = next(c for c in code if c.source.startswith("result = plan.apply()"))
    assert "ns-cloud-" in outputs_of(apply_cell)
    again = next(c for c in code if c.source.startswith("again = "))
    assert "No changes" in outputs_of(again)
    routed = next(c for c in code if c.source.startswith("from mldns.resolve import resolve"))
    table = outputs_of(routed)
    assert "<table>" in table and "10.0.2.10" in table and "75.0%" in table
    assert "destroyed:" in outputs_of(code[-1])

    # The notebook worked against this emulator, and cleaned up after itself.
    assert emu.requests()["writes_by_api"]["dns"] >= 3
    assert "run-42" not in emu.snapshot()["projects"]["ml-notebook"].get("zones", {})
    state = tmp_path / "state" / "notebook-run.json"
    assert state.is_file()
    assert '"resources": {}' in state.read_text()


def test_plan_objects_render_and_apply_from_python(emu: Emulator, tmp_path: Path) -> None:
    """The same entry points, without a kernel: Stack.plan, Plan.apply, Stack.destroy."""
    from mldns import dns

    stack = Stack("script", project="ml-script")
    zone = stack.add(dns.ManagedZone(name="z", dns_name="z.example.com."))
    stack.add(dns.RecordSet(zone=zone, name="a", type="A", rrdatas=["10.0.0.1"]))
    options = {"emulator": emu.host_port, "state_dir": str(tmp_path), "log": lambda line: None}
    plan = stack.plan(**options)
    assert "+ dns.RecordSet.z/a.z.example.com./A" in str(plan)
    assert '<span class="sym op-create">+</span>' in plan._repr_html_()
    done = plan.apply()
    assert str(done) == "Apply complete: 2 created, 0 updated, 0 deleted; 5 API calls, 0 retried."
    assert pretty(done) == str(done)  # a notebook cell shows the line, not every field
    assert not stack.plan(**options).has_changes
    # A plan made before someone else's apply is stale.
    old = stack.plan(**options)
    other = Stack("script", project="ml-script")
    other_zone = other.add(dns.ManagedZone(name="z", dns_name="z.example.com."))
    other.add(dns.RecordSet(zone=other_zone, name="b", type="A", rrdatas=["10.0.0.2"]))
    make_workspace(other, emu, tmp_path).apply()
    with pytest.raises(PlanFileError, match="stale plan"):
        old.apply()
    gone = stack.destroy(**options)
    assert str(gone).startswith("Destroy complete: 2 resources destroyed; ")
    assert "z" not in emu.snapshot()["projects"]["ml-script"].get("zones", {})


def test_stack_apply_takes_the_plan_it_made(emu: Emulator, tmp_path: Path) -> None:
    """`stack.apply(plan)`, as Pulumi and Terraform users write it, applies that plan; a plan of
    another stack, or options given by position, are refused in one line, writing nothing."""
    from mldns import dns

    stack = Stack("by-plan", project="ml-script")
    zone = stack.add(dns.ManagedZone(name="p", dns_name="p.example.com."))
    stack.add(dns.RecordSet(zone=zone, name="a", type="A", rrdatas=["10.0.0.1"]))
    options = {"emulator": emu.host_port, "state_dir": str(tmp_path), "log": lambda line: None}
    plan = stack.plan(**options)
    other = Stack("other", project="ml-script")
    with pytest.raises(UsageError, match="^the plan is of stack by-plan, not other$"):
        other.apply(plan)
    with pytest.raises(UsageError, match="^Stack.apply takes a Plan, not str; options go by name"):
        stack.apply(emu.host_port)
    assert emu.requests()["writes"] == 0
    done = stack.apply(plan)
    assert str(done) == "Apply complete: 2 created, 0 updated, 0 deleted; 5 API calls, 0 retried."
    assert not stack.plan(**options).has_changes


def test_a_mistyped_option_is_named_with_the_one_meant(
    emu: Emulator, tmp_path: Path, monkeypatch: Any
) -> None:
    from mldns import dns

    stack = Stack("typo")  # no project: an emulator, from the flag or the variable, has one
    stack.add(dns.ManagedZone(name="t", dns_name="t.example.com."))
    with pytest.raises(UsageError, match=r"^no option 'tiemout'; did you mean 'timeout'\?$"):
        stack.plan(emulator=emu.host_port, state_dir=str(tmp_path), tiemout=5)
    monkeypatch.setenv("MLDNS_EMULATOR_HOST", emu.host_port)
    plan = stack.plan(state_dir=str(tmp_path), log=lambda line: None)
    assert plan.project == "mldns-local"
    assert emu.requests()["writes"] == 0


def test_local_runs_in_process_as_the_cli_option_does(tmp_path: Path) -> None:
    """`local=True` is the CLI's --local: the cloud in STATE_DIR/local-cloud.json, one emulator
    for the process however many plans and applies use it."""
    from mldns import dns
    from mldns.workspace import process_local_cloud

    stack = Stack("local", project="ml-local")
    zone = stack.add(dns.ManagedZone(name="z", dns_name="z.example.com."))
    stack.add(dns.RecordSet(zone=zone, name="a", type="A", rrdatas=["10.0.0.1"]))
    options = {"local": True, "state_dir": str(tmp_path), "log": lambda line: None}
    plan = stack.plan(**options)
    assert plan.counts() == {"create": 2}
    assert str(plan.apply()).startswith("Apply complete: 2 created")
    assert not stack.plan(**options).has_changes
    cloud = json.loads((tmp_path / "local-cloud.json").read_text())
    assert "z" in cloud["projects"]["ml-local"]["zones"]
    assert process_local_cloud(str(tmp_path)) == process_local_cloud(str(tmp_path))
    with pytest.raises(UsageError, match="^local and emulator contradict each other"):
        stack.plan(local=True, emulator="127.0.0.1:1")
    with pytest.raises(UsageError, match="not gs://"):
        stack.plan(local=True, backend="gs://bucket/prefix")
