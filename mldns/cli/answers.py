"""`mldns resolve`: what Cloud DNS answers, from the stack or the live zones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mldns import network_resolve
from mldns.cli.options import DEFAULT_STACK_FILE, engine_options, workspace
from mldns.errors import UsageError
from mldns.resources.rdata import RECORD_TYPES
from mldns.rules.registry import did_you_mean
from mldns.stack import load_stack


@click.command()
@click.argument("name", required=False)
@click.argument("rtype", metavar="[TYPE]", default="A")
@click.option(
    "--from",
    "--region",
    "from_region",
    metavar="REGION",
    help="The client's Google Cloud region (--region as gcloud spells it).",
)
@click.option(
    "--network",
    metavar="NETWORK",
    help="Answer as a VM on this VPC network does (name, path or URL): response policies and "
    "private zones first.",
)
@click.option("--down", multiple=True, metavar="IP", help="A health-checked target that is down.")
@click.option("--live", is_flag=True, help="Answer from the live zones rather than the stack file.")
@click.option(
    "--samples",
    type=click.IntRange(1, 1_000_000),
    metavar="N",
    help="Draw N answers and print the share of each.",
)
@click.option("--matrix", is_flag=True, help="Every routed name from every region.")
@click.option("--json", "as_json", is_flag=True, help="Print the answers as JSON.")
@click.option(
    "-f",
    "--file",
    "stack_file",
    default=DEFAULT_STACK_FILE,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The stack file.",
)
@engine_options
def resolve(
    name: str | None,
    rtype: str,
    from_region: str | None,
    network: str | None,
    down: tuple[str, ...],
    live: bool,
    samples: int | None,
    matrix: bool,
    as_json: bool,
    stack_file: str,
    **opts: Any,
) -> None:
    """What Cloud DNS answers NAME [TYPE] to a client in a region, or on a VPC network, and why.

    \b
    Examples:
      mldns resolve dataset.ml.example.com. --from europe-west4
      mldns resolve storage.googleapis.com --network train
      mldns resolve --matrix --down 203.0.113.20
    """
    from mldns import resolve as rs

    if matrix and (name or from_region or samples or network):
        raise UsageError(
            "--matrix answers every routed name from every region: drop NAME/--from/--network"
        )
    if not matrix and not (name and (from_region or network)):
        raise UsageError("give NAME and --from REGION or --network NETWORK, or --matrix")
    if rtype.upper() not in RECORD_TYPES:
        hint = did_you_mean(rtype.upper(), RECORD_TYPES)
        raise UsageError(f"TYPE: {rtype!r} is not a record type Cloud DNS serves{hint}")
    down_ips = rs.check_down(down)
    region = rs.check_region(from_region) if from_region else None
    if network is not None:
        assert name is not None
        if live:
            with workspace(stack_file if Path(stack_file).is_file() else None, opts) as ws:
                view = network_resolve.live_view(ws.clients, ws.project)
        else:
            stack = load_stack(stack_file)
            view = network_resolve.declared_view(stack, rs.declared_zones(stack))
        _show(rs.network_answer(view, name, rtype, network, region, down_ips), samples, as_json)
        return
    if live:
        has_file = Path(stack_file).is_file() or stack_file != DEFAULT_STACK_FILE
        with workspace(stack_file if has_file else None, opts) as ws:
            zones = rs.live_zones(ws.clients, ws.project)
    else:
        zones = rs.declared_zones(load_stack(stack_file))
    if matrix:
        table = rs.matrix(zones, down_ips)
        click.echo(json.dumps(table.to_dict(), indent=2) if as_json else str(table))
        return
    assert name is not None
    _show(rs.answer(zones, name, rtype, region, down_ips, declared=not live), samples, as_json)


def _show(result: Any, samples: int | None, as_json: bool) -> None:
    from mldns import resolve as rs

    drawn = rs.sampled(result, samples) if samples else None
    if as_json:
        body = result.to_dict()
        if drawn is not None:
            body["samples"] = {
                "n": samples,
                "shares": [{"rrdatas": list(d), "share": s} for d, s in drawn.items()],
            }
        click.echo(json.dumps(body, indent=2))
        return
    click.echo(str(result))
    if drawn is not None:
        click.echo(f"{samples} sampled queries:")
        for data, share in drawn.items():
            click.echo(f"  {' '.join(data)}  {share:.1%}")
