"""`mldns reconcile`: plan and apply in a loop, so names follow the fleet."""

from __future__ import annotations

import signal
import sys
from typing import Any

import click

from mldns.cli.options import DEFAULT_STACK_FILE, Duration, engine_options, workspace
from mldns.errors import UsageError
from mldns.metrics import Metrics
from mldns.reconcile import MIN_INTERVAL, Options, Reconciler


class Share(click.ParamType):
    """A fraction: 0.5, or a percentage, 50%."""

    name = "share"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        text = str(value).strip()
        try:
            share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            self.fail(f"{value!r} is not a share: give 50% or 0.5", param, ctx)
        if not 0 <= share <= 1:
            self.fail(f"{value!r} is not between 0% and 100%", param, ctx)
        return share


@click.command()
@click.argument("stack_file", default=DEFAULT_STACK_FILE, type=click.Path(dir_okay=False))
@click.option(
    "--interval",
    default="30s",
    show_default=True,
    type=Duration(),
    help="Time from the start of one loop to the next: seconds, or 30s, 2m (at least 1 s).",
)
@click.option("--once", is_flag=True, help="Run one loop and exit (0 when it succeeded).")
@click.option(
    "--max-shrink",
    default="50%",
    show_default=True,
    type=Share(),
    help="Refuse a source's read that would shrink its records by more than this share, net.",
)
@click.option(
    "--max-failures",
    default=5,
    show_default=True,
    type=click.IntRange(min=1),
    help="Exit 1 after this many loops in a row failed.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 when a loop holds back a destructive change beyond the sources' records.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(min=0, max=65535),
    help="Serve Prometheus /metrics and /healthz on this port.",
)
@engine_options
def reconcile(
    stack_file: str,
    interval: float,
    once: bool,
    max_shrink: float,
    max_failures: int,
    strict: bool,
    metrics_port: int | None,
    **opts: Any,
) -> None:
    """Keep the stack's records right as the fleet changes: plan and apply every --interval.

    Each loop reads the fleet sources and the zones, and applies the difference in one Change
    per zone, under the state lock (held for the whole run; with a gs:// backend, several
    reconcilers elect one and the others wait). One JSON line per loop on stdout. SIGTERM or
    Ctrl-C finishes the Change in flight, writes the state and exits 0.

    \b
    Examples:
      mldns reconcile stack.py --interval 30s --backend gs://my-bucket/mldns
      mldns reconcile stack.py --once --max-shrink 100%
    """
    if interval < MIN_INTERVAL:
        raise UsageError(f"--interval {interval:g}s: the loop needs at least {MIN_INTERVAL:g} s")
    options = Options(
        interval=interval,
        max_shrink=max_shrink,
        max_failures=max_failures,
        strict=strict,
        once=once,
    )
    # The port is taken first: one in use is an error before the lock, the state or a call.
    metrics = Metrics(interval) if metrics_port is not None else None
    if metrics is not None:
        try:
            port = metrics.serve(metrics_port or 0)
        except OSError as exc:
            from mldns.emulator.errors import cannot_listen

            raise UsageError(
                cannot_listen("--metrics-port", "0.0.0.0", metrics_port, exc)
            ) from None
        click.echo(f"metrics on http://0.0.0.0:{port}/metrics", err=True)
    try:
        with workspace(stack_file, opts) as ws:
            ws.interruptible = False  # the loop's own handler lets an apply in flight finish
            loop = Reconciler(ws, options, metrics=metrics)
            previous = {
                sig: signal.signal(sig, lambda *_: loop.stop())
                for sig in (signal.SIGTERM, signal.SIGINT)
            }
            try:
                code = loop.run()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
    finally:
        if metrics is not None:
            metrics.close()
    if code:
        click.echo(f"Error: {loop.ended}", err=True)
        sys.exit(code)
