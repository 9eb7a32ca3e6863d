"""The ``422`` answer of the reports API: FastAPI's body ``{"detail": [{"type", "loc",
"msg", "ctx"}]}`` (``ctx`` when pydantic gives one), without the ``input`` of each error.

``input`` is dropped rather than shortened to a prefix.  The client sent the value and
``loc`` names it, so an echo tells it nothing new; echoing untrusted input costs bandwidth
(a 1 MB ``reason`` came back whole), carries whatever it holds into clients' logs and
screens, and some inputs have no JSON form at all (NaN, a lone surrogate: RFC 8259 §6,
§8.2), which made FastAPI's own handler fail with a 500.  A prefix would need a rule for
every kind of value (objects, lists, NaN, surrogates); dropping needs none.  FastAPI's
OpenAPI schema of the error (``ValidationError``) requires only ``loc``, ``msg`` and
``type``, so the documented format holds.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import orjson
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

RENDERED_KEYS = ("type", "loc", "msg", "ctx")


def render_validation_error(errors: Sequence[Any]) -> Response:
    """``422`` with each error's ``RENDERED_KEYS`` (``ctx`` as FastAPI renders it)."""
    detail = [{key: error[key] for key in RENDERED_KEYS if key in error} for error in errors]
    return Response(
        orjson.dumps({"detail": jsonable_encoder(detail)}),
        status_code=422,
        media_type="application/json",
    )


class ValidatedRoute(APIRoute):
    """A FastAPI route whose ``RequestValidationError`` (from the body, path and query
    parameters, dependencies and the endpoint itself) answers ``render_validation_error``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                return render_validation_error(error.errors())

        return handle
