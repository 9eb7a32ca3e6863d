"""A remote authorization server as the guard's verifiers ask it (``IntrospectionVerifier``,
``JwtVerifier``): bounded HTTP exchanges (``anti_grazer.remote_json``), its RFC 8414
metadata, and every failure to get a usable answer turned into
``TemporarilyUnavailableError`` (503), never a 500."""

from __future__ import annotations

from base64 import b64encode
from types import TracebackType
from typing import TYPE_CHECKING, Self
from urllib.parse import quote_plus, urlsplit, urlunsplit

from anti_grazer.remote_json import (
    DEFAULT_TIMEOUT_SECONDS,
    MAX_ANSWER_BYTES,
    JsonObject,
    JsonOverHttp,
    SharedLoad,
    UnusableAnswerError,
    check_url,
    is_allowed_url,
    unavailable,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "MAX_ANSWER_BYTES",
    "AuthorizationServer",
    "JsonObject",
    "RemoteVerifier",
    "SharedLoad",
    "UnusableAnswerError",
    "basic_authorization",
    "check_issuer",
    "check_url",
    "is_allowed_url",
    "metadata_url",
    "unavailable",
]

WELL_KNOWN_PATH = "/.well-known/oauth-authorization-server"


def check_issuer(issuer: str, *, allow_insecure_http: bool = False) -> str:
    """RFC 8414 §2: an issuer identifier is an https URL with no query or fragment."""
    check_url(issuer, "issuer", allow_insecure_http=allow_insecure_http)
    if urlsplit(issuer).query:
        raise ValueError("issuer must have no query component (RFC 8414 §2)")
    return issuer


def metadata_url(issuer: str) -> str:
    """RFC 8414 §3.1: the well-known suffix goes between the issuer's host and its path
    component, once a terminating ``/`` is removed (``https://as.example/tenant`` →
    ``https://as.example/.well-known/oauth-authorization-server/tenant``)."""
    parts = urlsplit(issuer)
    path = WELL_KNOWN_PATH + parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def basic_authorization(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: ``Basic`` with the id and secret each form-urlencoded first."""
    userpass = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
    return "Basic " + b64encode(userpass.encode("utf-8")).decode("ascii")


class AuthorizationServer(JsonOverHttp):
    """An authorization server over HTTP (``JsonOverHttp``: its client, the time every
    exchange may take) and its metadata."""

    def __init__(
        self,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        http_client: httpx.AsyncClient | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        super().__init__(
            timeout_seconds=timeout_seconds,
            http_client=http_client,
            allow_insecure_http=allow_insecure_http,
        )
        self._metadata: JsonObject | None = None
        self._discovery: SharedLoad[JsonObject] = SharedLoad()

    async def metadata(self, issuer: str) -> JsonObject:
        """The issuer's RFC 8414 metadata, asked once and kept (a failure is asked again
        on the next call); ``issuer`` in it must be the one asked for (§3.3)."""
        if self._metadata is None:
            self._metadata = await self._discovery.run(lambda: self._discover(issuer))
        return self._metadata

    async def _discover(self, issuer: str) -> JsonObject:
        url = metadata_url(issuer)
        metadata = await self.get_json(url)
        if metadata.get("issuer") != issuer:
            # RFC 8414 §3.3: "MUST be identical ... If these values are not identical,
            # the data contained in the response MUST NOT be used."
            raise unavailable("metadata names another issuer", url)
        return metadata

    async def endpoint(self, issuer: str, name: str) -> str:
        """The URL of the metadata member ``name`` (``jwks_uri``, ``introspection_endpoint``)."""
        url = (await self.metadata(issuer)).get(name)
        if not isinstance(url, str) or not is_allowed_url(
            url, allow_insecure_http=self.allow_insecure_http
        ):
            self._metadata = None  # asked again next time: it may be fixed by then
            raise unavailable(f"metadata has no usable {name}", metadata_url(issuer))
        return url


class RemoteVerifier:
    """What both remote verifiers share: their ``AuthorizationServer`` and its lifetime.
    Open one for an application's lifetime (``async with``, or ``aclose()`` at shutdown):
    it holds a pool of connections to the authorization server."""

    remote: AuthorizationServer

    async def aclose(self) -> None:
        """Close the connections to the authorization server."""
        await self.remote.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
