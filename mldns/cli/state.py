"""The verbs that read or edit the state alone: output and the state group."""

from __future__ import annotations

import json
from typing import Any

import click

from mldns.cli.options import (
    backend_options,
    lock_timeout_option,
    pop_location,
    read_state,
    state_store,
)
from mldns.errors import UsageError
from mldns.state import backend, edit, transfer
from mldns.target import emulator_from_env
from mldns.words import count


@click.command()
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
    _, state = read_state(pop_location(opts), stack_name)
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


@click.group()
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
    _, current = read_state(pop_location(opts), stack_name)
    for address in current.addresses():
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
    _, current = read_state(pop_location(opts), stack_name)
    entry = current.entry(address)
    if entry is None:
        raise edit.missing(address, current)
    click.echo(json.dumps(entry, indent=2, sort_keys=True))


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
    edit.remove(state_store(pop_location(opts), stack_name), address, lock_timeout)
    click.echo(f"Removed {address} from the state; it still exists in the cloud.")


@state.command("mv")
@click.argument("old")
@click.argument("new")
@backend_options
@lock_timeout_option
def state_mv(old: str, new: str, stack_name: str | None, lock_timeout: float, **opts: Any) -> None:
    """Record a resource under a new address (a rename in the stack), without a cloud call:
    under the state's lock, and through its journal.

    \b
    Example:
      mldns state mv 'dns.RecordSet.z/old.example.com./A' 'dns.RecordSet.z/new.example.com./A'
    """
    repointed = edit.move(state_store(pop_location(opts), stack_name), old, new, lock_timeout)
    needs = count(len(repointed), "entry", "entries")
    also = f"; {needs} that need it now name the new address" if repointed else ""
    click.echo(f"Moved {old} to {new} in the state{also}.")


@state.command("unlock")
@backend_options
@click.option("--force", is_flag=True, help="Remove the lock even if live or not mldns's.")
def state_unlock(stack_name: str | None, force: bool, **opts: Any) -> None:
    """Clear a lock left behind by a run that died (a live one only with --force).

    \b
    Example:
      mldns state unlock --stack training-dns
    """
    store = state_store(pop_location(opts), stack_name)
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
    store, current = read_state(pop_location(opts), stack_name)
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
    store = state_store(pop_location(opts), stack_name or pushed.stack)
    transfer.push(store, pushed, force=force, lock_timeout=lock_timeout)
    click.echo(f"Pushed {file} to {store.location} (serial {pushed.serial}).")


@state.command("migrate")
@click.option("--to", "target", metavar="URL", help="The backend to move to.")
@click.option(
    "--back", is_flag=True, help="Bring back a state migrated away from --backend (undo --to)."
)
@backend_options
@lock_timeout_option
def state_migrate(
    target: str | None, back: bool, stack_name: str | None, lock_timeout: float, **opts: Any
) -> None:
    """Move a stack's state to another backend (local <-> gs://), refusing another lineage.
    The old backend keeps a tombstone naming the new one, which every later run there refuses.

    \b
    Examples:
      mldns state migrate --stack training-dns --to gs://acme-mldns-state/prod
      mldns state migrate --stack training-dns --back
    """
    if back == bool(target):
        raise UsageError("give --to URL to move the state, or --back to bring it back")
    where = pop_location(opts)
    here = backend.resolve(where["backend"], where["state_dir"])
    emulator = emulator_from_env(where["emulator"])
    source = state_store(where, stack_name)
    if back:
        target, destination = here, source
        source = backend.open_store(transfer.moved_to(destination), source.stack, emulator)
    else:
        assert target is not None
        destination = backend.open_store(target, source.stack, emulator)
    moved = transfer.migrate(source, destination, target, lock_timeout=lock_timeout)
    click.echo(
        f"Moved stack {source.stack} (serial {moved.serial}) from {source.location} to "
        f"{destination.location}, leaving a tombstone there; point --backend at {target} "
        "from now on."
    )
