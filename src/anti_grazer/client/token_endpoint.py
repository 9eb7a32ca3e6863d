"""The token endpoint as a client sees it, without any HTTP library: the client
credentials request (RFC 6749 §4.4.2) with the client authenticated by HTTP Basic or in
the body (§2.3.1), and its answer read as a token (§5.1) or an error (§5.2).

Nothing here puts the secret or a token into a ``repr``, a message or an exception."""

from __future__ import annotations

import json
import math
from base64 import b64encode
from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import quote_plus, urlencode, urlsplit

from anti_grazer.client.secret import MASK, Secret

AuthMethod = Literal["client_secret_basic", "client_secret_post"]
AUTH_METHODS: Final[tuple[AuthMethod, ...]] = ("client_secret_basic", "client_secret_post")
FORM: Final = "application/x-www-form-urlencoded"
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "::1", "localhost"})


def basic_credentials(client_id: str, client_secret: str) -> str:
    """The ``Authorization`` value for ``client_secret_basic`` (RFC 6749 §2.3.1): the id
    and secret each form-urlencoded (Appendix B) before they are joined by a colon and
    base64-encoded (RFC 7617), so that a colon or non-ASCII character survives."""
    pair = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
    return "Basic " + b64encode(pair.encode("ascii")).decode("ascii")


def check_token_url(token_url: str, insecure_http: bool) -> None:
    """The secret travels only over TLS (RFC 6749 §2.3.1, §3.2): an ``http`` token URL is
    refused unless its host is a loopback address or ``insecure_http`` says otherwise."""
    parts = urlsplit(token_url)
    if parts.scheme == "https" or (parts.scheme == "http" and insecure_http):
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise ValueError(
        f"the token URL must be https (or http on a loopback address), not {token_url!r}"
    )


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """One ``POST`` to the token endpoint; its headers and body may hold the secret."""

    url: str
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An access token and its lifetime in seconds (``None``: the server did not say)."""

    access_token: str = field(repr=False)
    expires_in: float | None


class TokenEndpointError(Exception):
    """The token endpoint refused the request, or answered something that is not a token.

    ``error`` is the RFC 6749 §5.2 code (``invalid_client``, ``invalid_scope``, ...) when the
    answer was an OAuth error, else ``None``; ``description`` is its ``error_description``.
    """

    def __init__(
        self,
        token_url: str,
        status_code: int,
        error: str | None,
        description: str | None = None,
        error_uri: str | None = None,
    ) -> None:
        self.token_url = token_url
        self.status_code = status_code
        self.error = error
        self.description = description
        self.error_uri = error_uri
        what = error if error is not None else "no OAuth error"
        detail = f": {description}" if description else ""
        super().__init__(f"the token endpoint {token_url} answered {status_code} {what}{detail}")


class TokenEndpoint:
    """What a client sends to ``url`` and how it reads the answer."""

    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: Secret,
        scope: str | None,
        auth_method: AuthMethod,
    ) -> None:
        if auth_method not in AUTH_METHODS:
            raise ValueError(f"auth_method must be one of {', '.join(AUTH_METHODS)}")
        if not client_id:
            raise ValueError("the client id is empty")
        self.url = url
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope
        self.auth_method = auth_method

    def request(self) -> TokenRequest:
        """The client credentials grant request (RFC 6749 §4.4.2)."""
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        headers = {"Content-Type": FORM, "Accept": "application/json"}
        if self.auth_method == "client_secret_basic":
            headers["Authorization"] = basic_credentials(self.client_id, self._secret.reveal())
        else:
            form["client_id"] = self.client_id
            form["client_secret"] = self._secret.reveal()
        return TokenRequest(self.url, headers, urlencode(form).encode("ascii"))

    def read(self, status_code: int, body: bytes) -> IssuedToken:
        """The token of a §5.1 answer, or ``TokenEndpointError`` for anything else."""
        document = _json_object(body)
        if status_code != 200:
            raise self._error(status_code, document)
        access_token = document.get("access_token")
        token_type = document.get("token_type")
        if not isinstance(access_token, str) or not access_token:
            raise TokenEndpointError(self.url, status_code, None, "the answer has no access_token")
        # §7.1 / RFC 6750 §4: the type is case-insensitive, and only Bearer is understood here.
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise TokenEndpointError(self.url, status_code, None, "the token is not a Bearer token")
        return IssuedToken(access_token, _lifetime(document.get("expires_in")))

    def _error(self, status_code: int, document: dict[str, object]) -> TokenEndpointError:
        """§5.2: ``error``, ``error_description`` and ``error_uri``, with the secret masked
        should the server have echoed it."""
        fields = [
            self._masked(document.get(name)) for name in ("error", "error_description", "error_uri")
        ]
        return TokenEndpointError(self.url, status_code, *fields)

    def _masked(self, value: object) -> str | None:
        if not isinstance(value, str):
            return None
        return value.replace(self._secret.reveal(), MASK)

    def __repr__(self) -> str:
        return (
            f"TokenEndpoint(url={self.url!r}, client_id={self.client_id!r}, "
            f"scope={self.scope!r}, auth_method={self.auth_method!r})"
        )


def _lifetime(expires_in: object) -> float | None:
    """§5.1: ``expires_in`` is RECOMMENDED; a missing or unusable one means "unknown".
    A negative one says the token has expired already: 0, so it is never reused."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
        return None
    if not math.isfinite(expires_in):
        return None
    return max(0.0, float(expires_in))


def _json_object(body: bytes) -> dict[str, object]:
    """The JSON object of ``body``, or an empty one for anything else."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond reason
        return {}
    return document if isinstance(document, dict) else {}
