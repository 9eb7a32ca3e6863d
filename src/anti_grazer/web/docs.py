"""OpenAPI and Swagger UI: the OAuth endpoints described by hand (they are plain
Starlette routes), and the Swagger UI 5 assets served from the ``fastapi-offline``
package so that ``/docs`` works offline (Swagger UI 4, as in ``swagger-ui-bundle``, cannot
read the OpenAPI 3.1 documents FastAPI writes).  The page carries a Content Security
Policy that lets it load nothing but those assets and run nothing but them and its one
inline script."""

from __future__ import annotations

import hashlib
import re
from base64 import b64encode
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from anti_grazer.protocol.client_auth import JWT_BEARER

DOCS_PATH = "/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
SWAGGER_UI_ASSETS = files("fastapi_offline") / "static"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}


def _form(
    properties: dict[str, Any], required: list[str], repeated: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A form body of ``properties``.  Each of ``repeated`` (an array property) is sent as
    one parameter per value (OpenAPI 3.1 §4.8.15 ``style: form``, ``explode: true``).  An
    optional parameter sent empty is as if it were omitted (RFC 6749 §3.1), so an
    optional one with a list of values admits ``""``."""
    admitting_empty = {
        name: {**schema, "enum": [*schema["enum"], ""]}
        if "enum" in schema and name not in required
        else schema
        for name, schema in properties.items()
    }
    media_type: dict[str, Any] = {
        "schema": {"type": "object", "properties": admitting_empty, "required": required}
    }
    if repeated:
        media_type["encoding"] = {name: {"style": "form", "explode": True} for name in repeated}
    return {"required": True, "content": {"application/x-www-form-urlencoded": media_type}}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}},
    }


# RFC 7519 §4.1.3: one audience as a string, several as an array.
_AUDIENCE_SCHEMA = {
    "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    "description": "The audience: the resources the token is for (RFC 8707).",
}
_RESOURCE = {
    "type": "array",
    # An empty one is as if omitted (RFC 6749 §3.1).
    "items": {"type": "string", "anyOf": [{"format": "uri"}, {"const": ""}]},
    "description": "RFC 8707 §2 resource indicators: absolute URIs without fragment, among "
    "the client's audiences; repeat the parameter for several. None (or empty): the "
    "client's default audience (its first). Another: 400 invalid_target.",
}

_HEADER = {"schema": {"type": "string"}}
# The rate-limit fields (web/rate_limit_headers.py) of every answer counted against a
# client's limits.
_RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {**_HEADER, "description": "draft-ietf-httpapi-ratelimit-headers §3"},
    "RateLimit": {**_HEADER, "description": "draft-ietf-httpapi-ratelimit-headers §4"},
    "X-RateLimit-Limit": _HEADER,
    "X-RateLimit-Remaining": _HEADER,
    "X-RateLimit-Reset": {**_HEADER, "description": "Unix seconds"},
}
_RETRY_AFTER = {"Retry-After": {**_HEADER, "description": "Seconds to wait"}}
_SLOW_DOWN = {
    **_error(
        "slow_down: the client had its quota of tokens this hour or day, or too many "
        "failed authentications locked it out (README, Operating)"
    ),
    "headers": {**_RETRY_AFTER, **_RATE_LIMIT_HEADERS},
}
_RATE_LIMIT_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": ["RATE_LIMIT_EXCEEDED"]},
                "message": {"type": "string"},
            },
        }
    },
}

_DETAIL_SCHEMA = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string"}},
}

# What the edge answers on any route before the route runs (web/request_limits.py, and
# granian for the head): every operation may get these.
_EDGE_RESPONSES: dict[str, Any] = {
    "408": _error("The request body did not arrive within BODY_TIMEOUT_SECONDS"),
    "413": _error("The request body is larger than the route's limit"),
    "431": {"description": "The request head is larger than MAX_HEADER_BYTES (no body)"},
}

# What the bearer guard answers on every /v1 route (RFC 6750 §3, §3.1), and FastAPI for
# a body it cannot parse.
_API_RESPONSES: dict[str, Any] = {
    "400": {
        "description": "Malformed request: two Authorization headers or a repeated query "
        "parameter (RFC 6750 §3.1 invalid_request), or a body that is not JSON",
        "content": {
            "application/json": {
                "schema": {"anyOf": [{"$ref": "#/components/schemas/OAuthError"}, _DETAIL_SCHEMA]}
            }
        },
    },
    "401": {
        **_error("No bearer token, or not a valid one (RFC 6750 §3.1 invalid_token)"),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    "403": _error("The token lacks the route's scope (RFC 6750 §3.1 insufficient_scope)"),
    "429": {
        "description": "The client went past its request limit, or (a report naming a "
        "reporter it never named before) its limit on new reporters per day "
        "(RATE_LIMIT_EXCEEDED)",
        "headers": {**_RETRY_AFTER, **_RATE_LIMIT_HEADERS},
        "content": {"application/json": {"schema": _RATE_LIMIT_ERROR_SCHEMA}},
    },
}


def _with_refusals(paths: dict[str, Any]) -> dict[str, Any]:
    """``paths`` with the edge's refusals on every operation, and the guard's on the API
    (an operation's own description of a status wins)."""

    def refusals(path: str) -> dict[str, Any]:
        return {**_EDGE_RESPONSES, **(_API_RESPONSES if path.startswith("/v1/") else {})}

    return {
        path: {
            method: {**operation, "responses": {**refusals(path), **operation["responses"]}}
            for method, operation in operations.items()
        }
        for path, operations in paths.items()
    }


_CLIENT_CREDENTIALS = {
    "client_id": {
        "type": "string",
        "description": "With client_secret_post; optional with private_key_jwt (then the "
        "assertion's iss and sub); required with a workload's platform token.",
    },
    "client_secret": {"type": "string", "description": "With client_secret_post only."},
    "client_assertion_type": {
        "type": "string",
        "enum": [JWT_BEARER],
        "description": "With client_assertion only (RFC 7521 §4.2, RFC 7523 §2.2).",
    },
    "client_assertion": {
        "type": "string",
        "description": "In place of a secret (RFC 7521 §4.2), a JWT: with private_key_jwt, "
        "signed by the client's private key (iss = sub = client id, aud = the issuer or the "
        "token endpoint, exp at most a few minutes ahead, a jti used once); or a workload's "
        "platform token (a Kubernetes service-account or GitHub Actions OIDC token) from an "
        "issuer the client_id is bound to (see the README, workload identity federation). "
        "ES256, EdDSA, PS256 or RS256.",
    },
}

OAUTH_PATHS: dict[str, Any] = {
    "/oauth/token": {
        "post": {
            "tags": ["OAuth 2.0"],
            "summary": "Get an access token (client_credentials grant, RFC 6749 §4.4)",
            "description": "Authenticate with HTTP Basic (client_secret_basic), with "
            "client_id and client_secret in the body (client_secret_post), or with a JWT "
            "as client_assertion (RFC 7521 §4.2): signed by the client's key "
            "(private_key_jwt, RFC 7523), or a workload's platform token with client_id "
            "(workload identity federation). One method only.",
            "operationId": "issue_token",
            "security": [{"clientBasic": []}, {}],
            "requestBody": _form(
                {
                    "grant_type": {"type": "string", "enum": ["client_credentials"]},
                    "scope": {"type": "string", "description": "Space-delimited scopes."},
                    "resource": _RESOURCE,
                    **_CLIENT_CREDENTIALS,
                },
                ["grant_type"],
                repeated=("resource",),
            ),
            "responses": {
                "200": {
                    "description": "Access token (RFC 6749 §5.1)",
                    "headers": _RATE_LIMIT_HEADERS,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "access_token": {"type": "string"},
                                    "token_type": {"type": "string", "enum": ["Bearer"]},
                                    "expires_in": {"type": "integer"},
                                    "scope": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "400": _error("Invalid request (RFC 6749 §5.2; invalid_target, RFC 8707 §2)"),
                "401": _error("Client authentication failed"),
                "429": _SLOW_DOWN,
            },
        }
    },
    "/oauth/revoke": {
        "post": {
            "tags": ["OAuth 2.0"],
            "summary": "Revoke an access token (RFC 7009)",
            "operationId": "revoke_token",
            "security": [{"clientBasic": []}, {}],
            "requestBody": _form(
                {
                    "token": {"type": "string", "minLength": 1},
                    "token_type_hint": {
                        "type": "string",
                        "enum": ["access_token", "refresh_token"],
                        "description": "RFC 7009 §2.1 hint. We issue access tokens only.",
                    },
                    **_CLIENT_CREDENTIALS,
                },
                ["token"],
            ),
            "responses": {
                "200": {"description": "Revoked, or unknown (RFC 7009 §2.2)"},
                "400": _error("Invalid request (RFC 7009 §2.2.1)"),
                "401": _error("Client authentication failed"),
                "429": _SLOW_DOWN,
            },
        }
    },
    "/oauth/introspect": {
        "post": {
            "tags": ["OAuth 2.0"],
            "summary": "Introspect an access token (RFC 7662)",
            "description": "A client learns about its own tokens; a client registered with "
            "--introspect (a resource server) about any token. Any other token, and every "
            'inactive one, is exactly {"active": false}.',
            "operationId": "introspect_token",
            "security": [{"clientBasic": []}, {}],
            "requestBody": _form(
                {
                    "token": {"type": "string", "minLength": 1},
                    "token_type_hint": {
                        "type": "string",
                        "description": "Only a hint: any value is accepted and ignored.",
                    },
                    **_CLIENT_CREDENTIALS,
                },
                ["token"],
            ),
            "responses": {
                "200": {
                    "description": "The token's state (RFC 7662 §2.2)",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["active"],
                                "properties": {
                                    "active": {"type": "boolean"},
                                    "scope": {"type": "string"},
                                    "client_id": {"type": "string"},
                                    "token_type": {"type": "string", "enum": ["Bearer"]},
                                    "exp": {"type": "integer"},
                                    "iat": {"type": "integer"},
                                    "nbf": {"type": "integer"},
                                    "sub": {"type": "string"},
                                    "aud": _AUDIENCE_SCHEMA,
                                    "iss": {"type": "string"},
                                    "jti": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "400": _error("Invalid request (RFC 7662 §2.3)"),
                "401": _error("Client authentication failed"),
                "429": _SLOW_DOWN,
            },
        }
    },
    "/oauth/jwks": {
        "get": {
            "tags": ["OAuth 2.0"],
            "summary": "The keys that sign JWT access tokens (RFC 7517 JWK Set)",
            "description": "Public keys only; cacheable (Cache-Control: public, max-age). "
            "Verify a JWT access token (RFC 9068) with the key its kid names.",
            "operationId": "jwks",
            "responses": {
                "200": {
                    "description": "JWK Set (RFC 7517 §5)",
                    "content": {
                        "application/jwk-set+json": {
                            "schema": {
                                "type": "object",
                                "required": ["keys"],
                                "properties": {
                                    "keys": {"type": "array", "items": {"type": "object"}}
                                },
                            }
                        }
                    },
                }
            },
        }
    },
}


def page_policy(html: str) -> str:
    """The Content Security Policy (CSP Level 3) of the page ``html``: scripts, styles,
    images (and the CSS's ``data:`` images) and requests from our own origin only, its
    inline scripts by their SHA-256 (§2.3.1 hash-source), no framing, no ``<base>``,
    forms posted to our origin only."""
    hashes = "".join(
        f" 'sha256-{b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self'{hashes}",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        )
    )


def install_docs(app: FastAPI) -> None:
    """Serve ``/openapi.json`` (with the OAuth endpoints) and an offline ``/docs``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema["paths"] = _with_refusals({**OAUTH_PATHS, **schema.get("paths", {})})
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {})["OAuthError"] = _ERROR_SCHEMA
            components.setdefault("securitySchemes", {})["clientBasic"] = {
                "type": "http",
                "scheme": "basic",
                "description": "client_id and client_secret (client_secret_basic)",
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount(ASSETS_PATH, StaticFiles(directory=str(SWAGGER_UI_ASSETS)), name="docs-assets")

    # Rendered once: the policy hashes the exact inline script the page is served with.
    page = bytes(
        get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": False},
        ).body
    )
    headers = {"Content-Security-Policy": page_policy(page.decode())}

    async def swagger_ui(_request: Request) -> HTMLResponse:
        return HTMLResponse(page, headers=headers)

    app.add_route(DOCS_PATH, swagger_ui, methods=["GET"], include_in_schema=False)
