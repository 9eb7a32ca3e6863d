"""The claim rules of a workload binding (``anti-grazer clients bind --claim NAME=PATTERN``):
their parsing, their JSON form at rest, and their matching against a verified token's
claims (RFC 7519 §4: a claim is a name/value pair of the JWT Claims Set).

A binding holds at least one rule, and a token matches when every rule does.  A rule
matches a claim whose value is a string equal to the pattern, where each ``*`` of the
pattern stands for any run of characters, the empty run included; ``*`` crosses every
character, ``:`` and ``/`` too (``repo:org/*`` matches ``repo:org/app:ref:refs/heads/main``),
and it is the only special character (no ``?``, no ``[...]``, no escapes: a literal ``*``
in a claim is matched by ``*`` itself).  Values are compared as strings only: a claim
absent, or whose value is a number, a boolean, an array or an object, never matches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

# (claim name, pattern), sorted by name: the form a binding keeps.
ClaimRules = tuple[tuple[str, str], ...]

WILDCARD = "*"
# Claims the federation checks itself (RFC 7519 §4.1): a rule on them would be
# redundant (iss, aud) or meaningless (the times, jti).
CHECKED_CLAIMS = frozenset({"iss", "aud", "exp", "nbf", "iat", "jti"})
MAX_RULES = 16
MAX_RULE_LENGTH = 512


class ClaimRuleError(ValueError):
    """A claim rule as an operator wrote it is unusable; the message says why."""


def parse_claim_rule(text: str) -> tuple[str, str]:
    """``NAME=PATTERN`` as given to ``--claim``: a non-empty name (no ``=``) that the
    federation does not check itself, and a non-empty pattern."""
    name, equals, pattern = text.partition("=")
    name = name.strip()
    if not equals or not name or not pattern:
        raise ClaimRuleError(f"a claim rule is NAME=PATTERN, e.g. sub=repo:org/app:*: {text!r}")
    if len(text) > MAX_RULE_LENGTH or not text.isprintable():
        raise ClaimRuleError(f"a claim rule is printable and at most {MAX_RULE_LENGTH} characters")
    if name in CHECKED_CLAIMS:
        raise ClaimRuleError(f"the claim {name!r} is checked by the server itself; bind on others")
    return name, pattern


def claim_rules(rules: Iterable[str]) -> ClaimRules:
    """The rules of ``--claim`` options: at least one, each claim named once (every rule
    must match, so two on one claim would be one too many)."""
    parsed = [parse_claim_rule(rule) for rule in rules]
    if not parsed:
        raise ClaimRuleError("a binding needs at least one --claim rule (e.g. sub=...)")
    if len(parsed) > MAX_RULES:
        raise ClaimRuleError(f"a binding holds at most {MAX_RULES} claim rules")
    names = [name for name, _ in parsed]
    if len(set(names)) != len(names):
        raise ClaimRuleError("each claim may be named by one rule only")
    return tuple(sorted(parsed))


def render_claim_rules(rules: ClaimRules) -> str:
    """The rules as stored: a JSON object of name to pattern, keys sorted."""
    return json.dumps(dict(rules), sort_keys=True, separators=(",", ":"))


def read_claim_rules(stored: str) -> ClaimRules:
    """The rules of ``render_claim_rules``' JSON."""
    document = json.loads(stored)
    if not isinstance(document, dict) or not all(
        isinstance(value, str) for value in document.values()
    ):
        raise ValueError("stored claim rules are not an object of strings")
    return tuple(sorted(document.items()))


def glob_matches(pattern: str, value: str) -> bool:
    """``value`` matches ``pattern`` whose every ``*`` stands for any run of characters.
    The pieces between the stars are found left to right, each as early as it can be
    (which is enough when ``*`` is the only special character): linear in the value,
    without a regular expression's backtracking."""
    pieces = pattern.split(WILDCARD)
    if len(pieces) == 1:
        return value == pattern
    first, *middle, last = pieces
    if len(value) < len(first) + len(last) or not (
        value.startswith(first) and value.endswith(last)
    ):
        return False
    position, end = len(first), len(value) - len(last)
    for piece in middle:
        found = value.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def unmatched_rule(rules: ClaimRules, claims: Mapping[str, object]) -> str | None:
    """The name of the first rule ``claims`` do not satisfy, or None when all match."""
    for name, pattern in rules:
        value = claims.get(name)
        if not isinstance(value, str) or not glob_matches(pattern, value):
            return name
    return None
