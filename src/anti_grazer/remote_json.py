"""JSON over HTTP from another server, bounded: each exchange ends within a time limit,
reads at most ``MAX_ANSWER_BYTES``, follows no redirect, and any failure to get a usable
answer (refused, timed out, a non-200, not a JSON object) is raised as
``TemporarilyUnavailableError`` once its reason is logged (never a token, a secret or the
answer's body).  The guard's remote verifiers ask an authorization server through it
(``guard.remote``), and the server fetches its clients' JWK Sets (``remote_jwks``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Generic, TypeVar
from urllib.parse import urlsplit

import httpx
import orjson

from anti_grazer.issuer import is_loopback
from anti_grazer.protocol.errors import TemporarilyUnavailableError

logger = logging.getLogger("anti_grazer.remote")

T = TypeVar("T")
JsonObject = dict[str, object]

DEFAULT_TIMEOUT_SECONDS = 5.0
# Metadata, a key set or an introspection answer is a few kilobytes: anything larger is
# refused as it streams, never buffered whole.
MAX_ANSWER_BYTES = 1 << 20
# Uncompressed answers only: the size bound holds for what is read, not what it unpacks to.
_ACCEPT_JSON = {"Accept": "application/json", "Accept-Encoding": "identity"}


class UnusableAnswerError(Exception):
    """The remote server could not be asked, or answered something unusable; the
    message says what, and never holds a token, a secret or the answer's body."""


def is_allowed_url(url: str, *, allow_insecure_http: bool = False) -> bool:
    """An ``https`` URL with a host and no fragment; ``http`` only to a loopback address
    (as the server itself, DESIGN.md §4.9) unless ``allow_insecure_http``: secrets, tokens and
    the keys that authenticate clients travel in these exchanges."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    if not parts.hostname or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and (allow_insecure_http or is_loopback(parts.hostname))


def check_url(url: str, name: str, *, allow_insecure_http: bool = False) -> str:
    """``url`` if ``is_allowed_url``, else ``ValueError`` naming the setting."""
    if not is_allowed_url(url, allow_insecure_http=allow_insecure_http):
        raise ValueError(f"{name} must be an https URL (http only to a loopback address)")
    return url


def unavailable(reason: str, url: str) -> TemporarilyUnavailableError:
    """The 503 to raise, once the reason is logged (the URL names no token or secret)."""
    logger.warning("remote server unavailable", extra={"reason": reason, "url": url})
    return TemporarilyUnavailableError()


class SharedLoad(Generic[T]):
    """One load at a time, its outcome shared by every caller that asks while it runs
    (single flight): a slow or failing server gets one request, not one per
    waiting request.  The next call after it ends starts a new load."""

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


class JsonOverHttp:
    """Another server over HTTP: its client (``httpx.AsyncClient``, owned unless one is
    given) and the time every exchange may take.

    Each exchange ends within ``timeout_seconds`` as a whole (and each of connect, read,
    write and pool wait too), answers 200 with a JSON object of at most
    ``MAX_ANSWER_BYTES``, follows no redirect, or raises ``TemporarilyUnavailableError``."""

    def __init__(
        self,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        http_client: httpx.AsyncClient | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        self.timeout_seconds = timeout_seconds
        self.allow_insecure_http = allow_insecure_http
        self._owns_client = http_client is None
        self.http = http_client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds), follow_redirects=False
        )

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

    async def aclose(self) -> None:
        """Close the HTTP client, if it is ours."""
        if self._owns_client:
            await self.http.aclose()
