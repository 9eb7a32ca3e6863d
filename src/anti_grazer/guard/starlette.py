"""The guard for plain Starlette endpoints: ``@requires_bearer("scope", ...)``."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from anti_grazer.guard.http import authenticate_request, bearer_error_response, guard_of
from anti_grazer.protocol.errors import OAuthError

Endpoint = Callable[[Request], Awaitable[Response]]


def requires_bearer(*scopes: str) -> Callable[[Endpoint], Endpoint]:
    """Protect a Starlette endpoint: the verified ``Principal`` is put in
    ``request.state.principal``; failures answer the RFC 6750 §3 error."""
    required = frozenset(scopes)

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            try:
                await authenticate_request(request, required)
            except OAuthError as error:
                return bearer_error_response(error, guard_of(request).realm)
            return await endpoint(request)

        return guarded

    return decorate
