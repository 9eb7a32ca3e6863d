"""``ClientCredentialsAuth``: sends every request of an httpx client (sync or async) or a
requests session with a bearer token (RFC 6750 §2.1) from the client credentials grant
(RFC 6749 §4.4), fetched on first use and reused until shortly before it expires.

- **One refresh for many callers** (``cache.py``): threads, or the tasks of one event
  loop, that need a token at once wait for a single token request.
- **One retry on a refused token**: a ``401`` whose ``WWW-Authenticate`` says
  ``error="invalid_token"`` (RFC 6750 §3.1: revoked, expired early) drops the token and
  resends the request once with a fresh one; any other ``401`` (and every ``403``) is
  returned as it came.  A refused fresh token is returned too: never a loop.
- **Bodies**: a request whose body is in memory (bytes, text, a form, JSON) is resent as
  it was.  A streamed body (a generator, an iterator, a file) has been consumed by the
  first send and is not buffered to be resent: its ``401`` is returned, and the next
  request gets a fresh token.
- **Secrets stay secret**: the client secret is a ``Secret``, and neither it nor a token
  appears in a ``repr``, a log line or an exception.

With httpx the token request goes through the caller's own client (its transport, TLS
settings and proxies), as an ``Auth`` flow does.  With requests it goes through
``requests_session`` when given, else a session of its own for each token request
(which honours ``REQUESTS_CA_BUNDLE`` and the proxy environment variables).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Generator, Iterable
from typing import Any

import httpx
import requests
from requests.auth import AuthBase

from anti_grazer.client.cache import DEFAULT_LEEWAY_SECONDS, TokenCache
from anti_grazer.client.challenge import says_invalid_token
from anti_grazer.client.secret import Secret
from anti_grazer.client.token_endpoint import (
    AuthMethod,
    TokenEndpoint,
    TokenEndpointError,
    TokenRequest,
    check_token_url,
)

DEFAULT_TIMEOUT_SECONDS = 10.0
_log = logging.getLogger(__name__)


class _AsPrepared(AuthBase):
    """Leaves a token request as built: no session ``auth`` or ``.netrc`` replaces the
    client's own credentials (nor recurses into ``ClientCredentialsAuth``)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


class ClientCredentialsAuth(httpx.Auth, AuthBase):
    """Bearer tokens of one client, cached: ``httpx.Client(auth=...)``,
    ``httpx.AsyncClient(auth=...)`` or ``requests.Session().auth = ...``.

    ``token_url`` must be https, except on a loopback address (or with ``insecure_http``);
    ``scope`` is asked for as given (``None``: the client's default scope); a token is
    reused until ``leeway_seconds`` before it expires, but for at least 90 % of its
    lifetime; ``timeout_seconds`` bounds each token request; the client authenticates
    with HTTP Basic (``client_secret_basic``) or in the body (``client_secret_post``).
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        leeway_seconds: float = DEFAULT_LEEWAY_SECONDS,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        auth_method: AuthMethod = "client_secret_basic",
        insecure_http: bool = False,
        requests_session: requests.Session | None = None,
    ) -> None:
        check_token_url(token_url, insecure_http)
        if not timeout_seconds > 0:
            raise ValueError("timeout_seconds must be a positive number of seconds")
        self._endpoint = TokenEndpoint(
            token_url, client_id, Secret(client_secret), scope, auth_method
        )
        self._cache = TokenCache(leeway_seconds)
        self._timeout_seconds = timeout_seconds
        self._requests_session = requests_session

    def __repr__(self) -> str:
        endpoint = self._endpoint
        return (
            f"ClientCredentialsAuth(token_url={endpoint.url!r}, "
            f"client_id={endpoint.client_id!r}, scope={endpoint.scope!r}, "
            f"auth_method={endpoint.auth_method!r})"
        )

    # -- httpx ------------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        """The httpx flow of a ``Client``: threads share one token request."""
        for attempt in (1, 2):
            token = self._cache.fresh()
            if token is None:
                with self._cache.thread_lock:
                    token = self._cache.fresh()
                    if token is None:
                        requested_at = self._cache.clock()
                        reply = yield self._httpx_token_request()
                        reply.read()
                        self._refuse_redirected(reply)
                        token = self._accept(reply.status_code, reply.content, requested_at)
            request.headers["Authorization"] = f"Bearer {token}"
            response = yield request
            challenges = response.headers.get_list("WWW-Authenticate")
            if not self._retries(response.status_code, challenges, token, attempt, request):
                return
            request = _copy(request)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The httpx flow of an ``AsyncClient``: the tasks of an event loop share one token
        request."""
        for attempt in (1, 2):
            token = self._cache.fresh()
            if token is None:
                async with self._cache.loop_lock():
                    token = self._cache.fresh()
                    if token is None:
                        requested_at = self._cache.clock()
                        reply = yield self._httpx_token_request()
                        await reply.aread()
                        self._refuse_redirected(reply)
                        token = self._accept(reply.status_code, reply.content, requested_at)
            request.headers["Authorization"] = f"Bearer {token}"
            response = yield request
            challenges = response.headers.get_list("WWW-Authenticate")
            if not self._retries(response.status_code, challenges, token, attempt, request):
                return
            request = _copy(request)

    def _httpx_token_request(self) -> httpx.Request:
        sent = self._endpoint.request()
        return httpx.Request(
            "POST",
            sent.url,
            headers=sent.headers,
            content=sent.body,
            # A request built outside Client.build_request has no timeout of its own.
            extensions={"timeout": httpx.Timeout(self._timeout_seconds).as_dict()},
        )

    # -- requests ---------------------------------------------------------------------

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        """requests' hook: the token now, and a look at the response when it comes."""
        r.headers["Authorization"] = f"Bearer {self._requests_token()}"
        r.register_hook("response", self._after_requests_response)
        return r

    def _requests_token(self) -> str:
        token = self._cache.fresh()
        if token is not None:
            return token
        with self._cache.thread_lock:
            token = self._cache.fresh()
            if token is None:
                requested_at = self._cache.clock()
                status_code, content = self._post_with_requests(self._endpoint.request())
                token = self._accept(status_code, content, requested_at)
            return token

    def _post_with_requests(self, sent: TokenRequest) -> tuple[int, bytes]:
        def post(session: requests.Session) -> tuple[int, bytes]:
            reply = session.post(
                sent.url,
                data=sent.body,
                headers=sent.headers,
                auth=_AsPrepared(),
                timeout=self._timeout_seconds,
                allow_redirects=False,
            )
            return reply.status_code, reply.content

        if self._requests_session is not None:
            return post(self._requests_session)
        with requests.Session() as session:  # closed at once: token requests are rare
            return post(session)

    def _after_requests_response(
        self, response: requests.Response, **send_options: Any
    ) -> requests.Response:
        """Resend once with a fresh token if the token was refused (as requests' own
        digest auth resends: through the same connection adapter, with the same send
        options, the first response kept in ``history``)."""
        sent = response.request
        authorization = str(sent.headers.get("Authorization", ""))
        if not authorization.startswith("Bearer "):  # a redirect to another host dropped it
            return response
        token = authorization.removeprefix("Bearer ")
        challenges = [response.headers.get("WWW-Authenticate", "")]
        if not self._retries(response.status_code, challenges, token, 1, sent):
            return response
        _ = response.content  # release the connection for the resend
        response.close()
        resent = sent.copy()
        fresh = self._requests_token()
        resent.headers["Authorization"] = f"Bearer {fresh}"
        again = response.connection.send(resent, **send_options)
        again.history.append(response)
        again.request = resent
        challenges = [again.headers.get("WWW-Authenticate", "")]
        self._retries(again.status_code, challenges, fresh, 2, resent)  # forgets a refused one
        return again

    # -- both -------------------------------------------------------------------------

    def _refuse_redirected(self, reply: httpx.Response) -> None:
        """A token answer from anywhere but the token endpoint (a redirect followed) is
        not taken (RFC 6749 §3.2: the client talks to the endpoint it knows).  httpx
        follows redirects within an auth flow as the caller's client is set to, so with
        ``follow_redirects=True`` the request itself may have gone on: use
        client_secret_basic (httpx drops the Authorization header on a redirect to
        another origin) or keep redirects off, httpx's default."""
        if reply.request.url != httpx.URL(self._endpoint.url):
            raise TokenEndpointError(
                self._endpoint.url,
                reply.status_code,
                None,
                f"answered from {reply.request.url}, where a redirect led; not taken",
            )

    def _accept(self, status_code: int, content: bytes, requested_at: float) -> str:
        """Read the token endpoint's answer (raising its error) and keep the token."""
        issued = self._endpoint.read(status_code, content)
        self._cache.store(issued.access_token, issued.expires_in, requested_at)
        _log.debug(
            "fetched an access token for client %s from %s (expires in %s s)",
            self._endpoint.client_id,
            self._endpoint.url,
            issued.expires_in,
        )
        return issued.access_token

    def _retries(
        self,
        status_code: int,
        challenges: Iterable[str],
        token: str,
        attempt: int,
        request: httpx.Request | requests.PreparedRequest,
    ) -> bool:
        """Whether to resend after this answer.  A token refused as ``invalid_token``
        (RFC 6750 §3.1) is forgotten whatever the answer; the request is resent once, and
        only if its body can be sent again."""
        if status_code != 401 or not says_invalid_token(challenges):
            return False
        self._cache.discard(token)
        if attempt > 1:
            _log.warning("the API refused a fresh access token too (invalid_token)")
            return False
        if not can_resend(request):
            _log.debug("the API refused the access token; a streamed body is not resent")
            return False
        _log.debug("the API refused the access token; resending once with a fresh one")
        return True


def _copy(request: httpx.Request) -> httpx.Request:
    """A request to resend, so that the first one keeps the token it was sent with (in
    the response's ``history``); only for a body held in memory."""
    return httpx.Request(
        request.method,
        request.url,
        headers=request.headers,
        content=request.content,
        extensions=request.extensions,
    )


def can_resend(request: httpx.Request | requests.PreparedRequest) -> bool:
    """Whether the request's body can be sent again: no body, or bytes or text held in
    memory; not a stream that the first send consumed."""
    if isinstance(request, httpx.Request):
        try:
            _ = request.content  # set for in-memory bodies; streams raise RequestNotRead
        except httpx.RequestNotRead:
            return False
        return True
    return request.body is None or isinstance(request.body, bytes | str)
