"""`mldns rules list` and `mldns check`: the guardrails, without a refresh."""

from __future__ import annotations

import json
import sys

import click

from mldns.cli.options import DEFAULT_STACK_FILE, load_with_rules, rules_option
from mldns.render.notes import rules as rule_lines
from mldns.rules import PACK
from mldns.rules.evaluate import blocked_message, judge_offline
from mldns.violations import tally
from mldns.words import count


@click.group("rules")
def rules() -> None:
    """The rules plans are judged by.

    \b
    Example:
      mldns rules list stack.py --rules org-rules.py
    """


@rules.command("list")
@click.argument("stack_file", default=DEFAULT_STACK_FILE, type=click.Path(dir_okay=False))
@rules_option
@click.option("--json", "as_json", is_flag=True, help="Print the rules as JSON.")
def rules_list(stack_file: str, rules: tuple[str, ...], as_json: bool) -> None:
    """List the built-in pack and the rules the stack and rules files declare, and whether each
    is in force. No API calls.

    \b
    Examples:
      mldns rules list
      mldns rules list stack.py --rules org-rules.py --json
    """
    _, book = load_with_rules(stack_file, rules)
    rows = [
        {
            "id": r.id,
            "level": r.level,
            "in_force": True,
            "source": r.source,
            "doc": r.doc,
            "zones": list(r.zones),
            "kinds": list(r.kinds),
        }
        for r in book.rules.values()
    ]
    rows += [
        {
            "id": b.id,
            "level": b.level,
            "in_force": False,
            "source": "built-in",
            "doc": b.doc,
            "zones": [],
            "kinds": list(b.kinds),
        }
        for b in PACK.values()
        if b.id not in book.rules
    ]
    exceptions = [
        {
            "rule": a.rule,
            "address": a.address,
            "reason": a.reason,
            "until": a.until.isoformat() if a.until else None,
        }
        for a in book.allowances
    ]
    if as_json:
        click.echo(json.dumps({"rules": rows, "exceptions": exceptions}, indent=2))
        return
    for row in rows:
        state = row["level"] if row["in_force"] else f"off ({row['level']} with mldns.use)"
        click.echo(f"{row['id']}  [{state}]  {row['source']}")
        if row["doc"]:
            click.echo(f"    {row['doc']}")
    for allowed in exceptions:
        until = f" until {allowed['until']}" if allowed["until"] else ""
        click.echo(
            f"exception: {allowed['rule']} for {allowed['address']}{until}: {allowed['reason']}"
        )


@click.command()
@click.argument("stack_file", default=DEFAULT_STACK_FILE, type=click.Path(dir_okay=False))
@rules_option
def check(stack_file: str, rules: tuple[str, ...]) -> None:
    """Judge the stack by its rules as declared, without a refresh: for pre-commit hooks and CI.
    No API calls; exits 1 when a mandatory rule is broken or a rule fails.

    \b
    Examples:
      mldns check stack.py
      mldns check stack.py --rules org-rules.py
    """
    stack, book = load_with_rules(stack_file, rules)
    judged = judge_offline(stack, book)
    for line in rule_lines(judged):
        click.echo(line)
    found = tally(judged.violations) or "No violations."
    click.echo(
        f"Checked {count(len(stack), 'resource')} against {count(len(book.rules), 'rule')}. {found}"
    )
    if judged.blocked:
        click.echo(f"Error: {blocked_message(judged, listed=False)}", err=True)
        sys.exit(1)
