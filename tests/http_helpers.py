"""HTTP helpers shared by every test that speaks to the server: the paths, credentials as
header values, form requests, and the exact answers the specs prescribe (RFC 6749 §5.1
and §5.2, RFC 7009 §2.2, RFC 7662 §2.2, RFC 6750 §3.1) — exact status, body and headers.

The assertions take an ``httpx.Response`` only, so tests in-process (``httpx.AsyncClient``)
and against a real server process (``httpx.Client``) share them."""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Mapping
from urllib.parse import quote_plus, urlencode

import httpx

from anti_grazer.protocol.tokens import is_well_formed_access_token

TOKEN = "/oauth/token"
REVOKE = "/oauth/revoke"
JWKS = "/oauth/jwks"
INTROSPECT = "/oauth/introspect"
# Every OAuth endpoint: each reads a form, authenticates the client alike, answers no-store.
OAUTH_ENDPOINTS = (TOKEN, REVOKE, INTROSPECT)
PROFILE = "/v1/profiles/facebook/x"
FORM = "application/x-www-form-urlencoded"
CLIENT_CREDENTIALS: Mapping[str, str] = {"grant_type": "client_credentials"}

BASIC_CHALLENGE = 'Basic realm="anti-grazer"'
# The seed's 401 body, byte for byte.
INVALID_CLIENT_BYTES = (
    b'{"error":"invalid_client","error_description":"Client authentication failed"}'
)
# RFC 7662 §2.2: an inactive token, byte for byte, whatever the reason.
INACTIVE_BYTES = b'{"active":false}'
INVALID_TOKEN_BODY = {
    "error": "invalid_token",
    "error_description": "The access token is invalid, expired or revoked",
}
INVALID_TOKEN_CHALLENGE = (
    'Bearer realm="anti-grazer", error="invalid_token", '
    'error_description="The access token is invalid, expired or revoked"'
)
# The error codes of RFC 6749 §5.2, RFC 7009 §2.2.1 and RFC 8707 §2 (registered for the
# token endpoint by §5.1).
OAUTH_ERROR_CODES = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "unsupported_token_type",
        "invalid_target",
    }
)


# --- credentials and requests -------------------------------------------------------------


def basic_raw(userpass: str | bytes) -> str:
    """``Basic`` + base64 of ``userpass`` exactly as given (text as UTF-8)."""
    raw = userpass.encode() if isinstance(userpass, str) else userpass
    return "Basic " + b64encode(raw).decode("ascii")


def basic(client_id: str, secret: str, *, encode: bool = True) -> str:
    """An ``Authorization: Basic`` value; ``encode`` form-urlencodes both parts first, as
    RFC 6749 §2.3.1 requires (a no-op for the ids and secrets the registry generates)."""
    if encode:
        client_id, secret = quote_plus(client_id, safe=""), quote_plus(secret, safe="")
    return basic_raw(f"{client_id}:{secret}")


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header carrying ``token`` (RFC 6750 §2.1)."""
    return {"Authorization": f"Bearer {token}"}


async def post_form(
    http: httpx.AsyncClient,
    url: str,
    data: Mapping[str, str],
    authorization: str | None = None,
) -> httpx.Response:
    """POST ``data`` form-encoded (even when empty) with an optional Authorization."""
    headers = {"Content-Type": FORM}
    if authorization is not None:
        headers["Authorization"] = authorization
    return await http.post(url, content=urlencode(data).encode(), headers=headers)


async def read_profile(http: httpx.AsyncClient, token: str) -> httpx.Response:
    """A protected request (``GET`` of a profile) with ``token`` as its bearer."""
    return await http.get(PROFILE, headers=bearer(token))


# --- answers ------------------------------------------------------------------------------


def assert_no_store(response: httpx.Response) -> None:
    """RFC 6749 §5.1: ``Cache-Control: no-store`` and ``Pragma: no-cache``."""
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


def assert_oauth_4xx(response: httpx.Response) -> str:
    """A 4xx whose body is exactly an RFC 6749 §5.2 error, with the no-store headers and,
    on a 401, the Basic challenge; return its code."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] in OAUTH_ERROR_CODES
    assert_no_store(response)
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == BASIC_CHALLENGE
    code: str = body["error"]
    return code


def assert_oauth_error(response: httpx.Response, status: int, error: str, description: str) -> None:
    """RFC 6749 §5.2 / RFC 7009 §2.2.1: exact status, JSON content type and body, the
    no-store headers, and a Basic challenge on (and only on) a 401."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": error, "error_description": description}
    assert_no_store(response)
    if status == 401:
        assert response.headers["www-authenticate"] == BASIC_CHALLENGE
    else:
        assert "www-authenticate" not in response.headers


def assert_invalid_client(response: httpx.Response) -> None:
    """RFC 6749 §5.2 ``invalid_client``: the seed's 401, byte for byte, with the no-store
    headers and the Basic challenge (sent whatever the credentials' method)."""
    assert_oauth_error(response, 401, "invalid_client", "Client authentication failed")
    assert response.content == INVALID_CLIENT_BYTES


def assert_invalid_token(response: httpx.Response) -> None:
    """RFC 6750 §3.1: 401 ``invalid_token`` and its Bearer challenge, exactly."""
    assert response.status_code == 401, response.text
    assert response.json() == INVALID_TOKEN_BODY
    assert response.headers["www-authenticate"] == INVALID_TOKEN_CHALLENGE


def assert_issued(response: httpx.Response, scope: str | None, expires_in: int = 3600) -> str:
    """RFC 6749 §5.1: 200 with the no-store headers and exactly a well-formed token, its
    type, its lifetime and ``scope`` (no ``scope`` member when it is ``None``: the §3.3
    grammar has no empty scope); return the token."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert_no_store(response)
    body = response.json()
    token = body.pop("access_token")
    assert isinstance(token, str)
    assert is_well_formed_access_token(token)
    expected: dict[str, object] = {"token_type": "Bearer", "expires_in": expires_in}
    if scope is not None:
        expected["scope"] = scope
    assert body == expected
    return token


def assert_revoked_ok(response: httpx.Response) -> None:
    """RFC 7009 §2.2: HTTP 200 and an empty body (the content is ignored by clients)."""
    assert response.status_code == 200
    assert response.content == b""
    assert "content-type" not in response.headers
    assert "www-authenticate" not in response.headers
    assert_no_store(response)


def assert_inactive(response: httpx.Response) -> None:
    """RFC 7662 §2.2: 200, JSON, exactly ``{"active": false}`` (nothing about why), with
    the no-store headers."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.content == INACTIVE_BYTES
    assert "www-authenticate" not in response.headers
    assert_no_store(response)


def assert_active(response: httpx.Response) -> dict[str, object]:
    """RFC 7662 §2.2: 200, JSON, ``"active": true``, with the no-store headers; return the
    members."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert "www-authenticate" not in response.headers
    assert_no_store(response)
    members = response.json()
    assert isinstance(members, dict)
    assert members["active"] is True
    return members


# --- rate limits, token quotas and the lockout (issue 18 items 1, 2) ------------------------

QUOTA_EXCEEDED = "Token request quota exceeded: retry later"
LOCKED_OUT = "Too many failed client authentications: retry later"
RATE_LIMIT_FIELDS = (
    "ratelimit-policy",
    "ratelimit",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
)


def assert_rate_limit_fields(
    response: httpx.Response, policy: str, service: str, x_limit: tuple[int, int, int]
) -> None:
    """draft-ietf-httpapi-ratelimit-headers-10 §3 ``RateLimit-Policy`` and §4 ``RateLimit``
    exactly, and ``X-RateLimit-Limit``, ``-Remaining``, ``-Reset`` (Unix seconds) of the
    most constraining limit: ``x_limit``; each field once."""
    for name in RATE_LIMIT_FIELDS:
        assert len(response.headers.get_list(name)) == 1, name
    assert response.headers["ratelimit-policy"] == policy
    assert response.headers["ratelimit"] == service
    limit, remaining, reset = x_limit
    assert response.headers["x-ratelimit-limit"] == str(limit)
    assert response.headers["x-ratelimit-remaining"] == str(remaining)
    assert response.headers["x-ratelimit-reset"] == str(reset)


def assert_no_rate_limit_fields(response: httpx.Response) -> None:
    for name in (*RATE_LIMIT_FIELDS, "retry-after"):
        assert name not in response.headers, name


def assert_slow_down(response: httpx.Response, description: str, retry_after: int) -> None:
    """A refused OAuth request (README, "Rate limits" and "Lockout"): RFC 6585 §4 ``429``
    with ``Retry-After`` (RFC 9110 §10.2.3) and an RFC 6749 §5.2 body whose code is
    ``slow_down`` (RFC 8628 §3.5), the no-store headers and no challenge."""
    assert_oauth_error(response, 429, "slow_down", description)
    assert response.headers["retry-after"] == str(retry_after)


def assert_rate_limit_exceeded(response: httpx.Response, message: str, retry_after: int) -> None:
    """A refused API request: ``429``, ``Retry-After``, no-store, and exactly the Anti
    Grazer error ``RATE_LIMIT_EXCEEDED``."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == str(retry_after)
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {"error": {"code": "RATE_LIMIT_EXCEEDED", "message": message}}
