"""OAuth error responses: RFC 6749 §5.2 (token endpoint), RFC 8707 §2 (resource
indicators), RFC 7009 §2.2.1 (revocation), RFC 6750 §3.1 (protected resources).

Each subclass is one spec error code, with the HTTP status the spec gives it.  The
``description`` is always a fixed, human-readable sentence chosen by our code: it never
echoes a token, a secret or any other request value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from anti_grazer.protocol.rate_limits import Usage


class OAuthError(Exception):
    """An error rendered as ``{"error": code, "error_description": description}``."""

    code: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400
    default_description: ClassVar[str] = "The request is invalid"

    def __init__(self, description: str | None = None) -> None:
        self.description = description or self.default_description
        # The client, when it had authenticated before it was refused (for the access log).
        self.client_id: str | None = None
        self.secret_id: str | None = None  # the public id of the secret it used
        # Its token quota once the request was counted (the RateLimit fields go with it).
        self.usage: Usage | None = None
        super().__init__(f"{self.code}: {self.description}")

    def body(self) -> dict[str, str]:
        """The JSON error body: RFC 6749 §5.2 ``error`` and ``error_description``."""
        return {"error": self.code, "error_description": self.description}


class InvalidRequestError(OAuthError):
    """RFC 6749 §5.2 / RFC 6750 §3.1 ``invalid_request``."""

    code = "invalid_request"


class InvalidClientError(OAuthError):
    """RFC 6749 §5.2 ``invalid_client``: always 401 here, the seed's exact body."""

    code = "invalid_client"
    status = 401
    default_description = "Client authentication failed"


class InvalidGrantError(OAuthError):
    """RFC 6749 §5.2 ``invalid_grant``."""

    code = "invalid_grant"
    default_description = "The grant is invalid"


class UnauthorizedClientError(OAuthError):
    """RFC 6749 §5.2 ``unauthorized_client``."""

    code = "unauthorized_client"
    default_description = "The client is not allowed to use this grant type"


class UnsupportedGrantTypeError(OAuthError):
    """RFC 6749 §5.2 ``unsupported_grant_type``."""

    code = "unsupported_grant_type"
    default_description = "The grant type is not supported"


class InvalidScopeError(OAuthError):
    """RFC 6749 §5.2 ``invalid_scope``."""

    code = "invalid_scope"
    default_description = "The requested scope is invalid or not allowed for this client"


class InvalidTargetError(OAuthError):
    """RFC 8707 §2 ``invalid_target`` (registered for the token endpoint's error response
    by §5.1): "The requested resource is invalid, missing, unknown, or malformed".  A 400,
    as every token endpoint error but ``invalid_client`` (RFC 6749 §5.2)."""

    code = "invalid_target"
    default_description = "The requested resource is invalid or not allowed for this client"


class UnsupportedTokenTypeError(OAuthError):
    """RFC 7009 §2.2.1 ``unsupported_token_type``."""

    code = "unsupported_token_type"
    default_description = "The token type hint is not supported"


class ServerError(OAuthError):
    """An internal failure, rendered without any detail (the detail goes to the log:
    ``reason``, a sentence for the operator when the cause is known, else the cause's
    traceback)."""

    code = "server_error"
    status = 500
    default_description = "The server encountered an internal error"

    def __init__(self, description: str | None = None, *, reason: str | None = None) -> None:
        self.reason = reason
        super().__init__(description)


class InvalidTokenError(OAuthError):
    """RFC 6750 §3.1 ``invalid_token``: unknown, malformed, expired or revoked."""

    code = "invalid_token"
    status = 401
    default_description = "The access token is invalid, expired or revoked"


class InsufficientScopeError(OAuthError):
    """RFC 6750 §3.1 ``insufficient_scope``; carries the scope the resource needs."""

    code = "insufficient_scope"
    status = 403
    default_description = "The access token does not carry the required scope"

    def __init__(self, required_scope: str, description: str | None = None) -> None:
        self.required_scope = required_scope
        super().__init__(description)


class MissingTokenError(OAuthError):
    """RFC 6750 §3.1: a request with no authentication gets a bare challenge, no code."""

    code = ""
    status = 401
    default_description = "An access token is required"

    def body(self) -> dict[str, str]:
        """No ``error`` member: the request carried no authentication (RFC 6750 §3.1)."""
        return {"error_description": self.description}


class TemporarilyUnavailableError(OAuthError):
    """The resource server cannot check the token now: the authorization server it asks
    (introspection, RFC 7662; its metadata or keys, RFC 8414 and RFC 9068) is unreachable,
    too slow, or answered a 5xx or something unusable.  Answered ``503`` with
    ``Retry-After`` (RFC 9110 §15.6.4, §10.2.3), never 401: the token was not found
    invalid, and a client told ``invalid_token`` would throw a good token away.

    The code is RFC 6749 §4.1.2.1's ``temporarily_unavailable``, the one OAuth error code
    that means exactly this ("unable to handle the request due to a temporary overloading
    or maintenance of the server"); RFC 6750 §3.1 defines none for it, and its body keeps
    the §3 shape (``error``, ``error_description``).  No ``WWW-Authenticate`` challenge
    goes with it: the credentials were not judged.  The description never names the
    authorization server's address or answer (the log does)."""

    code = "temporarily_unavailable"
    status = 503
    default_description = "The access token cannot be checked now; retry later"

    def __init__(self, retry_after_seconds: int = 5, description: str | None = None) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(description)


class SlowDownError(OAuthError):
    """The client must wait ``retry_after_seconds`` before its next request: answered
    ``429`` (RFC 6585 §4) with ``Retry-After`` (RFC 9110 §10.2.3).

    RFC 6749 §5.2 has no code for it.  The code is ``slow_down``, registered for token
    endpoint responses by RFC 8628 §3.5 (the client polls too fast and must wait): of the
    registered codes, the one that tells a client its own requests come too fast and
    that the same request will succeed later.  ``temporarily_unavailable`` (RFC 6749
    §4.1.2.1) blames the server's load, not the client; ``invalid_client`` or
    ``invalid_request`` would tell it its credentials or request are wrong, so that
    retrying is useless.  This server has no device grant, so the code cannot be read as
    device polling."""

    code = "slow_down"
    status = 429

    def __init__(self, retry_after_seconds: int, description: str | None = None) -> None:
        self.retry_after_seconds = max(1, retry_after_seconds)
        super().__init__(description)


class ClientLockedOutError(SlowDownError):
    """Too many failed authentications of this client id from this address, or from
    this address (``protocol.lockout``): refused whatever the credentials, so a guess
    made during a lockout tells nothing."""

    default_description = "Too many failed client authentications: retry later"


class TokenQuotaExceededError(SlowDownError):
    """The client has had as many tokens as its quota allows this hour or this day."""

    default_description = "Token request quota exceeded: retry later"
