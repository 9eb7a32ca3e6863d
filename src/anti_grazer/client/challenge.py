"""Reading ``WWW-Authenticate`` challenges (RFC 7235 §4.1, RFC 9110 §11.6.1) for the one
answer a client of bearer tokens acts on: a ``Bearer`` challenge whose ``error`` is
``invalid_token`` (RFC 6750 §3.1: the token is expired, revoked or otherwise invalid, and
a fresh one may succeed).  Every other challenge, and any value that does not parse, means
"do not retry"."""

from __future__ import annotations

import re
from collections.abc import Iterable

INVALID_TOKEN = "invalid_token"  # noqa: S105 - an error code (RFC 6750 §3.1)

# RFC 9110 §5.6.2 token, §5.6.4 quoted-string, §11.2 token68.
_TCHARS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_SCHEME = re.compile(rf"({_TCHARS})(?:[ \t]+|(?=,)|$)")
# auth-param = token BWS "=" BWS ( token / quoted-string ), then a comma or the end.
_PARAM = re.compile(rf"({_TCHARS})[ \t]*=[ \t]*({_TCHARS}|{_QUOTED})[ \t]*(?:,|$)")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*[ \t]*(?:,|$)")
_ESCAPED = re.compile(r"\\(.)")

Challenge = tuple[str, dict[str, str]]


def _skip_separators(value: str, position: int) -> int:
    """The position after any spaces, tabs and list commas (RFC 9110 §5.6.1)."""
    while position < len(value) and value[position] in " \t,":
        position += 1
    return position


def _unquote(value: str) -> str:
    if value.startswith('"'):
        return _ESCAPED.sub(r"\1", value[1:-1])
    return value


def parse_challenges(value: str) -> list[Challenge]:
    """The challenges of one ``WWW-Authenticate`` value: each scheme (lower-cased) with its
    parameters (names lower-cased, values unquoted).  Parsing stops at the first thing that
    is not a challenge; what came before it is kept."""
    found: list[Challenge] = []
    position = 0
    while True:
        position = _skip_separators(value, position)
        scheme = _SCHEME.match(value, position)
        if scheme is None:
            return found
        params: dict[str, str] = {}
        found.append((scheme.group(1).lower(), params))
        position = scheme.end()
        token68 = _TOKEN68.match(value, position)
        if token68 is not None and _PARAM.match(value, position) is None:
            position = token68.end()
            continue
        while (param := _PARAM.match(value, position)) is not None:
            params.setdefault(param.group(1).lower(), _unquote(param.group(2)))
            position = _skip_separators(value, param.end())


def says_invalid_token(values: Iterable[str]) -> bool:
    """True when a ``Bearer`` challenge among these ``WWW-Authenticate`` values (one header
    each, or several joined by commas) has ``error="invalid_token"`` (RFC 6750 §3.1)."""
    return any(
        scheme == "bearer" and params.get("error") == INVALID_TOKEN
        for value in values
        for scheme, params in parse_challenges(value)
    )
