"""Run a book of rules over a plan view: each rule sees its zones and kinds, exceptions apply,
and a rule that fails is reported as that rule's error instead of stopping the others."""

from __future__ import annotations

import datetime
import functools
import os
import runpy
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from mldns.errors import one_line
from mldns.plan import Plan
from mldns.resources.base import Resource
from mldns.rules.registry import Book, Rule, RulesError, collecting
from mldns.rules.view import Answers, Item, PlanView, answers_of, build_view
from mldns.violations import ERROR, Violation

if TYPE_CHECKING:  # a stack is judged, never loaded, here
    from mldns.providers.base import Provider
    from mldns.stack import Stack

RULES_ENV = "MLDNS_RULES"
OFFLINE_PROJECT = "mldns-local"  # names health checks in bodies when the stack names no project


def evaluate(
    book: Book, view: PlanView, today: datetime.date | None = None
) -> tuple[Violation, ...]:
    """Every violation the book's rules find in `view`, exceptions applied, in rule order."""
    today = today or datetime.date.today()
    answers = answers_of(view)
    found: list[Violation] = []
    for rule in book.rules.values():
        shown = view.filtered(functools.partial(_covers, rule))
        try:
            results = list(_violations(rule, shown, answers))
        except Exception as exc:  # a user's rule: any failure is that rule's, reported in one line
            found.append(Violation(rule.id, ERROR, "", _failure(rule, exc)))
            continue
        for address, message in results:
            allowance = book.allowance(rule.id, address)
            if allowance is None:
                found.append(Violation(rule.id, rule.level, address, message))
            elif allowance.expired(today):
                found.append(
                    Violation(
                        rule.id,
                        rule.level,
                        address,
                        f"{message} (the exception {allowance.reason!r} expired on {allowance.until})",
                    )
                )
    return tuple(found)


def _covers(rule: Rule, item: Item) -> bool:
    return rule.covers_kind(item.kind) and rule.covers_zone(item.zone)


class _NotViolations(Exception):
    pass


def _violations(rule: Rule, view: PlanView, answers: Answers) -> Iterator[tuple[str, str]]:
    results = rule.func(view, answers)
    if results is None:
        return
    if isinstance(results, (str, bytes, dict)) or not isinstance(results, Iterable):
        raise _NotViolations(f"returned {type(results).__name__}")
    for result in results:
        pair = _pair(result)
        if pair is None:
            raise _NotViolations(f"yielded {result!r}")
        yield pair


def _pair(result: Any) -> tuple[str, str] | None:
    if isinstance(result, Violation):
        return result.address, result.message
    if isinstance(result, tuple) and len(result) == 2 and all(isinstance(x, str) for x in result):
        return result[0], result[1]
    return None


def _failure(rule: Rule, exc: Exception) -> str:
    if isinstance(exc, _NotViolations):
        return f"the rule {exc}, not violations (address, message)"
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return one_line(f"the rule failed{where}: {type(exc).__name__}: {exc}")


# --- rules files -------------------------------------------------------------------------------


def load_rules_file(path: str | os.PathLike[str], book: Book) -> None:
    """Run a rules file, collecting what it declares into `book`; errors name file and line."""
    path = Path(path)
    if not path.is_file():
        raise RulesError(f"{path}: no such rules file")
    with collecting(book):
        try:
            runpy.run_path(str(path), run_name="__mldns_rules__")
        except SyntaxError as exc:
            raise RulesError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
        except RulesError as exc:
            raise RulesError(f"{path}:{_line(exc, path)}: {exc}") from None
        except Exception as exc:
            raise RulesError(f"{path}:{_line(exc, path)}: {type(exc).__name__}: {exc}") from None


def rules_files(given: Iterable[str]) -> list[str]:
    """The files of --rules, then those of MLDNS_RULES (separated as PATH is)."""
    from_env = [p for p in os.environ.get(RULES_ENV, "").split(os.pathsep) if p]
    return [*given, *from_env]


def _line(exc: BaseException, path: Path) -> str:
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if Path(f.filename).resolve() == path.resolve()
    ]
    return str(frames[-1].lineno) if frames else "?"


# --- over a plan -------------------------------------------------------------------------------


def judge(
    plan: Plan,
    book: Book,
    declared: dict[str, Resource],
    providers: list[Provider],
    today: datetime.date | None = None,
) -> Plan:
    """`plan` with what the book's rules find in it (the plan itself when there are no rules)."""
    if not book.rules:
        return plan
    by_kind = {kind: p for p in providers for kind in p.kinds}

    def body_of(resource: Resource) -> dict[str, Any] | None:
        provider = by_kind.get(resource.kind)
        if provider is None or resource.kind in getattr(provider, "bulk_kinds", frozenset()):
            return None
        return provider.desired_body(resource, plan.project)

    view = build_view(plan, declared, body_of)
    return attrs.evolve(plan, violations=evaluate(book, view, today))


def judge_offline(stack: Stack, book: Book) -> Plan:
    """The stack judged as declared, without reading the cloud (`mldns check`): a plan with no
    actions, in which every declared resource is shown to the rules as "="."""
    from mldns.clients import Clients  # the Google libraries, only when a stack is checked
    from mldns.providers.registry import build_providers

    project = stack.project or OFFLINE_PROJECT
    empty = Plan(stack=stack.name, project=project, lineage=None, serial=0, actions=())
    return judge(empty, book, stack.resources, build_providers(Clients(project)))


def blocked_message(plan: Plan, listed: bool = True) -> str:
    """The one line that says why a plan may not be applied (the rules' ids only, when the plan
    shown above lists each violation)."""
    blocked = plan.blocked
    if not listed:
        ids = ", ".join(dict.fromkeys(v.rule for v in blocked))
        return f"the plan breaks {len(blocked)} rule{'s' if len(blocked) != 1 else ''} ({ids}); it cannot be applied"
    shown = "; ".join(v.text() for v in blocked[:3])
    more = f"; and {len(blocked) - 3} more" if len(blocked) > 3 else ""
    return f"the plan breaks {len(blocked)} rule{'s' if len(blocked) != 1 else ''}: {shown}{more}"
