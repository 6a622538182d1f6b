"""The verbs that bring what exists into mldns: generate a stack, import into the state."""

from __future__ import annotations

import sys
from typing import Any

import click

from mldns.cli.options import DEFAULT_STACK_FILE, engine_options, workspace


@click.command()
@click.option(
    "--zone", "zones", multiple=True, metavar="NAME", help="Only this zone (repeat; live, octoDNS)."
)
@click.option(
    "--only",
    metavar="PARTS",
    help="Live: which APIs to read, comma-separated.  [default: dns,compute,iam; dns with --zone]",
)
@click.option(
    "--iam-bindings", is_flag=True, help="IAM as authoritative bindings, not additive members."
)
@click.option("--from-zone-file", type=click.Path(dir_okay=False), help="A BIND zone file.")
@click.option(
    "--dns-name",
    help="The zone file's domain, e.g. example.com. (default: the file's leading $ORIGIN).",
)
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


@click.command("import")
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

    with workspace(stack_file, opts) as ws:
        click.echo(import_resource(ws, address, ident))
