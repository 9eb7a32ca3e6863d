"""The application the guard-cost workloads run against (DESIGN.md §3: "the guard itself
must cost little on either kind of route: measure it against the same route unguarded").

``app`` is an app factory (like the server's) that builds the real
application exactly as ``anti_grazer.web.asgi.app_from_environment`` does (settings from
``ANTI_GRAZER_*``, logging configured, ``create_app``) and then adds, **for benchmarking
only** (the product never has unguarded routes):

* ``GET /bench/unguarded/profiles/{platform}/{profile_id}``: the unguarded FastAPI twin of
  ``GET /v1/profiles/{platform}/{profile_id}`` (outside ``/v1``, which the bearer
  middleware protects as a whole).  It is the product's own handler
  (``read_profile`` from ``web/reports_routes.py``, taken from the app's routes) under a
  signature without its ``require_scopes("profiles:read")`` parameter: same path
  validation, same report service call, same body, same route class in an included
  router matched right after the original's; only the guard is missing.
* ``GET /v1/bench/starlette/guarded``: a plain Starlette route under ``/v1`` (the bearer
  middleware verifies its token, as on the product's routes) decorated with
  ``requires_bearer("profiles:read")`` answering a fixed small JSON body;
* ``GET /bench/starlette/plain``: the same endpoint without the decorator.

``python -m bench.app --port N`` serves it the way ``anti-grazer serve`` serves the product
(``http_server`` from ``cli/serve.py``, one worker) on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, params
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from anti_grazer.cli.serve import http_server
from anti_grazer.guard.starlette import requires_bearer
from anti_grazer.logs import configure_logging
from anti_grazer.settings import load_settings
from anti_grazer.web.asgi import app_from_environment
from anti_grazer.web.edge import Edge

GUARDED_PROFILE_ROUTE = "/v1/profiles/{platform}/{profile_id:path}"
UNGUARDED_PROFILE_ROUTE = "/bench/unguarded/profiles/{platform}/{profile_id:path}"
STARLETTE_GUARDED_PATH = "/v1/bench/starlette/guarded"
STARLETTE_PLAIN_PATH = "/bench/starlette/plain"
STARLETTE_SCOPE = "profiles:read"
FIXED_BODY = b'{"status":"ok"}'

Endpoint = Callable[..., Awaitable[Response]]


def _find_route(routes: Sequence[Any], path: str, method: str) -> tuple[Any, APIRoute] | None:
    """The router holding the ``method path`` APIRoute, and the route.  FastAPI ≥ 0.1xx
    keeps an included router as a lazy ``_IncludedRouter`` that names the original
    ``APIRouter`` (``original_router``); older ones copy its routes into the app."""
    for route in routes:
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ()):
            return None, route
        inner = getattr(route, "original_router", None)
        if isinstance(inner, APIRouter):
            found = _find_route(inner.routes, path, method)
            if found is not None:
                return (inner if found[0] is None else found[0]), found[1]
    return None


def _move_after(routes: list[Any], start: int, original: Any) -> None:
    """Move ``routes[start:]`` right after the entry holding ``original`` (the router
    FastAPI keeps as an included router's ``original_router``, or the route itself)."""
    added = routes[start:]
    del routes[start:]
    for index, route in enumerate(routes):
        if route is original or getattr(route, "original_router", None) is original:
            routes[index + 1 : index + 1] = added
            return
    raise RuntimeError(f"{original!r} is not among the application's routes")


def without_guard(endpoint: Endpoint) -> Endpoint:
    """``endpoint`` with its guard parameter (the one annotated with ``require_scopes``'s
    ``Security`` marker) removed from the signature FastAPI reads; called with ``None``
    there."""
    signature = inspect.signature(endpoint)
    guard_names = [
        name
        for name, parameter in signature.parameters.items()
        if any(
            isinstance(m, params.Security)
            for m in getattr(parameter.annotation, "__metadata__", ())
        )
    ]
    if len(guard_names) != 1:
        raise RuntimeError(f"expected one guard parameter in {endpoint!r}, got {guard_names}")
    guard_name = guard_names[0]
    kept = [p for name, p in signature.parameters.items() if name != guard_name]

    async def unguarded(**arguments: Any) -> Response:
        return await endpoint(**arguments, **{guard_name: None})

    # Not functools.wraps: FastAPI would follow __wrapped__ back to the guarded signature.
    unguarded.__signature__ = signature.replace(parameters=kept)  # type: ignore[attr-defined]
    unguarded.__name__ = f"{endpoint.__name__}_unguarded"
    return unguarded


async def fixed_json(_request: Request) -> Response:
    """The Starlette pair's endpoint: a fixed small JSON body, nothing else."""
    return Response(FIXED_BODY, media_type="application/json")


def add_benchmark_routes(api: FastAPI) -> None:
    """Add the unguarded twin to the application beside its guarded original (outside
    ``/v1``, where the bearer middleware would verify it), and the Starlette pair.

    The twin is routed like its original, so that the pair differs by the guard alone:
    it is an ``APIRoute`` of the original's class (``ValidatedRoute``), in a router of its
    own, included right after the original's router: matching it costs the original's
    matching plus one router whose prefix does not match."""
    found = _find_route(api.router.routes, GUARDED_PROFILE_ROUTE, "GET")
    if found is None:
        raise RuntimeError(f"no GET {GUARDED_PROFILE_ROUTE} route in the application")
    original_router, guarded = found
    twin = APIRouter(route_class=type(guarded))
    twin.add_api_route(
        UNGUARDED_PROFILE_ROUTE,
        without_guard(guarded.endpoint),
        methods=["GET"],
        response_model=None,
        include_in_schema=False,
    )
    routes_before = len(api.router.routes)
    api.include_router(twin)
    _move_after(api.router.routes, routes_before, original_router or guarded)
    api.add_route(
        STARLETTE_GUARDED_PATH,
        requires_bearer(STARLETTE_SCOPE)(fixed_json),
        methods=["GET"],
        include_in_schema=False,
    )
    api.add_route(STARLETTE_PLAIN_PATH, fixed_json, methods=["GET"], include_in_schema=False)


def app() -> Edge:
    """The server's app factory: the product app (``app_from_environment``) plus the
    bench routes."""
    application = app_from_environment()
    add_benchmark_routes(application.api)
    return application


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.app",
        description="Serve bench.app:app like `anti-grazer serve` serves the product.",
    )
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    configure_logging(load_settings().log_level)
    http_server("bench.app:app", load_settings(host="127.0.0.1", port=args.port, workers=1)).serve()


if __name__ == "__main__":
    main()
