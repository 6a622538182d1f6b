"""The `mldns` command: a thin click shell over Workspace, the same engine notebooks use."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from mldns import backend, gcpause, transfer
from mldns.clients import emulator_from_env
from mldns.errors import Interrupted, MldnsError, PlanFileError, UsageError, one_line
from mldns.plan import Plan, load_plan, save_plan
from mldns.progress import Lines, Live, Progress, complete
from mldns.providers.base import UNMANAGED_NAMES
from mldns.render import FORMATS, render_html, render_json, render_markdown, render_text
from mldns.stack import load_stack
from mldns.state import State
from mldns.state_store import StateStore
from mldns.target import Target, apply_command
from mldns.workspace import (
    Workspace,
    check_fresh,
    check_target,
    local_emulator,
    resolve_project,
)

DEFAULT_STACK_FILE = "stack.py"


def _color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


class Duration(click.ParamType):
    """Seconds, as a number or with a unit: 30, 10s, 2m, 1h, 500ms."""

    name = "duration"
    UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

    def __init__(self, minimum: float = 0.0) -> None:
        self.minimum = minimum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = float(value)
        else:
            match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*", str(value))
            if match is None:
                self.fail(
                    f"{value!r} is not a duration: give seconds (30) or 10s, 2m, 1h", param, ctx
                )
            seconds = float(match[1]) * self.UNITS[match[2] or "s"]
        if seconds < self.minimum:
            self.fail(f"{value!r} is less than {self.minimum:g} s", param, ctx)
        return seconds


def engine_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options every command that talks to the cloud shares."""
    options = [
        click.option(
            "--project",
            help="Google Cloud project id (default: the stack's, or GOOGLE_CLOUD_PROJECT).",
        ),
        click.option(
            "--emulator",
            metavar="HOST:PORT",
            help="Use an mldns emulator: HOST:PORT or http://HOST:PORT (or MLDNS_EMULATOR_HOST).",
        ),
        click.option(
            "--local",
            is_flag=True,
            help="Start an in-process emulator whose cloud lives in STATE_DIR/local-cloud.json.",
        ),
        click.option(
            "--backend",
            metavar="URL",
            help="Where the state lives: a directory or gs://BUCKET/PREFIX (or set MLDNS_BACKEND; default: state).",
        ),
        click.option(
            "--state-dir",
            type=click.Path(file_okay=False),
            help="The state directory: --backend's older name.",
        ),
        click.option(
            "--timeout",
            default=600.0,
            show_default=True,
            type=Duration(minimum=1),
            help="Deadline for each call, retries included: seconds, or 90s, 10m.",
        ),
        click.option(
            "--lock-timeout",
            default=0.0,
            show_default=True,
            type=Duration(),
            help="How long to wait for the state lock: seconds, or 10s, 2m.",
        ),
        click.option(
            "--parallelism",
            default=10,
            show_default=True,
            type=click.IntRange(min=1, max=256),
            help="Independent units of work run at once.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def view_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """How a plan is shown: plan and show share these; they arrive as one `view` dict."""
    options = [
        click.option(
            "--format",
            "view_format",
            type=click.Choice(FORMATS),
            default="text",
            show_default=True,
            help="text for terminals, json for programs, markdown for pull requests, html for browsers.",
        ),
        click.option("--compact", is_flag=True, help="One line per action, no field details."),
        click.option(
            "--verbose",
            is_flag=True,
            help="List every action in full, deletes' fields too; never summarise large groups.",
        ),
    ]
    for option in reversed(options):
        func = option(func)

    def wrapped(*args: Any, view_format: str, compact: bool, verbose: bool, **kwargs: Any) -> Any:
        view = {"format": view_format, "compact": compact, "verbose": verbose}
        return func(*args, view=view, **kwargs)

    return functools.update_wrapper(wrapped, func)


def _render(plan: Plan, view: dict[str, Any], unmanaged: bool = False) -> str:
    fmt = view["format"]
    if fmt == "json":
        return render_json(plan)
    options = {
        "verbose": view["verbose"],
        "compact": view["compact"],
        "unmanaged_names": UNMANAGED_NAMES if unmanaged else 0,
    }
    if fmt == "markdown":
        return render_markdown(plan, **options)
    if fmt == "html":
        return render_html(plan, page=True, **options)
    return render_text(plan, color=_color(), **options)


@contextlib.contextmanager
def _workspace(
    stack_file: str | None, opts: dict[str, Any], stack_name: str | None = None
) -> Iterator[Workspace]:
    if opts["local"] and opts["emulator"]:
        raise UsageError("--local and --emulator contradict each other: choose one")
    stack = load_stack(stack_file) if stack_file else None
    name = stack.name if stack is not None else stack_name
    if name is None:
        raise UsageError("give a stack file")
    url = backend.resolve(opts["backend"], opts["state_dir"])
    local_dir = opts["state_dir"] or (url if not backend.is_gcs(url) else backend.DEFAULT_BACKEND)
    with contextlib.ExitStack() as stack_ctx:
        emulator = opts["emulator"]
        if opts["local"]:
            emulator = stack_ctx.enter_context(local_emulator(local_dir))
        project = resolve_project(opts["project"], stack, bool(opts["local"] or emulator))
        yield Workspace(
            stack_name=name,
            project=project,
            stack=stack,
            state_dir=local_dir,
            backend=url,
            emulator=emulator_from_env(emulator),
            local=bool(opts["local"]),
            timeout=opts["timeout"],
            lock_timeout=opts["lock_timeout"],
            parallelism=opts["parallelism"],
            log=lambda line: click.echo(line, err=True),
            interruptible=True,
        )


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


@cli.command()
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
    click.echo(f"Stack {stack.name}: {len(stack)} resources, all valid.")


@cli.command()
@click.argument("stack_file", default=DEFAULT_STACK_FILE, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (format_version 1).")
@view_options
@click.option(
    "--show-unmanaged",
    is_flag=True,
    help="List the record sets left alone (up to 1,000 a zone), not only count them.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Save the plan for `mldns apply FILE`."
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
    """
    with _workspace(stack_file, opts) as ws:
        ws.lock_plans = lock and not no_lock
        if not ws.lock_plans:
            click.echo(
                "Reading the state without its lock: an apply running now may show as changes.",
                err=True,
            )
        result = ws.plan(destroy=destroy)
    stats = ws.clients.stats  # the plan's calls: the workspace made nothing else
    if out:
        save_plan(result, out)
    if as_json:
        view["format"] = "json"
    click.echo(_render(result, view, show_unmanaged))
    click.echo(f"{stats.calls} API calls, {stats.retries} retried.", err=True)
    if out:
        click.echo(
            f"Saved the plan to {out}; apply it with: {apply_command(result.target, out)}", err=True
        )
    if detailed_exitcode and result.has_changes:
        sys.exit(2)


@cli.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@view_options
def show(plan_file: str, view: dict[str, Any]) -> None:
    """Show a plan saved with `plan --out`, in any of the plan's formats. No API calls.

    \b
    Examples:
      mldns show plan.json
      mldns show plan.json --format html > plan.html
    """
    click.echo(_render(load_plan(plan_file), view))


@cli.command()
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
@engine_options
def graph(stack_file: str, graph_format: str, with_plan: bool, **opts: Any) -> None:
    """Print the stack's dependency graph: zones and their record sets, health checks, backend
    services, IAM. Without --plan, no API calls.

    \b
    Examples:
      mldns graph stack.py | dot -Tpng > stack.png
      mldns graph stack.py --plan --local --format svg > plan.svg
    """
    from mldns.render.graph import INSTALL, render_dot, to_svg

    if graph_format == "svg" and not shutil.which("dot"):
        raise UsageError(INSTALL)  # before any plan is made
    stack = load_stack(stack_file)
    plan = None
    if with_plan:
        with _workspace(stack_file, opts) as ws:
            plan = ws.plan()
    dot = render_dot(stack, plan, name=stack.name)
    click.echo(to_svg(dot) if graph_format == "svg" else dot, nl=False)


def _confirm(
    auto_approve: bool, quiet: bool = False, verb: str = "apply"
) -> Callable[[Plan], bool]:
    def confirm(plan: Plan) -> bool:
        if not (quiet and auto_approve):
            click.echo(render_text(plan, color=_color()))
        if auto_approve:
            return True
        if not sys.stdin.isatty():
            raise UsageError(
                f"{verb} needs confirmation, and there is no terminal to ask: rerun with --auto-approve"
            )
        question = "Destroy these resources?" if verb == "destroy" else "Apply these changes?"
        return click.confirm(question, default=False)

    return confirm


quiet_option = click.option("--quiet", is_flag=True, help="Print only the summary line.")


def _progress(quiet: bool) -> Progress:
    """Each unit of work as it starts and ends: a live bar on a terminal, plain lines otherwise."""
    if quiet:
        return Progress()
    if sys.stdout.isatty() and os.environ.get("TERM") != "dumb":
        return Live()
    return Lines(click.echo)


def _report(result: Any, ws: Workspace) -> None:
    if not result.done:
        click.echo(f"No changes to apply; {result.calls} API calls, {result.retries} retried.")
    else:
        click.echo(complete(result.applied, result.calls, result.retries))
    for name, value in result.outputs.items():
        click.echo(f"  {name} = {json.dumps(value)}")
    if backend.is_gcs(ws.store.location):
        click.echo(f"The state object was written {result.state_writes} times.", err=True)


def _check_saved_plan(saved: Plan, plan_file: str, opts: dict[str, Any]) -> None:
    """Refuse a saved plan made elsewhere, or on a state that has moved on, before it is shown
    and before anything (a local cloud, a state directory) is started or created."""
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


@cli.command()
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
@engine_options
def apply(
    target: str, auto_approve: bool, adopt: bool, allow_destructive: bool, quiet: bool, **opts: Any
) -> None:
    """Apply a stack file, or a plan saved with `plan --out`.

    \b
    Examples:
      mldns apply --local stack.py
      mldns plan stack.py --out plan.json && mldns apply plan.json
    """
    if _is_plan_file(target):
        saved = load_plan(target)
        _check_saved_plan(saved, target, opts)
        with _workspace(
            None, {**opts, "project": opts["project"] or saved.project}, stack_name=saved.stack
        ) as ws:
            ws.progress = _progress(quiet)
            if not quiet:
                click.echo(render_text(saved, color=_color()))
            _report(ws.apply(saved, adopt=adopt, allow_destructive=allow_destructive), ws)
        return
    with _workspace(target, opts) as ws:
        ws.progress = _progress(quiet)
        confirm = _confirm(auto_approve, quiet)
        _report(ws.apply(adopt=adopt, allow_destructive=allow_destructive, confirm=confirm), ws)


@cli.command()
@click.argument("stack_file", default=DEFAULT_STACK_FILE, type=click.Path(dir_okay=False))
@click.option("--auto-approve", is_flag=True, help="Destroy without asking.")
@quiet_option
@engine_options
def destroy(stack_file: str, auto_approve: bool, quiet: bool, **opts: Any) -> None:
    """Delete everything the stack manages (and nothing else).

    \b
    Examples:
      mldns destroy --local stack.py
      mldns destroy stack.py --auto-approve --quiet
    """
    with _workspace(stack_file, opts) as ws:
        ws.progress = _progress(quiet)
        result = ws.destroy(confirm=_confirm(auto_approve, quiet, "destroy"))
    calls = f"{result.calls} API calls, {result.retries} retried."
    if not result.done:
        click.echo(f"Nothing to destroy; {calls}")
        return
    destroyed = result.applied.get("delete", 0)
    click.echo(f"Destroy complete: {destroyed} resources destroyed; {calls}")


def _state_store(where: dict[str, Any], stack: str | None) -> StateStore:
    url = backend.resolve(where["backend"], where["state_dir"])
    emulator = emulator_from_env(where["emulator"])
    if stack is None:
        names = backend.stacks(url, emulator)
        if len(names) != 1:
            choice = ", ".join(names) or "none"
            raise UsageError(
                f"{url} holds state for {len(names)} stacks ({choice}): pick one with --stack"
            )
        stack = names[0]
    return backend.open_store(url, stack, emulator)


def _read_state(where: dict[str, Any], stack: str | None) -> tuple[StateStore, State]:
    store = _state_store(where, stack)
    state = store.read()
    if state is None:
        raise UsageError(f"no state for stack {store.stack} at {store.location}")
    return store, state


def backend_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Where the state is, for commands that touch the state alone."""
    options = [
        click.option("--backend", metavar="URL", help="A directory or gs://BUCKET/PREFIX."),
        click.option(
            "--state-dir", type=click.Path(file_okay=False), help="--backend's older name."
        ),
        click.option(
            "--emulator",
            metavar="HOST:PORT",
            help="Reach gs:// state in an mldns emulator (or set MLDNS_EMULATOR_HOST).",
        ),
        click.option(
            "--stack",
            "stack_name",
            help="Which stack's state (needed when the backend holds several).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _where(opts: dict[str, Any]) -> dict[str, Any]:
    return {k: opts.pop(k) for k in ("backend", "state_dir", "emulator")}


@cli.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True)
@backend_options
def output(name: str | None, as_json: bool, stack_name: str | None, **opts: Any) -> None:
    """Print the stack's outputs, from the state alone.

    \b
    Examples:
      mldns output
      mldns output name_servers --json
      mldns output --backend gs://acme-mldns-state/prod --stack training-dns
    """
    _, state = _read_state(_where(opts), stack_name)
    outputs = state.outputs
    if name is not None:
        if name not in outputs:
            raise UsageError(
                f"no output named {name!r}; known: {', '.join(sorted(outputs)) or 'none'}"
            )
        value = outputs[name]
        click.echo(json.dumps(value) if as_json or not isinstance(value, str) else value)
        return
    if as_json:
        click.echo(json.dumps(outputs, indent=2, sort_keys=True))
    else:
        for key, value in sorted(outputs.items()):
            click.echo(f"{key} = {json.dumps(value)}")


@cli.group()
def state() -> None:
    """Inspect, edit or move the state (no cloud calls but the state's own).

    \b
    Examples:
      mldns state list
      mldns state show dns.ManagedZone.ml-zone --stack training-dns
      mldns state migrate --to gs://acme-mldns-state/prod
    """


@state.command("list")
@backend_options
def state_list(stack_name: str | None, **opts: Any) -> None:
    """List managed resource addresses.

    \b
    Example:
      mldns state list --state-dir state
    """
    _, current = _read_state(_where(opts), stack_name)
    for address in sorted(current.resources):
        click.echo(address)


@state.command("show")
@click.argument("address")
@backend_options
def state_show(address: str, stack_name: str | None, **opts: Any) -> None:
    """Show one resource as recorded.

    \b
    Example:
      mldns state show 'dns.RecordSet.ml-zone/coordinator.ml.example.com./A'
    """
    _, current = _read_state(_where(opts), stack_name)
    if address not in current.resources:
        raise UsageError(f"{address} is not in the state")
    click.echo(json.dumps(current.resources[address], indent=2, sort_keys=True))


lock_timeout_option = click.option(
    "--lock-timeout", default=0.0, type=Duration(), help="How long to wait for the state lock."
)


@state.command("rm")
@click.argument("address")
@backend_options
@lock_timeout_option
def state_rm(address: str, stack_name: str | None, lock_timeout: float, **opts: Any) -> None:
    """Forget a resource without deleting it from the cloud.

    \b
    Example:
      mldns state rm 'dns.RecordSet.ml-zone/legacy.ml.example.com./A'
    """
    store = _state_store(_where(opts), stack_name)
    with store.lock("state rm", timeout=lock_timeout):
        current = store.read()
        if current is None or address not in current.resources:
            raise UsageError(f"{address} is not in the state")
        del current.resources[address]
        current.serial += 1
        store.write(current)
    click.echo(f"Removed {address} from the state; it still exists in the cloud.")


@state.command("unlock")
@backend_options
@click.option("--force", is_flag=True, help="Remove the lock even if live or not mldns's.")
def state_unlock(stack_name: str | None, force: bool, **opts: Any) -> None:
    """Clear a lock left behind by a run that died (a live one only with --force).

    \b
    Example:
      mldns state unlock --stack training-dns
    """
    store = _state_store(_where(opts), stack_name)
    holder = store.unlock(force=force)
    click.echo(
        f"Unlocked {store.location}"
        + (f" (was held by {holder.describe()})" if holder else " (no holder was recorded)")
    )


@state.command("pull")
@backend_options
def state_pull(stack_name: str | None, **opts: Any) -> None:
    """Print the state as stored.

    \b
    Example:
      mldns state pull --backend gs://acme-mldns-state/prod > training-dns.json
    """
    store, current = _read_state(_where(opts), stack_name)
    click.echo(b"".join(store.encode(current)).decode(), nl=False)


@state.command("push")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@backend_options
@lock_timeout_option
@click.option("--force", is_flag=True, help="Write even a different lineage or an older serial.")
def state_push(
    file: str, stack_name: str | None, lock_timeout: float, force: bool, **opts: Any
) -> None:
    """Write FILE as the stack's state, under the lock.

    \b
    Example:
      mldns state push training-dns.json --backend gs://acme-mldns-state/prod
    """
    pushed = transfer.load_file(file)
    store = _state_store(_where(opts), stack_name or pushed.stack)
    transfer.push(store, pushed, force=force, lock_timeout=lock_timeout)
    click.echo(f"Pushed {file} to {store.location} (serial {pushed.serial}).")


@state.command("migrate")
@click.option("--to", "target", required=True, metavar="URL", help="The backend to move to.")
@backend_options
@lock_timeout_option
def state_migrate(target: str, stack_name: str | None, lock_timeout: float, **opts: Any) -> None:
    """Move a stack's state to another backend (local <-> gs://), refusing another lineage.

    \b
    Example:
      mldns state migrate --stack training-dns --to gs://acme-mldns-state/prod
    """
    where = _where(opts)
    source = _state_store(where, stack_name)
    destination = backend.open_store(target, source.stack, emulator_from_env(where["emulator"]))
    moved = transfer.migrate(source, destination, lock_timeout=lock_timeout)
    click.echo(
        f"Moved stack {source.stack} (serial {moved.serial}) from {source.location} to {destination.location}; point --backend at {target} from now on."
    )


@cli.command()
@click.option(
    "--zone", "zones", multiple=True, metavar="NAME", help="Only this zone (repeat; live, octoDNS)."
)
@click.option(
    "--only",
    default="dns,compute,iam",
    show_default=True,
    metavar="PARTS",
    help="Live: which APIs to read, comma-separated.",
)
@click.option(
    "--iam-bindings", is_flag=True, help="IAM as authoritative bindings, not additive members."
)
@click.option("--from-zone-file", type=click.Path(dir_okay=False), help="A BIND zone file.")
@click.option("--dns-name", help="The zone file's domain, e.g. example.com.")
@click.option("--zone-name", help="The managed zone's name (default: from the domain).")
@click.option("--from-octodns", type=click.Path(dir_okay=False), help="An octoDNS config.")
@click.option(
    "--from-terraform-state", type=click.Path(dir_okay=False), help="A terraform.tfstate (v4)."
)
@click.option("--stack-name", help="The generated stack's name (default: from the source).")
@click.option("-o", "--output", "out", type=click.Path(), help="Write the stack to FILE.")
@click.option("--force", is_flag=True, help="Overwrite the -o file if it exists.")
@engine_options
def generate(out: str | None, force: bool, **opts: Any) -> None:
    """Write the stack file for what exists: a live project, a zone file, octoDNS or Terraform.

    Exits 3 when the source holds something a stack cannot declare (each is a comment in the
    file and a line on stderr).

    \b
    Examples:
      mldns generate --project my-project -o stack.py
      mldns generate --from-zone-file db.example.com --dns-name example.com. -o stack.py
      mldns generate --from-octodns config/production.yaml --zone example.com.
      mldns generate --from-terraform-state terraform.tfstate -o stack.py
    """
    from mldns.generate.command import run_generate

    code = run_generate(out, force, opts, lambda line: click.echo(line, err=True))
    if code:
        sys.exit(code)


@cli.command()
@click.argument("name", required=False)
@click.argument("rtype", metavar="[TYPE]", default="A")
@click.option("--from", "from_region", metavar="REGION", help="The client's Google Cloud region.")
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
    down: tuple[str, ...],
    live: bool,
    samples: int | None,
    matrix: bool,
    as_json: bool,
    stack_file: str,
    **opts: Any,
) -> None:
    """What Cloud DNS answers NAME [TYPE] to a client in a region, and why.

    \b
    Examples:
      mldns resolve dataset.ml.example.com. --from europe-west4
      mldns resolve --matrix --down 203.0.113.20
    """
    from mldns import resolve as rs

    if matrix and (name or from_region or samples):
        raise UsageError("--matrix answers every routed name from every region: drop NAME/--from")
    if not matrix and not (name and from_region):
        raise UsageError("give NAME and --from REGION, or --matrix")
    down_ips = rs.check_down(down)
    region = rs.check_region(from_region) if from_region else None
    if live:
        has_file = Path(stack_file).is_file() or stack_file != DEFAULT_STACK_FILE
        with _workspace(stack_file if has_file else None, opts) as ws:
            zones = rs.live_zones(ws.clients, ws.project)
    else:
        zones = rs.declared_zones(load_stack(stack_file))
    if matrix:
        table = rs.matrix(zones, down_ips)
        click.echo(json.dumps(table.to_dict(), indent=2) if as_json else str(table))
        return
    assert name is not None
    result = rs.answer(zones, name, rtype, region, down_ips)
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


@cli.command("import")
@click.argument("address")
@click.argument("ident", metavar="ID")
@click.argument("stack_file", default=DEFAULT_STACK_FILE, type=click.Path(dir_okay=False))
@engine_options
def import_(address: str, ident: str, stack_file: str, **opts: Any) -> None:
    """Record an existing resource in the state under ADDRESS, without changing it.

    ID names the object the declaration names: a zone's or health check's name (or its
    projects/P/... path), ZONE/NAME/TYPE for a record set, a role, or 'ROLE MEMBER'.

    \b
    Examples:
      mldns import dns.ManagedZone.prod-zone prod-zone
      mldns import dns.RecordSet.prod-zone/www.example.com./A prod-zone/www.example.com./A
      mldns import iam.ProjectIamMember.roles/dns.reader/user:a@example.com "roles/dns.reader user:a@example.com"
    """
    from mldns.importer import import_resource

    with _workspace(stack_file, opts) as ws:
        click.echo(import_resource(ws, address, ident))


@cli.command()
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
    from mldns.emulator import parse_quota, serve

    try:
        quotas = parse_quota(list(quota))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    gcpause.on_for_server()
    if probe_health and dns_port is None:
        raise UsageError("--probe-health feeds the DNS server: give --dns-port too")
    serve(
        host=host,
        port=port,
        data_file=data,
        quota=quotas,
        dns_port=dns_port,
        probe_health=probe_health,
    )


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
