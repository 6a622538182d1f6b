"""What the verbs share: options, the workspace a command runs in, and where the state is."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click

from mldns import gcpause
from mldns.errors import MldnsError, UsageError
from mldns.stack import Stack, load_stack, named

# The engine (the state stores, the workspace and through them Google's client libraries) is
# imported by the functions that reach the cloud or the state, and plans, their views and the
# rules by those that show or judge a plan: `mldns validate` starts without any of them.
if TYPE_CHECKING:
    from mldns.early import EarlyRead
    from mldns.plan import Plan
    from mldns.rules import Book
    from mldns.state.format import State
    from mldns.state.store import StateStore
    from mldns.workspace import Workspace

DEFAULT_STACK_FILE = "stack.py"


def color() -> bool:
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
            help="Deadline for each call, retries and every read included: seconds, or 90s, 10m.",
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
    from mldns.render import FORMATS

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


def render_plan(plan: Plan, view: dict[str, Any], unmanaged: bool = False) -> str:
    from mldns.render import render_html, render_json, render_markdown, render_text

    fmt = view["format"]
    if fmt == "json":
        return render_json(plan)
    options = {"verbose": view["verbose"], "compact": view["compact"], "unmanaged_names": 0}
    if unmanaged:
        from mldns.providers.base import UNMANAGED_NAMES

        options["unmanaged_names"] = UNMANAGED_NAMES
    if fmt == "markdown":
        return render_markdown(plan, **options)
    if fmt == "html":
        return render_html(plan, page=True, **options)
    return render_text(plan, color=color(), **options)


def local_cloud_dir(opts: dict[str, Any]) -> str:
    """The state directory, where --local keeps its cloud (`./state` beside a gs:// backend).
    Refuses --local with --emulator, or with a gs:// backend (no bucket could exist in a cloud
    no other tool reaches)."""
    from mldns.state import backend

    url = backend.resolve(opts["backend"], opts["state_dir"])
    if opts["local"]:
        if opts["emulator"]:
            raise UsageError("--local and --emulator contradict each other: choose one")
        if backend.is_gcs(url):
            raise UsageError(
                f"--local keeps its cloud and the state in a directory, not {url}: drop "
                "--backend, or use --emulator HOST:PORT (where gcloud can make the bucket)"
            )
    return opts["state_dir"] or (url if not backend.is_gcs(url) else backend.DEFAULT_BACKEND)


@contextlib.contextmanager
def local_cloud(opts: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The options with --local made the address of its emulator, for a command that reads the
    state before it opens its workspace."""
    local_dir = local_cloud_dir(opts)
    if not opts["local"]:
        yield opts
        return
    from mldns.workspace import local_emulator

    with local_emulator(local_dir) as address:
        yield {**opts, "local": False, "emulator": address}


@contextlib.contextmanager
def workspace(
    stack_file: str | None,
    opts: dict[str, Any],
    stack_name: str | None = None,
    *,
    lock_plans: bool = True,
    read_early: bool = False,
) -> Iterator[Workspace]:
    """The workspace of a command. With `read_early` (a plan), the state is read under its lock
    as soon as the stack file names its stack, and the zones it records are listed while the
    rest of the file runs (`mldns.early`)."""
    from mldns.state import backend
    from mldns.target import emulator_from_env, resolve_project

    url = backend.resolve(opts["backend"], opts["state_dir"])
    local_dir = local_cloud_dir(opts)

    with contextlib.ExitStack() as held:
        early: list[tuple[Stack, EarlyRead | None]] = []

        def on_named(stack: Stack) -> None:
            """Read the state and start listing its zones while the stack file runs on."""
            from mldns.early import read_early
            from mldns.state.backend import open_store

            if early:
                return
            try:
                emulator = emulator_from_env(opts["emulator"])
                project = resolve_project(opts["project"], stack, bool(emulator))
            except UsageError:  # the command says so once the file has run
                return
            try:
                store = open_store(url, stack.name, emulator, opts["timeout"])
                warnings = store.warnings()
            except MldnsError:  # no credentials, no connection: met again, and said, later
                return
            for warning in warnings:
                click.echo(f"warning: {warning}", err=True)
            read = read_early(
                store,
                project,
                emulator,
                timeout=opts["timeout"],
                parallelism=opts["parallelism"],
                lock=lock_plans,
                log=lambda line: click.echo(line, err=True),
            )
            early.append((stack, read))
            if read is not None:
                held.callback(read.close)

        stack = book = None
        if read_early:
            from mldns.providers.dns_reads import min_rows

            min_rows()  # a mistyped setting is refused before the stack file runs
        if stack_file:
            watch = (
                named(on_named) if read_early and not opts["local"] else contextlib.nullcontext()
            )
            with watch:
                stack, book = load_with_rules(stack_file, opts.get("rules", ()))
        name = stack.name if stack is not None else stack_name
        if name is None:
            raise UsageError("give a stack file")
        from mldns.workspace import Workspace, local_emulator

        emulator = opts["emulator"]
        if opts["local"]:
            emulator = held.enter_context(local_emulator(local_dir))
        ws = Workspace(
            stack_name=name,
            project=resolve_project(
                opts["project"], stack, bool(opts["local"] or emulator_from_env(emulator))
            ),
            stack=stack,
            state_dir=local_dir,
            backend=url,
            emulator=emulator_from_env(emulator),
            local=bool(opts["local"]),
            lock_plans=lock_plans,
            timeout=opts["timeout"],
            lock_timeout=opts["lock_timeout"],
            parallelism=opts["parallelism"],
            log=lambda line: click.echo(line, err=True),
            interruptible=True,
            rules=book,
            targets=tuple(opts.get("targets", ())),
            replace=tuple(opts.get("replace", ())),
            refresh_only=bool(opts.get("refresh_only")),
            early=early[0][1] if early and early[0][0] is stack else None,
        )
        yield ws
        gcpause.leave_to_exit(ws)  # with its stack and plan: the command's process ends next


def load_with_rules(stack_file: str, files: tuple[str, ...] = ()) -> tuple[Stack, Book]:
    """The stack, and the rules its file, the --rules files and MLDNS_RULES declare."""
    from mldns.rules import Book, collecting, load_rules_file, rules_files

    book = Book()
    with collecting(book):
        stack = load_stack(stack_file)
    for path in rules_files(files):
        load_rules_file(path, book)
    book.check()
    return stack, book


def control_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """What plan and apply take to narrow or force a change, as Terraform's do."""
    options = [
        click.option(
            "--target",
            "targets",
            multiple=True,
            metavar="ADDRESS",
            help="Plan only this resource and what it depends on (repeatable); the plan is partial.",
        ),
        click.option(
            "--replace",
            multiple=True,
            metavar="ADDRESS",
            help="Replace this resource even if it is unchanged (repeatable).",
        ),
        click.option(
            "--refresh-only",
            is_flag=True,
            help="Take what changed outside mldns into the state; write nothing to the cloud.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def check_controls(opts: dict[str, Any], destroy: bool = False) -> None:
    if opts.get("refresh_only") and (opts.get("replace") or destroy):
        other = "--replace" if opts.get("replace") else "--destroy"
        raise UsageError(f"--refresh-only writes nothing to the cloud: drop {other}")


rules_option = click.option(
    "--rules",
    "rules",
    multiple=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="A Python file of rules and exceptions (repeatable; also MLDNS_RULES).",
)


quiet_option = click.option("--quiet", is_flag=True, help="Print only the summary line.")


def state_store(where: dict[str, Any], stack: str | None) -> StateStore:
    from mldns.state import backend
    from mldns.target import emulator_from_env

    url = backend.resolve(where["backend"], where["state_dir"])
    emulator = emulator_from_env(where["emulator"])
    return backend.open_store(url, stack or only_stack(url, emulator), emulator)


def only_stack(url: str, emulator: str | None) -> str:
    """The one stack with state at `url`, for a command given no --stack."""
    from mldns.state import backend

    names = backend.stacks(url, emulator)
    if not names:
        raise UsageError(f"no stack has state at {url}: apply one first, or name it with --stack")
    if len(names) > 1:
        raise UsageError(
            f"{url} holds state for {len(names)} stacks ({', '.join(names)}): pick one with --stack"
        )
    return names[0]


def read_state(where: dict[str, Any], stack: str | None) -> tuple[StateStore, State]:
    store = state_store(where, stack)
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


def pop_location(opts: dict[str, Any]) -> dict[str, Any]:
    return {k: opts.pop(k) for k in ("backend", "state_dir", "emulator")}


lock_timeout_option = click.option(
    "--lock-timeout", default=0.0, type=Duration(), help="How long to wait for the state lock."
)
