"""``GET /.well-known/oauth-authorization-server``: the authorization server's metadata
(RFC 8414 §3), rendered once at start-up (the issuer comes from the settings, never from
the request) and publicly cacheable.  A FastAPI route: it is not on a hot path, and so
it is in the OpenAPI document."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import orjson
from fastapi import FastAPI
from starlette.responses import Response

from anti_grazer.protocol.metadata import Document, ServerMetadata
from anti_grazer.reports.service import SCOPE_DESCRIPTIONS
from anti_grazer.web.docs import DOCS_PATH
from anti_grazer.web.oauth_routes import INTROSPECT_PATH, JWKS_PATH, REVOKE_PATH, TOKEN_PATH

WELL_KNOWN_PATH = "/.well-known/oauth-authorization-server"
# How long clients and shared caches may keep the document: it changes only with the
# settings (a restart).
METADATA_MAX_AGE_SECONDS = 3600
JSON_MEDIA_TYPE = "application/json"


def metadata_path(issuer: str) -> str:
    """Where the metadata of ``issuer`` is (§3.1): the well-known path, followed by the
    issuer's own path without its terminating "/" (none for an issuer without a path)."""
    return WELL_KNOWN_PATH + urlsplit(issuer).path.rstrip("/")


def server_metadata(issuer: str) -> ServerMetadata:
    """The metadata of this server under ``issuer``: its endpoints below the issuer URL,
    and the scopes of the reports API."""
    base = issuer.rstrip("/")
    return ServerMetadata(
        issuer=issuer,
        token_endpoint=base + TOKEN_PATH,
        revocation_endpoint=base + REVOKE_PATH,
        introspection_endpoint=base + INTROSPECT_PATH,
        jwks_uri=base + JWKS_PATH,
        scopes_supported=tuple(SCOPE_DESCRIPTIONS),
        service_documentation=base + DOCS_PATH,
    )


def _schema(document: Document) -> dict[str, Any]:
    """The OpenAPI schema of ``document``: its members (each always sent), each a string
    or a list of them."""
    text, array = {"type": "string"}, {"type": "array", "items": {"type": "string"}}
    return {
        "type": "object",
        "required": list(document),
        "properties": {
            name: array if isinstance(value, list) else text for name, value in document.items()
        },
    }


def install_metadata(api: FastAPI, metadata: ServerMetadata) -> None:
    """Serve ``metadata`` at its §3.1 path: 200, ``application/json`` (§3.2), and
    ``Cache-Control: public, max-age``."""
    document = metadata.document()
    body = orjson.dumps(document)
    headers = {"Cache-Control": f"public, max-age={METADATA_MAX_AGE_SECONDS}"}

    async def authorization_server_metadata() -> Response:
        return Response(body, media_type=JSON_MEDIA_TYPE, headers=headers)

    # RFC 9110 §9.1: HEAD too (the server sends the head of the GET answer); once, outside
    # the OpenAPI document, where it would repeat the GET operation.
    api.add_api_route(
        metadata_path(metadata.issuer),
        authorization_server_metadata,
        methods=["HEAD"],
        include_in_schema=False,
    )

    api.add_api_route(
        metadata_path(metadata.issuer),
        authorization_server_metadata,
        methods=["GET"],
        tags=["OAuth 2.0"],
        summary="Authorization server metadata (RFC 8414)",
        operation_id="authorization_server_metadata",
        response_class=Response,
        responses={
            200: {
                "description": "The metadata (RFC 8414 §3.2)",
                "content": {JSON_MEDIA_TYPE: {"schema": _schema(document), "example": document}},
            }
        },
    )
