"""The `mldns` command: a thin click shell over Workspace, the same engine notebooks use.

Each verb group lives in its own module and shares `options`; this module assembles the group,
importing a verb's module only when the verb runs, and turns errors into one line.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from mldns import gcpause
from mldns.cli.options import Duration
from mldns.errors import Interrupted, MldnsError, one_line

__all__ = ["Duration", "cli", "main"]

DEBUG_HELP = "Show tracebacks for errors."

# Each verb, and the module and name of its click command. A command's module is imported when
# the command runs (or `--help` lists it): `mldns validate` needs none of Google's libraries,
# which the engine's modules import (0.3 s of a run).
COMMANDS = {
    "validate": "validate:validate",
    "check": "rules:check",
    "rules": "rules:rules",
    "plan": "plans:plan",
    "show": "plans:show",
    "graph": "plans:graph",
    "apply": "plans:apply",
    "destroy": "plans:destroy",
    "reconcile": "reconcile:reconcile",
    "output": "state:output",
    "state": "state:state",
    "generate": "sources:generate",
    "resolve": "answers:resolve",
    "import": "sources:import_",
    "export": "export:export",
    "emulator": "emulator:emulator",
}


def _debug_everywhere(command: click.Command) -> None:
    """Accept --debug after the verb too (`mldns plan --debug`): `main` reads it from the
    arguments, so each command only has to let it through."""
    if not any(param.name == "debug" for param in command.params):
        command.params.append(
            click.Option(["--debug"], is_flag=True, expose_value=False, help=DEBUG_HELP)
        )
    for sub in getattr(command, "commands", {}).values():
        _debug_everywhere(sub)


class LazyGroup(click.Group):
    """A group whose commands are imported by name (`COMMANDS`) when first looked up."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, _, name = self.lazy[cmd_name].partition(":")
            command = getattr(importlib.import_module(f"{__name__}.{module}"), name)
            _debug_everywhere(command)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # click suggests the verb a mistyped one meant from the commands it holds: all of them.
        if args and args[0] not in self.commands and args[0] not in self.lazy:
            for name in self.lazy:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help=DEBUG_HELP)
@click.version_option(package_name="mldns")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Declare Cloud DNS, health checks and IAM for ML training in Python; plan and apply them."""
    ctx.obj = {"debug": debug}


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
        _one_line(_one_dash_hint(exc, args)).show()
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)


def _one_line(exc: click.ClickException) -> click.ClickException:
    """Some of click's messages span lines (a missing choice lists one choice a line): an error
    is one line, so that a log or a terminal shows it whole."""
    message = exc.format_message()
    if "\n" not in message:
        return exc
    joined = " ".join(message.split())
    if isinstance(exc, click.UsageError):
        return click.UsageError(joined, ctx=exc.ctx)
    return click.ClickException(joined)


def _one_dash_hint(exc: click.ClickException, args: list[str]) -> click.ClickException:
    """Terraform spells long options with one dash (`-auto-approve`, `-target=ADDR`), which
    click reads as short options (`No such option '-a'`): name the two-dash option meant."""
    if not isinstance(exc, click.NoSuchOption) or exc.ctx is None:
        return exc
    known = {opt for param in exc.ctx.command.params for opt in getattr(param, "opts", ())}
    for arg in args:
        name = arg.split("=", 1)[0]
        one_dash = name[:1] == "-" and name[1:2] != "-"
        if one_dash and name.startswith(exc.option_name) and f"-{name}" in known:
            message = f"No such option '{name}'; mldns spells it '-{name}' (two dashes)."
            return click.NoSuchOption(name, message, ctx=exc.ctx)
    return exc
