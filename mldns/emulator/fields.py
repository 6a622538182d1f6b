"""Partial responses: the `fields` query parameter that every Google JSON API accepts.

`fields=id,status` keeps two keys of the reply; `a/b` selects inside `a`; `a(b,c)` selects `b` and
`c` inside `a`; `*` keeps every key. Inside a list, the selection applies to each element. A
selector that does not parse is a 400, as Google answers it.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ApiError

# A selection: key -> what to keep inside it (None: all of it).
Selection = dict[str, "Selection | None"]
_TOKEN = re.compile(r"\s*([A-Za-z0-9_*]+|[,/()])")


def parse_fields(text: str) -> Selection:
    tokens = _tokenize(text)
    tree, rest = _selector(tokens, text)
    if rest:
        raise _invalid(text)
    return tree


def select(value: Any, selection: Selection | None) -> Any:
    """The parts of `value` that `selection` names."""
    if selection is None:
        return value
    if isinstance(value, list):
        return [select(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in selection:
        return {key: select(item, selection["*"]) for key, item in value.items()}
    return {key: select(value[key], sub) for key, sub in selection.items() if key in value}


def _tokenize(text: str) -> list[str]:
    tokens, pos, end = [], 0, len(text.rstrip())
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _invalid(text)
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def _selector(tokens: list[str], text: str) -> tuple[Selection, list[str]]:
    tree: Selection = {}
    while True:
        path, tokens = _path(tokens, text)
        sub: Selection | None = None
        if tokens and tokens[0] == "(":
            sub, tokens = _selector(tokens[1:], text)
            if not tokens or tokens[0] != ")":
                raise _invalid(text)
            tokens = tokens[1:]
        _merge(tree, path, sub)
        if not tokens or tokens[0] != ",":
            return tree, tokens
        tokens = tokens[1:]


def _path(tokens: list[str], text: str) -> tuple[list[str], list[str]]:
    path = []
    while True:
        if not tokens or tokens[0] in ",/()":
            raise _invalid(text)
        path.append(tokens[0])
        tokens = tokens[1:]
        if not tokens or tokens[0] != "/":
            return path, tokens
        tokens = tokens[1:]


def _merge(tree: Selection, path: list[str], sub: Selection | None) -> None:
    node = tree
    for key in path[:-1]:
        if key in node and node[key] is None:
            return  # already selected whole
        node = node.setdefault(key, {})  # type: ignore[assignment]
    last = path[-1]
    if sub is None or (last in node and node[last] is None):
        node[last] = None
        return
    existing = node.setdefault(last, {})
    for key, inner in sub.items():
        _merge(existing, [key], inner)  # type: ignore[arg-type]


def _invalid(text: str) -> ApiError:
    return ApiError(400, "invalidParameter", f"Invalid field selection {text}")
