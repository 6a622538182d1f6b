"""`mldns emulator`: serve the local emulator of the Google APIs."""

from __future__ import annotations

import click

from mldns import gcpause
from mldns.errors import UsageError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8475, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--data",
    type=click.Path(dir_okay=False),
    help="Load the cloud from FILE and save it after every change.",
)
@click.option(
    "--quota",
    multiple=True,
    metavar="KEY=N",
    help="Override a Cloud DNS quota, e.g. rrsetsPerManagedZone=200000.",
)
@click.option(
    "--dns-port",
    type=click.IntRange(0, 65535),
    help="Also answer DNS for the public zones on this port (UDP and TCP).",
)
@click.option(
    "--probe-health",
    is_flag=True,
    help="Probe health-checked targets as their health checks say (needs --dns-port).",
)
def emulator(
    host: str,
    port: int,
    data: str | None,
    quota: tuple[str, ...],
    dns_port: int | None,
    probe_health: bool,
) -> None:
    """Serve the local emulator of Cloud DNS, Compute and Resource Manager.

    \b
    Examples:
      mldns emulator
      mldns emulator --port 9000 --data cloud.json --dns-port 8053
    """
    from mldns.emulator import EmulatorDataError, PortInUse, parse_quota, serve

    try:
        quotas = parse_quota(list(quota))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    gcpause.on_for_server()
    if probe_health and dns_port is None:
        raise UsageError("--probe-health feeds the DNS server: give --dns-port too")
    try:
        serve(
            host=host,
            port=port,
            data_file=data,
            quota=quotas,
            dns_port=dns_port,
            probe_health=probe_health,
        )
    except (EmulatorDataError, PortInUse) as exc:
        raise UsageError(str(exc)) from None
