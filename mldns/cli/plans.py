"""The verbs that plan and apply a stack: plan, show, graph, apply, destroy."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mldns.cli.options import (
    DEFAULT_STACK_FILE,
    check_controls,
    color,
    control_options,
    engine_options,
    quiet_option,
    render_plan,
    rules_option,
    view_options,
    workspace,
)
from mldns.errors import PlanFileError, UsageError
from mldns.plan import Plan, check_writable, load_plan, save_plan
from mldns.progress import Lines, Live, Progress, complete
from mldns.render import render_text
from mldns.rules.evaluate import blocked_message
from mldns.stack import load_stack
from mldns.target import Target, apply_command
from mldns.words import count, times

# The state stores and the workspace (and through them Google's client libraries) come with the
# first verb that reaches the cloud or the state: show and graph start without them.
if TYPE_CHECKING:
    from mldns.workspace import Workspace


@click.command()
@click.argument("stack_file", default=DEFAULT_STACK_FILE, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (format_version 1).")
@view_options
@click.option(
    "--show-unmanaged",
    is_flag=True,
    help="List the record sets left alone (up to 1,000 a zone), not only count them.",
)
@click.option(
    "-o", "--out", type=click.Path(dir_okay=False), help="Save the plan for `mldns apply FILE`."
)
@click.option("--destroy", is_flag=True, help="Plan the deletion of everything the stack manages.")
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 0 when there are no changes, 2 when there are."
)
@click.option(
    "--lock",
    type=click.BOOL,
    default=True,
    is_flag=False,
    flag_value=True,
    metavar="[=BOOL]",
    help="Hold the state lock while reading (default; --lock=false as --no-lock).",
)
@click.option("--no-lock", is_flag=True, help="Read the state without taking its lock.")
@control_options
@rules_option
@engine_options
def plan(
    stack_file: str,
    as_json: bool,
    view: dict[str, Any],
    show_unmanaged: bool,
    out: str | None,
    destroy: bool,
    detailed_exitcode: bool,
    lock: bool,
    no_lock: bool,
    **opts: Any,
) -> None:
    """Show what apply would change. Never writes to the cloud or the state.

    \b
    Examples:
      mldns plan --local stack.py
      mldns plan stack.py --format markdown --out plan.json > plan.md
      mldns plan stack.py --target 'dns.RecordSet.ml-zone/ps.ml.example.com./A'
    """
    check_controls(opts, destroy)
    if out:
        check_writable(out)  # before the plan's calls, not after
    with workspace(stack_file, opts, lock_plans=lock and not no_lock, read_early=True) as ws:
        if not ws.lock_plans:
            click.echo(
                "Reading the state without its lock: an apply running now may show as changes.",
                err=True,
            )
        result = ws.plan(destroy=destroy)
    stats = ws.clients.stats  # the plan's calls: the workspace made nothing else
    if out:
        save_plan(result, out)
        command = apply_command(result.target, out, bool(result.destructive()))
    if as_json:
        view["format"] = "json"
    click.echo(render_plan(result, view, show_unmanaged))
    ahead = f" ({stats.ahead:,} listed ahead)" if stats.ahead else ""
    click.echo(f"{count(stats.calls, 'API call')}{ahead}, {stats.retries:,} retried.", err=True)
    if out:
        click.echo(f"Saved the plan to {out}; apply it with: {command}", err=True)
    if result.blocked:
        click.echo(f"Error: {blocked_message(result, listed=False)}", err=True)
        sys.exit(1)
    if detailed_exitcode and result.has_changes:
        sys.exit(2)


@click.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@view_options
def show(plan_file: str, view: dict[str, Any]) -> None:
    """Show a plan saved with `plan --out`, in any of the plan's formats. No API calls.

    \b
    Examples:
      mldns show plan.json
      mldns show plan.json --format html > plan.html
    """
    click.echo(render_plan(load_plan(plan_file), view))


@click.command()
@click.argument("stack_file", default=DEFAULT_STACK_FILE, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "graph_format",
    type=click.Choice(["dot", "svg"]),
    default="dot",
    show_default=True,
    help="DOT text, or an SVG drawn by Graphviz's dot.",
)
@click.option("--plan", "with_plan", is_flag=True, help="Colour each resource by what a plan does.")
@click.option(
    "-f",
    "--file",
    "file_option",
    type=click.Path(dir_okay=False),
    help="The stack file, as `resolve -f FILE` takes it.",
)
@engine_options
def graph(
    stack_file: str, graph_format: str, with_plan: bool, file_option: str | None, **opts: Any
) -> None:
    """Print the stack's dependency graph: zones and their record sets, health checks, backend
    services, IAM. Without --plan, no API calls.

    \b
    Examples:
      mldns graph stack.py | dot -Tpng > stack.png
      mldns graph stack.py --plan --local --format svg > plan.svg
    """
    from mldns.render.graph import INSTALL, render_dot, to_svg

    if file_option is not None:
        if stack_file not in (DEFAULT_STACK_FILE, file_option):
            raise UsageError(f"-f {file_option} and {stack_file} name two stack files; give one")
        stack_file = file_option

    if graph_format == "svg" and not shutil.which("dot"):
        raise UsageError(INSTALL)  # before any plan is made
    stack = load_stack(stack_file)
    plan = None
    if with_plan:
        with workspace(stack_file, opts) as ws:
            plan = ws.plan()
    dot = render_dot(stack, plan, name=stack.name)
    click.echo(to_svg(dot) if graph_format == "svg" else dot, nl=False)


def _confirm(
    auto_approve: bool, quiet: bool = False, verb: str = "apply"
) -> Callable[[Plan], bool]:
    def confirm(plan: Plan) -> bool:
        if not (quiet and auto_approve):
            click.echo(render_text(plan, color=color()))
        if auto_approve:
            return True
        if not sys.stdin.isatty():
            raise UsageError(
                f"{verb} needs confirmation, and there is no terminal to ask: rerun with --auto-approve"
            )
        question = "Destroy these resources?" if verb == "destroy" else "Apply these changes?"
        return click.confirm(question, default=False)

    return confirm


def _progress(quiet: bool) -> Progress:
    """Each unit of work as it starts and ends: a live bar on a terminal, plain lines otherwise."""
    if quiet:
        return Progress()
    if sys.stdout.isatty() and os.environ.get("TERM") != "dumb":
        return Live()
    return Lines(click.echo)


def _report(result: Any, ws: Workspace) -> None:
    from mldns.state import backend

    if not result.done:
        click.echo(
            f"No changes to apply; {count(result.calls, 'API call')}, {result.retries:,} retried."
        )
    else:
        click.echo(complete(result.applied, result.calls, result.retries))
    for name, value in result.outputs.items():
        click.echo(f"  {name} = {json.dumps(value)}")
    if backend.is_gcs(ws.store.location):
        click.echo(f"The state object was written {times(result.state_writes)}.", err=True)


def _check_saved_plan(saved: Plan, plan_file: str, opts: dict[str, Any]) -> None:
    """Refuse a saved plan made elsewhere, or on a state that has moved on, before it is shown
    and before anything (a local cloud, a state directory) is started or created."""
    from mldns.state import backend
    from mldns.target import emulator_from_env
    from mldns.workspace import check_fresh, check_target

    if opts["local"] and opts["emulator"]:
        raise UsageError("--local and --emulator contradict each other: choose one")
    url = backend.resolve(opts["backend"], opts["state_dir"])
    emulator = emulator_from_env(opts["emulator"])
    here = Target.of(local=opts["local"], emulator=emulator, state_dir=url)
    check_target(saved, here, plan_file)
    if opts["project"] and opts["project"] != saved.project:
        raise PlanFileError(
            f"{plan_file} was made for project {saved.project}, not {opts['project']}; plan again"
        )
    store = backend.open_store(url, saved.stack, emulator)
    check_fresh(saved, store.read(), url)


def _is_plan_file(path: str) -> bool:
    return Path(path).suffix != ".py" and Path(path).is_file()


@click.command()
@click.argument("target", default=DEFAULT_STACK_FILE, type=click.Path(dir_okay=False))
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option(
    "--adopt", is_flag=True, help="Take over existing resources that differ from the declaration."
)
@click.option(
    "--allow-destructive",
    is_flag=True,
    help="Allow zone deletions, IAM member removals and mass record deletions.",
)
@quiet_option
@control_options
@rules_option
@engine_options
def apply(
    target: str, auto_approve: bool, adopt: bool, allow_destructive: bool, quiet: bool, **opts: Any
) -> None:
    """Apply a stack file, or a plan saved with `plan --out`.

    \b
    Examples:
      mldns apply --local stack.py
      mldns plan stack.py --out plan.json && mldns apply plan.json
      mldns apply stack.py --refresh-only --auto-approve
    """
    check_controls(opts)
    if _is_plan_file(target):
        if opts["targets"] or opts["replace"] or opts["refresh_only"]:
            raise UsageError("a saved plan is applied as it was made: plan again with the options")
        saved = load_plan(target)
        _check_saved_plan(saved, target, opts)
        with workspace(
            None, {**opts, "project": opts["project"] or saved.project}, stack_name=saved.stack
        ) as ws:
            ws.progress = _progress(quiet)
            if not quiet:
                click.echo(render_text(saved, color=color()))
            _report(ws.apply(saved, adopt=adopt, allow_destructive=allow_destructive), ws)
        return
    with workspace(target, opts) as ws:
        ws.progress = _progress(quiet)
        confirm = _confirm(auto_approve, quiet)
        _report(ws.apply(adopt=adopt, allow_destructive=allow_destructive, confirm=confirm), ws)


@click.command()
@click.argument("stack_file", default=DEFAULT_STACK_FILE, type=click.Path(dir_okay=False))
@click.option("--auto-approve", is_flag=True, help="Destroy without asking.")
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="ADDRESS",
    help="Destroy only this resource and what depends on it (repeatable).",
)
@quiet_option
@engine_options
def destroy(stack_file: str, auto_approve: bool, quiet: bool, **opts: Any) -> None:
    """Delete everything the stack manages (and nothing else); with --target, only those
    resources and what needs them (a backend service using a health check goes with it).

    \b
    Examples:
      mldns destroy --local stack.py
      mldns destroy stack.py --auto-approve --quiet
      mldns destroy stack.py --target compute.BackendService.trainer-backend
    """
    with workspace(stack_file, opts) as ws:
        ws.progress = _progress(quiet)
        result = ws.destroy(confirm=_confirm(auto_approve, quiet, "destroy"))
    calls = f"{count(result.calls, 'API call')}, {result.retries:,} retried."
    if not result.done:
        click.echo(f"Nothing to destroy; {calls}")
        return
    click.echo(str(result))
