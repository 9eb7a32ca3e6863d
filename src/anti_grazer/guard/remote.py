"""A remote authorization server as the guard's verifiers ask it (``IntrospectionVerifier``,
``JwtVerifier``): bounded HTTP exchanges, its RFC 8414 metadata, and every failure to get
a usable answer turned into ``TemporarilyUnavailableError`` (503), never a 500."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from base64 import b64encode
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Generic, Self, TypeVar
from urllib.parse import quote_plus, urlsplit, urlunsplit

import httpx
import orjson

from anti_grazer.protocol.errors import TemporarilyUnavailableError

logger = logging.getLogger("anti_grazer.guard")

T = TypeVar("T")
JsonObject = dict[str, object]

DEFAULT_TIMEOUT_SECONDS = 5.0
# Metadata, a key set or an introspection answer is a few kilobytes: anything larger is
# refused as it streams, never buffered whole.
MAX_ANSWER_BYTES = 1 << 20
WELL_KNOWN_PATH = "/.well-known/oauth-authorization-server"
# Uncompressed answers only: the size bound holds for what is read, not what it unpacks to.
_ACCEPT_JSON = {"Accept": "application/json", "Accept-Encoding": "identity"}


class UnusableAnswerError(Exception):
    """The authorization server could not be asked, or answered something unusable; the
    message says what, and never holds a token, a secret or the answer's body."""


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_allowed_url(url: str, *, allow_insecure_http: bool = False) -> bool:
    """An ``https`` URL with a host and no fragment; ``http`` only to a loopback address
    (as the server itself, DESIGN.md §4.9) unless ``allow_insecure_http``: the client
    secret and the tokens travel in these requests."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    if not parts.hostname or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and (allow_insecure_http or _is_loopback(parts.hostname))


def check_url(url: str, name: str, *, allow_insecure_http: bool = False) -> str:
    """``url`` if ``is_allowed_url``, else ``ValueError`` naming the setting."""
    if not is_allowed_url(url, allow_insecure_http=allow_insecure_http):
        raise ValueError(f"{name} must be an https URL (http only to a loopback address)")
    return url


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


def unavailable(reason: str, url: str) -> TemporarilyUnavailableError:
    """The 503 to raise, once the reason is logged (the URL names no token or secret)."""
    logger.warning("authorization server unavailable", extra={"reason": reason, "url": url})
    return TemporarilyUnavailableError()


class SharedLoad(Generic[T]):
    """One load at a time, its outcome shared by every caller that asks while it runs
    (single flight): a slow or failing authorization server gets one request, not one
    per waiting bearer request.  The next call after it ends starts a new load."""

    def __init__(self) -> None:
        self._running: asyncio.Future[T] | None = None

    async def run(self, load: Callable[[], Awaitable[T]]) -> T:
        if self._running is None:
            running = asyncio.ensure_future(load())
            running.add_done_callback(self._done)
            self._running = running
        return await asyncio.shield(self._running)

    def _done(self, running: asyncio.Future[T]) -> None:
        self._running = None
        if not running.cancelled():
            running.exception()  # retrieved: no "never retrieved" warning if none awaited


class AuthorizationServer:
    """An authorization server over HTTP: its client (``httpx.AsyncClient``, owned unless
    one is given), the time every exchange may take, and its metadata.

    Each exchange ends within ``timeout_seconds`` as a whole (and each of connect, read,
    write and pool wait too), answers 200 with a JSON object of at most
    ``MAX_ANSWER_BYTES``, follows no redirect, or raises ``TemporarilyUnavailableError``.
    ``discovery_url`` gives the URL of an issuer's metadata: RFC 8414 §3.1's by default
    (an OpenID provider's is OpenID Connect Discovery 1.0 §4's, for the federation)."""

    def __init__(
        self,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        http_client: httpx.AsyncClient | None = None,
        allow_insecure_http: bool = False,
        discovery_url: Callable[[str], str] = metadata_url,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        self.timeout_seconds = timeout_seconds
        self.allow_insecure_http = allow_insecure_http
        self._owns_client = http_client is None
        self.http = http_client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds), follow_redirects=False
        )
        self.discovery_url = discovery_url
        self._metadata: JsonObject | None = None
        self._discovery: SharedLoad[JsonObject] = SharedLoad()

    async def get_json(self, url: str) -> JsonObject:
        """GET ``url``'s JSON object."""
        return await self._exchange("GET", url, {})

    async def post_form(self, url: str, form: Mapping[str, str], authorization: str) -> JsonObject:
        """POST ``form`` to ``url`` with an ``Authorization`` header; its JSON object."""
        return await self._exchange("POST", url, dict(form), authorization)

    async def _exchange(
        self, method: str, url: str, form: dict[str, str], authorization: str | None = None
    ) -> JsonObject:
        headers = dict(_ACCEPT_JSON)
        if authorization is not None:
            headers["Authorization"] = authorization
        try:
            request = self.http.build_request(method, url, data=form or None, headers=headers)
            url = str(request.url.copy_with(userinfo=b"", query=None))  # for the log
            async with asyncio.timeout(self.timeout_seconds):
                body = await self._send(request)
        except TimeoutError:
            raise unavailable("timeout", url) from None
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as error:
            raise unavailable(type(error).__name__, url) from None
        except UnusableAnswerError as error:
            raise unavailable(str(error), url) from None
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise unavailable("not JSON", url) from None
        if not isinstance(document, dict):
            raise unavailable("not a JSON object", url)
        return document

    async def _send(self, request: httpx.Request) -> bytes:
        response = await self.http.send(request, stream=True)
        try:
            if response.status_code != 200:
                raise UnusableAnswerError(f"status {response.status_code}")
            if response.headers.get("content-encoding", "identity").lower() != "identity":
                raise UnusableAnswerError("compressed answer")  # it was not asked for
            body = bytearray()
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise UnusableAnswerError("answer too large")
            return bytes(body)
        finally:
            await response.aclose()

    async def metadata(self, issuer: str) -> JsonObject:
        """The issuer's RFC 8414 metadata, asked once and kept (a failure is asked again
        on the next call); ``issuer`` in it must be the one asked for (§3.3)."""
        if self._metadata is None:
            self._metadata = await self._discovery.run(lambda: self._discover(issuer))
        return self._metadata

    async def _discover(self, issuer: str) -> JsonObject:
        url = self.discovery_url(issuer)
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
            raise unavailable(f"metadata has no usable {name}", self.discovery_url(issuer))
        return url

    async def aclose(self) -> None:
        """Close the HTTP client, if it is ours."""
        if self._owns_client:
            await self.http.aclose()


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
