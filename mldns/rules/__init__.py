"""Guardrails as code: rules over plans and the answers the DNS will give, with exceptions.

Stack files and rules files declare them (`mldns.rule`, `mldns.use`, `mldns.allow`); the
workspace evaluates them after each plan, and the plan carries what they found.
"""

from mldns.rules.builtin import PACK, use
from mldns.rules.evaluate import evaluate, judge, judge_offline, load_rules_file, rules_files
from mldns.rules.registry import Allowance, Book, Rule, RulesError, allow, collecting, rule
from mldns.rules.view import Answers, Item, PlanView, answers_of, build_view

__all__ = [
    "PACK",
    "Allowance",
    "Answers",
    "Book",
    "Item",
    "PlanView",
    "Rule",
    "RulesError",
    "allow",
    "answers_of",
    "build_view",
    "collecting",
    "evaluate",
    "judge",
    "judge_offline",
    "load_rules_file",
    "rule",
    "rules_files",
    "use",
]
