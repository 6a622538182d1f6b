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
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Print one JSON line per API request and DNS query.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Serve Prometheus /metrics and /healthz on this port (0: any free one).",
)
def emulator(
    host: str,
    port: int,
    data: str | None,
    quota: tuple[str, ...],
    dns_port: int | None,
    probe_health: bool,
    access_log: bool,
    metrics_port: int | None,
) -> None:
    """Serve the local emulator of Cloud DNS, Compute, TPU, Resource Manager and Cloud Storage.

    It prints one JSON line per request it answers, and stops cleanly on SIGTERM or Ctrl-C.

    \b
    Examples:
      mldns emulator
      mldns emulator --port 9000 --data cloud.json --dns-port 8053 --metrics-port 9475
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
            access_log=access_log,
            metrics_port=metrics_port,
        )
    except (EmulatorDataError, PortInUse) as exc:
        raise UsageError(str(exc)) from None
