"""`mldns validate`: a stack file checked as it is read, without the engine: no plan, no state,
no Google library, so that it starts as fast as Python and the declarations allow."""

from __future__ import annotations

import itertools
from typing import Any

import click

from mldns import gcpause
from mldns.cli.options import DEFAULT_STACK_FILE, engine_options
from mldns.resources.dns import RecordTable
from mldns.resources.fleet import FleetValue
from mldns.stack import load_stack
from mldns.words import count


@click.command()
@click.argument("stack_file", default=DEFAULT_STACK_FILE, type=click.Path(dir_okay=False))
@engine_options
def validate(stack_file: str, **_opts: Any) -> None:
    """Check a stack file without calling any API.

    The shared options are accepted (and need no cloud), so one command line serves validate,
    plan and apply.

    \b
    Examples:
      mldns validate
      mldns validate examples/training_dns/stack.py
    """
    stack = load_stack(stack_file)
    # The tables are counted in C, and their rows only if there are any: a stack may declare
    # 100,000 record sets one by one (two loops over them took 0.03 s).
    listed = (
        [r for r in stack if isinstance(r, RecordTable)]
        if any(map(isinstance, stack, itertools.repeat(RecordTable)))
        else []
    )
    # A fleet's table has no rows until a plan reads the fleet: it counts as one resource.
    fleet_fed = sum(isinstance(t.records, FleetValue) for t in listed)
    tables = len(listed) - fleet_fed
    rows = sum(len(t.rows) for t in listed)
    parts = [f"{rows:,} of them rows of {count(tables, 'record table')}"] if tables else []
    if fleet_fed:
        parts.append(f"{count(fleet_fed, 'record table')} the fleet fills when planned")
    inside = f" ({'; '.join(parts)})" if parts else ""
    total = count(len(stack) - tables + rows, "resource")
    click.echo(f"Stack {stack.name}: {total}{inside}, all valid.")
    gcpause.leave_to_exit(stack)  # the process ends next
