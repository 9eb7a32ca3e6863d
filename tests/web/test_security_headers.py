"""Security headers on every response (``SecurityHeadersMiddleware``, and the page
policy of ``/docs``): ``X-Content-Type-Options: nosniff`` everywhere (Fetch §3.5: no
content sniffing), ``Cache-Control: no-store`` on the per-client ``/v1`` API (RFC 9111
§5.2.2.5) unless a response chose its own, and a Content Security Policy (CSP Level 3)
on the Swagger UI page that lets it load its own assets and its one inline script only."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from anti_grazer.web.security_headers import SecurityHeadersMiddleware
from tests.http_helpers import bearer
from tests.support import BASE_URL, Registered, issue

PROFILE = "/v1/profiles/facebook/grazer"
REPORT = {"platform": "facebook", "profile_id": "grazer", "reporter_id": "user-1"}
DOCS_POLICY = re.compile(
    r"default-src 'none'; script-src 'self' 'sha256-(?P<hash>[A-Za-z0-9+/]{43}=)'; "
    r"style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    r"base-uri 'none'; form-action 'self'"
)
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def assert_nosniff(response: httpx.Response) -> None:
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]


def assert_cache_control_no_store(response: httpx.Response) -> None:
    assert response.headers.get_list("cache-control") == ["no-store"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/oauth/token", 400),
        ("POST", "/oauth/revoke", 400),
        ("POST", "/oauth/introspect", 400),
        ("GET", "/.well-known/oauth-authorization-server", 200),
        ("GET", "/oauth/token", 405),
        ("GET", "/health", 200),
        ("DELETE", "/health", 405),
        ("GET", "/docs", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/docs/assets/swagger-ui-bundle.js", 200),
        ("GET", "/docs/assets/swagger-ui.css", 200),
        ("GET", "/nowhere", 404),
        ("GET", "/v1/blocklist", 401),
        # All of /v1 is authenticated first: no token, no route, not even a 404.
        ("GET", "/v1/nowhere", 401),
        ("POST", "/v1/reports", 401),
    ],
)
async def test_every_response_says_nosniff(
    http: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    """Fetch §3.5: no browser guesses a script or a page out of any of our bodies."""
    response = await http.request(method, path)
    assert response.status_code == status
    assert_nosniff(response)


async def test_the_api_is_never_stored_by_a_cache(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 9111 §5.2.2.5: per-client data, and its errors, are stored by no cache."""
    token = await issue(http, registered, "reports:write profiles:read")
    reader_only = await issue(http, registered, "profiles:read")
    authorized = bearer(token)
    responses = {
        201: await http.post("/v1/reports", json=REPORT, headers=authorized),
        200: await http.get(PROFILE, headers=authorized),
        401: await http.get(PROFILE),
        403: await http.post("/v1/reports", json=REPORT, headers=bearer(reader_only)),
        422: await http.get("/v1/profiles/nowhere/grazer", headers=authorized),
        404: await http.get("/v1/nowhere", headers=authorized),
    }
    for status, response in responses.items():
        assert response.status_code == status, response.text
        assert_cache_control_no_store(response)
        assert_nosniff(response)


async def test_the_blocklist_keeps_its_revalidation(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 9111 §5.2.2.4, §5.2.2.7: the blocklist may be kept by the client only, and
    revalidated with its ETag every time (RFC 9110 §13.1.2), on 200 and on 304."""
    authorized = bearer(await issue(http, registered))
    first = await http.get("/v1/blocklist", headers=authorized)
    again = await http.get(
        "/v1/blocklist", headers={**authorized, "If-None-Match": first.headers["etag"]}
    )
    assert (first.status_code, again.status_code) == (200, 304)
    for response in (first, again):
        assert response.headers.get_list("cache-control") == ["private, no-cache"]
        assert_nosniff(response)


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
async def test_the_oauth_endpoints_keep_their_own_no_store(
    http: httpx.AsyncClient, registered: Registered, path: str
) -> None:
    """RFC 6749 §5.1, §5.2, RFC 7662 §2.2: no-store and Pragma: no-cache, once each."""
    response = await http.post(
        path,
        data={"grant_type": "client_credentials", "token": "ag_at_x"},
        auth=(registered.client_id, registered.secret),
    )
    assert response.status_code == 200
    assert_cache_control_no_store(response)
    assert response.headers.get_list("pragma") == ["no-cache"]
    assert_nosniff(response)


async def test_other_responses_stay_cacheable(http: httpx.AsyncClient) -> None:
    """Outside ``/v1`` nothing is per-client: Swagger UI's assets keep their validators
    and no Cache-Control is added."""
    for path in ("/docs/assets/swagger-ui-bundle.js", "/openapi.json", "/health"):
        response = await http.get(path)
        assert "cache-control" not in response.headers, path
    assert "etag" in (await http.get("/docs/assets/swagger-ui.css")).headers


async def test_the_docs_page_may_run_its_own_assets_and_inline_script_only(
    http: httpx.AsyncClient,
) -> None:
    """CSP Level 3: nothing but the page's own scripts, styles, images and API calls,
    and the inline script that starts Swagger UI, allowed by its SHA-256 (§8.3.1)."""
    response = await http.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    (policy,) = response.headers.get_list("content-security-policy")
    matched = DOCS_POLICY.fullmatch(policy)
    assert matched is not None, policy
    (script,) = INLINE_SCRIPT.findall(response.text)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert matched["hash"] == digest
    assert "SwaggerUIBundle(" in script
    assert_nosniff(response)


async def _own_cache_control(_request: Request) -> PlainTextResponse:
    return PlainTextResponse(
        "x", headers={"Cache-Control": "max-age=60", "X-Content-Type-Options": "nosniff"}
    )


async def _plain(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("x")


async def test_a_header_the_response_sets_itself_is_kept() -> None:
    """The middleware only adds what a response lacks, on any ASGI app."""
    app = Starlette(
        routes=[Route("/v1/own", _own_cache_control), Route("/v1/plain", _plain)],
        middleware=[Middleware(SecurityHeadersMiddleware, "/v1")],
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        own = await client.get("/v1/own")
        plain = await client.get("/v1/plain")
    assert own.headers.get_list("cache-control") == ["max-age=60"]
    assert_nosniff(own)
    assert_cache_control_no_store(plain)
    assert_nosniff(plain)
