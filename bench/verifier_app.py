"""A resource server of its own for the verifier rows (issue 16 item 5): an API that
does not share the authorization server's database, guarding one route with each
remote verifier of ``anti_grazer.guard`` against the ``anti-grazer serve`` under
benchmark, beside the same endpoint unguarded.

* ``GET /introspection/guarded``: ``IntrospectionVerifier`` (RFC 7662, as the
  ``--introspect`` client ``BENCH_RS_ID`` / ``BENCH_RS_SECRET``; its answers cached for
  its default 5 s, so the authorization server is asked once per token and 5 s);
* ``GET /jwt/guarded``: ``JwtVerifier`` (RFC 9068 §4, offline, keys from the issuer's
  ``jwks_uri``);
* ``GET /plain``: the same endpoint without a guard.

``python -m bench.verifier_app --port N`` serves it like ``anti-grazer serve`` serves the
product (``http_server``, one worker, 127.0.0.1); ``BENCH_ISSUER`` is the authorization
server's base URL."""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from anti_grazer.cli.serve import http_server
from anti_grazer.guard.core import BearerGuard
from anti_grazer.guard.http import install_guard
from anti_grazer.guard.introspection import IntrospectionVerifier
from anti_grazer.guard.jwt_verifier import JwtVerifier
from anti_grazer.guard.starlette import requires_bearer
from anti_grazer.settings import load_settings

SCOPE = "profiles:read"
FIXED_BODY = b'{"status":"ok"}'
INTROSPECTION_GUARDED_PATH = "/introspection/guarded"
JWT_GUARDED_PATH = "/jwt/guarded"
PLAIN_PATH = "/plain"


async def fixed_json(_request: Request) -> Response:
    return Response(FIXED_BODY, media_type="application/json")


def guarded_api() -> Starlette:
    """One guarded endpoint; the guard is installed when the app starts."""
    return Starlette(routes=[Route("/guarded", requires_bearer(SCOPE)(fixed_json))])


def app() -> Starlette:
    """The app factory: the two guarded sub-apps and the plain endpoint; the lifespan
    opens each verifier against ``BENCH_ISSUER`` and closes them."""
    issuer = os.environ["BENCH_ISSUER"]
    by_introspection, by_jwt = guarded_api(), guarded_api()

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            introspection = await stack.enter_async_context(
                IntrospectionVerifier(
                    os.environ["BENCH_RS_ID"], os.environ["BENCH_RS_SECRET"], issuer=issuer
                )
            )
            jwt = await stack.enter_async_context(JwtVerifier(issuer, issuer))
            install_guard(by_introspection, BearerGuard(introspection))
            install_guard(by_jwt, BearerGuard(jwt))
            yield

    return Starlette(
        routes=[
            Mount("/introspection", by_introspection),
            Mount("/jwt", by_jwt),
            Route(PLAIN_PATH, fixed_json),
            Route("/health", fixed_json),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.verifier_app")
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    settings = load_settings(host="127.0.0.1", port=port, workers=1, log_level="warning")
    http_server("bench.verifier_app:app", settings).serve()


if __name__ == "__main__":
    main()
