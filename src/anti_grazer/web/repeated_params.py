"""Each query parameter of the reports API is given once: a repeated one
(``?limit=1&limit=2``) is a 422 naming it, where FastAPI would keep its last value without
a word.  The URL does not say which value the client meant (RFC 3986 §3.4 leaves the
query's structure to the application), so the server does not guess.

``SingleValuedQuery`` is a parameter of every ``/v1`` route, declared after the route's
principal: FastAPI solves dependencies in declaration order, so a token without the
route's scope still gets the guard's 403 first, as for any other invalid input.  It is a
coroutine function because FastAPI runs a plain ``def`` dependency in a worker thread,
a thread hop on every request for a check that never blocks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request


async def refuse_repeated_query_parameters(request: Request) -> None:
    """Raise ``RequestValidationError`` naming each query parameter given more than once,
    in the order they first appear."""
    seen: set[str] = set()
    repeated: dict[str, None] = {}
    for name, _value in request.query_params.multi_items():
        if name in seen:
            repeated[name] = None
        seen.add(name)
    if repeated:
        raise RequestValidationError(
            [
                {
                    "type": "repeated_parameter",
                    "loc": ("query", name),
                    "msg": "Parameter given more than once; give it once",
                }
                for name in repeated
            ]
        )


SingleValuedQuery = Annotated[None, Depends(refuse_repeated_query_parameters)]
