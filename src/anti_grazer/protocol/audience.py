"""The audience of access tokens: RFC 8707 resource indicators.

A client is registered with the audiences it may ask for (``Client.audiences``); a token
request names some with ``resource`` (§2: an absolute URI, "may be used multiple times"),
or none and gets the client's default audience, the first it was registered with
(``grant_audience``).  The token is restricted to them (§2 "SHOULD audience-restrict
issued access tokens"): its ``aud``, as a JWT claim and an introspection member, is
``audience_claim``'s.  Resource servers refuse a token whose ``aud`` does not name them
(RFC 9700 §2.3; ``audience_contains``, the guard).

Audiences are compared as strings, character by character (RFC 3986 §6.2.1): a client
asks for exactly the URI it was registered with."""

from __future__ import annotations

import re
from collections.abc import Sequence

from anti_grazer.protocol.errors import InvalidTargetError
from anti_grazer.protocol.models import Client

RESOURCE = "resource"  # the token request parameter (RFC 8707 §2)
# A registered audience's longest form: any API's identifier fits, and a client row stays
# small (every client is cached whole).
MAX_AUDIENCE_LENGTH = 2048

# RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
# What may follow "scheme:" in an absolute-URI (§4.3: hier-part [ "?" query ]): the
# unreserved and reserved characters (§2.2, §2.3) but "#", and percent-encodings (§2.1).
_AFTER_SCHEME = re.compile(r"(?:[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")

MALFORMED = "The resource parameter must be an absolute URI without a fragment"


def resource_problem(value: str) -> str | None:
    """Why ``value`` is no resource indicator (RFC 8707 §2: "MUST be an absolute URI, as
    specified by Section 4.3 of [RFC3986]"; "MUST NOT include a fragment component"), or
    None when it is one.  The reason never quotes the value."""
    if "#" in value:
        return "has a fragment (RFC 8707 §2: it MUST NOT)"
    scheme, colon, rest = value.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme) or not _AFTER_SCHEME.fullmatch(rest):
        return "is not an absolute URI (RFC 3986 §4.3: a scheme, ':', then URI characters)"
    return None


def audience_problem(value: str) -> str | None:
    """Why ``value`` cannot be registered as an audience, or None.  On top of
    ``resource_problem``: no query component.  RFC 8707 §2 says a resource "SHOULD NOT
    include a query component" and grants that some need one; an API's identifier is
    chosen by its operator, who can always choose one without, and a query's parameters
    come in any order, so that two spellings of one API would be two audiences."""
    if len(value) > MAX_AUDIENCE_LENGTH:
        return f"is longer than {MAX_AUDIENCE_LENGTH} characters"
    problem = resource_problem(value)
    if problem is None and "?" in value:
        return "has a query (RFC 8707 §2: it SHOULD NOT; not accepted here)"
    return problem


def allowed_audiences(client: Client, server_audience: str | None) -> tuple[str, ...]:
    """The audiences ``client`` may name with ``resource``: its own, or, for a client
    registered without any, the server's default audience (the ``AUDIENCE`` setting)."""
    if client.audiences:
        return client.audiences
    return () if server_audience is None else (server_audience,)


def grant_audience(
    requested: Sequence[str], client: Client, server_audience: str | None
) -> tuple[str, ...]:
    """The audience of ``client``'s token (RFC 8707 §2): each ``requested`` resource,
    once, in the order asked, if every one is well formed and among
    ``allowed_audiences``; else ``InvalidTargetError`` ("invalid, missing, unknown, or
    malformed").

    Nothing requested (§2: the server "MAY process the request with no specific resource
    or by using a pre-defined default resource value"): the client's default audience,
    the first it was registered with; for a client registered without any, none: its
    opaque tokens have no specific audience restriction, as before audiences existed,
    and its JWTs the server's default (``JwtAccessTokens``: RFC 9068 §2.2 requires an
    ``aud``)."""
    if not requested:
        return client.audiences[:1]
    allowed = allowed_audiences(client, server_audience)
    for resource in requested:
        if resource_problem(resource) is not None:
            raise InvalidTargetError(MALFORMED)
        if resource not in allowed:
            raise InvalidTargetError()
    return tuple(dict.fromkeys(requested))


def audience_claim(audience: Sequence[str]) -> str | list[str]:
    """``aud`` as RFC 7519 §4.1.3 writes it: "In the special case when the JWT has one
    audience, the "aud" value MAY be a single case-sensitive string" (we always do, as
    before several audiences existed), else an array of strings.  The same shape in an
    introspection answer (RFC 7662 §2.2 ``aud``, "as defined in JWT")."""
    if not audience:
        raise ValueError("a token without audience has no aud")
    return audience[0] if len(audience) == 1 else list(audience)


def audience_contains(aud: object, audience: str) -> bool:
    """``aud`` (a string, or an array of strings: RFC 7519 §4.1.3) names ``audience``:
    the check of every resource server (RFC 9068 §4, RFC 7662 §2.2 ``aud``)."""
    if isinstance(aud, str):
        return aud == audience
    return isinstance(aud, list) and audience in aud
