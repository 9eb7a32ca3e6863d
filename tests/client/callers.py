"""The three ways an application calls the API with ``ClientCredentialsAuth``, behind one
interface, so that each behaviour is tested once for httpx's ``Client``, httpx's
``AsyncClient`` and a requests ``Session``: one call, or many at once (threads; tasks of
one event loop), each reported as the status and the bearer tokens its requests carried."""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import requests

from anti_grazer.client import ClientCredentialsAuth

PROFILE_PATH = "/v1/profiles/facebook/grazer.42"
REPORT = b'{"platform":"facebook","profile_id":"grazer.42","reporter_id":"user-1"}'
JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Outcome:
    """A call's final status and the tokens its API requests carried, in order (two when
    it was resent with a fresh token)."""

    status: int
    tokens: list[str]

    @property
    def token(self) -> str:
        return self.tokens[-1]


def _bearer(headers: Mapping[str, str | bytes]) -> str:
    authorization = headers["Authorization"]
    assert isinstance(authorization, str)
    assert authorization.startswith("Bearer ")
    return authorization.removeprefix("Bearer ")


def _httpx_outcome(response: httpx.Response, token_url: str) -> Outcome:
    # httpx keeps every response of an auth flow in history, the token endpoint's too.
    sent = [r for r in [*response.history, response] if str(r.request.url) != token_url]
    return Outcome(response.status_code, [_bearer(r.request.headers) for r in sent])


def _requests_outcome(response: requests.Response) -> Outcome:
    sent = [*response.history, response]
    return Outcome(response.status_code, [_bearer(r.request.headers) for r in sent])


def _chunks() -> Iterator[bytes]:
    yield REPORT


async def _async_chunks() -> AsyncIterator[bytes]:
    yield REPORT


class Caller(ABC):
    """GET the profile or POST a report through ``auth`` (``streamed``: the report's
    body as a generator, which cannot be sent twice)."""

    name: str

    def __init__(self, base_url: str, token_url: str) -> None:
        self.base_url = base_url
        self.token_url = token_url

    @abstractmethod
    def get(self, auth: ClientCredentialsAuth, path: str = PROFILE_PATH) -> Outcome:
        """See the class."""

    @abstractmethod
    def post_report(self, auth: ClientCredentialsAuth, streamed: bool = False) -> Outcome:
        """See the class."""

    @abstractmethod
    def get_many(self, auth: ClientCredentialsAuth, count: int) -> list[Outcome]:
        """See the class."""


class HttpxCaller(Caller):
    name = "httpx"

    def get(self, auth: ClientCredentialsAuth, path: str = PROFILE_PATH) -> Outcome:
        with httpx.Client(base_url=self.base_url, auth=auth) as api:
            return _httpx_outcome(api.get(path), self.token_url)

    def post_report(self, auth: ClientCredentialsAuth, streamed: bool = False) -> Outcome:
        body = _chunks() if streamed else REPORT
        with httpx.Client(base_url=self.base_url, auth=auth) as api:
            response = api.post("/v1/reports", content=body, headers=JSON_HEADERS)
            return _httpx_outcome(response, self.token_url)

    def get_many(self, auth: ClientCredentialsAuth, count: int) -> list[Outcome]:
        """``count`` threads sharing one client, released together."""
        start = threading.Barrier(count)
        with httpx.Client(base_url=self.base_url, auth=auth) as api:

            def call(_: int) -> Outcome:
                start.wait()
                return _httpx_outcome(api.get(PROFILE_PATH), self.token_url)

            with ThreadPoolExecutor(count) as pool:
                return list(pool.map(call, range(count)))


class AsyncHttpxCaller(Caller):
    """Each call runs on an event loop of its own (``asyncio.run``), as separate
    programs, or successive ``asyncio.run`` calls of one program, would."""

    name = "httpx-async"

    def get(self, auth: ClientCredentialsAuth, path: str = PROFILE_PATH) -> Outcome:
        async def call() -> Outcome:
            async with httpx.AsyncClient(base_url=self.base_url, auth=auth) as api:
                return _httpx_outcome(await api.get(path), self.token_url)

        return asyncio.run(call())

    def post_report(self, auth: ClientCredentialsAuth, streamed: bool = False) -> Outcome:
        async def call() -> Outcome:
            body = _async_chunks() if streamed else REPORT
            async with httpx.AsyncClient(base_url=self.base_url, auth=auth) as api:
                response = await api.post("/v1/reports", content=body, headers=JSON_HEADERS)
                return _httpx_outcome(response, self.token_url)

        return asyncio.run(call())

    def get_many(self, auth: ClientCredentialsAuth, count: int) -> list[Outcome]:
        """``count`` tasks of one event loop sharing one client."""

        async def calls() -> list[Outcome]:
            async with httpx.AsyncClient(base_url=self.base_url, auth=auth) as api:
                responses = await asyncio.gather(*(api.get(PROFILE_PATH) for _ in range(count)))
                return [_httpx_outcome(r, self.token_url) for r in responses]

        return asyncio.run(calls())


class RequestsCaller(Caller):
    name = "requests"

    def get(self, auth: ClientCredentialsAuth, path: str = PROFILE_PATH) -> Outcome:
        with requests.Session() as session:
            session.auth = auth
            return _requests_outcome(session.get(self.base_url + path, timeout=10))

    def post_report(self, auth: ClientCredentialsAuth, streamed: bool = False) -> Outcome:
        body = _chunks() if streamed else REPORT
        with requests.Session() as session:
            session.auth = auth
            response = session.post(
                f"{self.base_url}/v1/reports", data=body, headers=JSON_HEADERS, timeout=10
            )
            return _requests_outcome(response)

    def get_many(self, auth: ClientCredentialsAuth, count: int) -> list[Outcome]:
        """``count`` threads, each with its own session (a session is not meant to be
        shared by threads), all with the one ``auth``, released together."""
        start = threading.Barrier(count)

        def call(_: int) -> Outcome:
            start.wait()
            return self.get(auth)

        with ThreadPoolExecutor(count) as pool:
            return list(pool.map(call, range(count)))


CALLERS: list[type[Caller]] = [HttpxCaller, AsyncHttpxCaller, RequestsCaller]
