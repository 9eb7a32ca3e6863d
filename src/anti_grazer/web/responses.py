"""Rendering OAuth responses: pre-serialised JSON with the no-store headers of RFC 6749
§5.1 on every token, revocation and error response."""

from __future__ import annotations

import orjson
from starlette.responses import Response

from anti_grazer.protocol.errors import MissingTokenError, OAuthError

NO_STORE_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}
JSON_MEDIA_TYPE = "application/json"


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    """A JSON response carrying ``Cache-Control: no-store`` and ``Pragma: no-cache``."""
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type=JSON_MEDIA_TYPE,
        headers={**NO_STORE_HEADERS, **(headers or {})},
    )


def error_body(error: OAuthError) -> dict[str, str]:
    """RFC 6749 §5.2 body: ``error`` and ``error_description``."""
    if isinstance(error, MissingTokenError):
        return {"error_description": error.description}
    return {"error": error.code, "error_description": error.description}


def oauth_error_response(error: OAuthError, realm: str) -> Response:
    """An authorization-server error; every 401 challenges for HTTP Basic (§5.2)."""
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = f'Basic realm="{realm}"'
    return json_response(error.status, error_body(error), headers)
