"""The `mldns` command: a thin click shell over Workspace, the same engine notebooks use.

Each verb group lives in its own module and shares `options`; this module assembles the group
and turns errors into one line.
"""

from __future__ import annotations

import sys

import click

from mldns import gcpause
from mldns.cli.answers import resolve
from mldns.cli.emulator import emulator
from mldns.cli.export import export
from mldns.cli.options import Duration
from mldns.cli.plans import apply, destroy, graph, plan, show, validate
from mldns.cli.reconcile import reconcile
from mldns.cli.rules import check, rules
from mldns.cli.sources import generate, import_
from mldns.cli.state import output, state
from mldns.errors import Interrupted, MldnsError, one_line

__all__ = ["Duration", "cli", "main"]

DEBUG_HELP = "Show tracebacks for errors."


def _debug_everywhere(command: click.Command) -> None:
    """Accept --debug after the verb too (`mldns plan --debug`): `main` reads it from the
    arguments, so each command only has to let it through."""
    if not any(param.name == "debug" for param in command.params):
        command.params.append(
            click.Option(["--debug"], is_flag=True, expose_value=False, help=DEBUG_HELP)
        )
    for sub in getattr(command, "commands", {}).values():
        _debug_everywhere(sub)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help=DEBUG_HELP)
@click.version_option(package_name="mldns")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Declare Cloud DNS, health checks and IAM for ML training in Python; plan and apply them."""
    ctx.obj = {"debug": debug}


for _command in (
    validate,
    check,
    rules,
    plan,
    show,
    graph,
    apply,
    destroy,
    reconcile,
    output,
    state,
    generate,
    resolve,
    import_,
    export,
    emulator,
):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: MldnsError and usage errors become one line and exit 1 (tracebacks with --debug)."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    _debug_everywhere(cli)
    if argv is None:
        gcpause.off_for_command()  # as mldns.entry does, for `python -c "...; main()"`
    try:
        cli.main(args=args, prog_name="mldns", standalone_mode=False)
        if argv is None:
            gcpause.skip_final_collection()
    except MldnsError as exc:
        if debug:
            raise
        prefix = "" if isinstance(exc, Interrupted) else "Error: "
        click.echo(f"{prefix}{one_line(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        if debug:
            raise
        exc.show()
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
