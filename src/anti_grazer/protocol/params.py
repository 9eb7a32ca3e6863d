"""Form-encoded request bodies (RFC 6749 §3.2, Appendix B) into a checked parameter map.

Parameters come from the body only (never the query string); a repeated parameter is an
``invalid_request`` (§3.2: "MUST NOT be included more than once"), except one an
extension lets repeat, where an endpoint names it (RFC 8707 §2 ``resource`` at the token
endpoint: "may be used multiple times"); a parameter sent without a value is treated as
omitted (§3.2); bodies that are not UTF-8, or declared in another charset, are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from anti_grazer.protocol.errors import InvalidRequestError

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_PARAMETERS = 32
NOTHING_REPEATS: frozenset[str] = frozenset()


class Form(dict[str, str]):
    """A parsed form: each parameter given once, by name (a plain ``dict``, read at C
    speed on the token path), and in ``repeated`` every value of each parameter the
    endpoint lets repeat, in the order sent (read them with ``values_of``)."""

    __slots__ = ("repeated",)

    def __init__(self) -> None:
        super().__init__()
        self.repeated: dict[str, tuple[str, ...]] = {}


def values_of(params: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Every value of ``name``: those of a parameter that may repeat (``Form.repeated``),
    else its one value, or none."""
    if isinstance(params, Form) and name in params.repeated:
        return params.repeated[name]
    value = params.get(name)
    return () if value is None else (value,)


def is_form_content_type(content_type: str | None) -> bool:
    """True for ``application/x-www-form-urlencoded``, with or without parameters."""
    if content_type is None:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == FORM_CONTENT_TYPE


def declares_only_utf8(content_type: str) -> bool:
    """True unless a ``charset`` parameter of ``content_type`` names something other than
    UTF-8 (RFC 9110 §8.3.1: parameter names and charset values are case-insensitive, a
    value may be a quoted-string; §8.3.2: charsets by their IANA name).  A repeated
    ``charset`` must name UTF-8 each time; a quoted value is read without its quotes (no
    charset name needs a quoted-pair, so one with a backslash is refused)."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() != "charset":
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if value.lower() != "utf-8":
            return False
    return True


def parse_form(
    body: bytes, content_type: str | None, repeatable: frozenset[str] = NOTHING_REPEATS
) -> Form:
    """Parse an ``application/x-www-form-urlencoded`` body into single-valued parameters,
    and the values of those named in ``repeatable`` (each empty one omitted, §3.2).

    Raises ``InvalidRequestError`` for another content type or a charset other than
    UTF-8 (Appendix B), bytes or escapes that are not UTF-8, too many parameters, or a
    repeated parameter name not in ``repeatable``.
    """
    if content_type is None or not is_form_content_type(content_type):
        raise InvalidRequestError("The request body must be application/x-www-form-urlencoded")
    if not declares_only_utf8(content_type):
        raise InvalidRequestError("The request body must be encoded in UTF-8")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_PARAMETERS,
        )
    except UnicodeDecodeError:
        raise InvalidRequestError("The request body is not a valid UTF-8 form") from None
    except ValueError:  # parse_qsl: more than max_num_fields
        raise InvalidRequestError(
            f"The request body has more than {MAX_PARAMETERS} parameters"
        ) from None
    params = Form()
    seen: set[str] = set()
    for name, value in pairs:
        if name in repeatable:
            if value != "":
                params.repeated[name] = (*params.repeated.get(name, ()), value)
            continue
        if name in seen:
            raise InvalidRequestError("A parameter is included more than once")
        seen.add(name)
        if value != "":
            params[name] = value
    return params
