"""Form-encoded request bodies (RFC 6749 §3.2, Appendix B) into a checked parameter map.

Parameters come from the body only (never the query string); a repeated parameter is an
``invalid_request`` (§3.2: "MUST NOT be included more than once"); a parameter sent without
a value is treated as omitted (§3.2); bodies that are not UTF-8 are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from anti_grazer.protocol.errors import InvalidRequestError

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_PARAMETERS = 32


def is_form_content_type(content_type: str | None) -> bool:
    """True for ``application/x-www-form-urlencoded``, with or without parameters."""
    if content_type is None:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == FORM_CONTENT_TYPE


def parse_form(body: bytes, content_type: str | None) -> Mapping[str, str]:
    """Parse an ``application/x-www-form-urlencoded`` body into single-valued parameters.

    Raises ``InvalidRequestError`` for another content type, bytes or escapes that are not
    UTF-8, too many parameters, or a repeated parameter name.
    """
    if not is_form_content_type(content_type):
        raise InvalidRequestError("The request body must be application/x-www-form-urlencoded")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_PARAMETERS,
        )
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequestError("The request body is not a valid UTF-8 form") from None
    params: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in pairs:
        if name in seen:
            raise InvalidRequestError("A parameter is included more than once")
        seen.add(name)
        if value != "":
            params[name] = value
    return params
