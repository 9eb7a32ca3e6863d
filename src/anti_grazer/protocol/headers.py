"""The request headers a request may carry once each (RFC 9110 §5.3: a field that is not a
list cannot be repeated): a repeated ``Authorization``, ``Content-Type`` or
``Content-Length`` makes the request ambiguous, so it is an ``invalid_request``."""

from __future__ import annotations

from collections.abc import Iterable

from anti_grazer.protocol.errors import InvalidRequestError

RawHeaders = Iterable[tuple[bytes, bytes]]


def single_headers(headers: RawHeaders, names: frozenset[bytes]) -> dict[bytes, str]:
    """The values of the headers named in ``names`` (lower case, as ASGI servers give
    them), decoded as Latin-1; ``InvalidRequestError`` if one of them is repeated."""
    found: dict[bytes, str] = {}
    for name, value in headers:
        if name in names:
            if name in found:
                raise InvalidRequestError("A header is included more than once")
            found[name] = value.decode("latin-1")
    return found
