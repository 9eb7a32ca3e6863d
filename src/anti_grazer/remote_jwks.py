"""JWK Sets (RFC 7517 §5) fetched from another server and held in memory, with one set
of refresh rules: fetched on first use, again when a ``kid`` is not held (a key
rotation) but at most once per refresh interval, and when older than a maximum age.

Two users: the guard's ``RemoteKeySet`` (an authorization server's ``jwks_uri``, from
its metadata) and the server's ``ClientKeySets``, the adapter of the
``protocol.ports.ClientKeySets`` port (the ``jwks_uri`` a client registered for
``private_key_jwt``), which ``web/app.py`` composes.  The exchanges are
``remote_json.JsonOverHttp``'s: bounded in time and size."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from anti_grazer.protocol.errors import TemporarilyUnavailableError
from anti_grazer.protocol.jwk_set import signing_keys
from anti_grazer.remote_json import JsonOverHttp, SharedLoad, is_allowed_url, unavailable

if TYPE_CHECKING:
    from joserfc.jwk import Key

logger = logging.getLogger("anti_grazer.remote")

DEFAULT_REFRESH_INTERVAL_SECONDS = 30.0
# The server's own JWKS_MAX_AGE_SECONDS default: a withdrawn key is seen as soon as
# the server lets caches see it.
DEFAULT_MAX_AGE_SECONDS = 300.0
# How many clients' key sets one process holds; past it they are all dropped at once
# (each is fetched again on its next use).
MAX_CLIENT_KEY_SETS = 10_000


class KeySetCache:
    """One JWK Set, fetched by ``load``.

    A ``kid`` that is not held makes one fetch (shared by every request waiting on it);
    the next such fetch comes no sooner than ``refresh_interval_seconds`` later, so a
    flood of requests naming random keys costs the other server one request per
    interval.  Keys older than ``max_age_seconds`` are fetched again (a key withdrawn
    from the set stops verifying within that time); if that fails, the keys held are kept.
    After a failed fetch the next one waits ``retry_after`` seconds (at most the refresh
    interval): meanwhile a key the held ones do not include is refused at once, not after
    another timeout."""

    def __init__(
        self,
        load: Callable[[], Awaitable[list[Key]]],
        *,
        refresh_interval_seconds: float = DEFAULT_REFRESH_INTERVAL_SECONDS,
        max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load_keys = load
        self.refresh_interval_seconds = refresh_interval_seconds
        self.max_age_seconds = max_age_seconds
        self._monotonic = monotonic
        self._keys: list[Key] | None = None
        self._fetched_at = 0.0
        self._next_fetch_at = float("-inf")
        self._failed = False
        self._fetch: SharedLoad[list[Key]] = SharedLoad()

    async def find(self, kid: str | None) -> Key | None:
        """The key named ``kid`` (without a ``kid``, the only key of the set), or None
        if the set has none such; ``TemporarilyUnavailableError`` if that cannot be
        known now (the set could not be fetched)."""
        now = self._monotonic()
        stale = self._keys is None or now - self._fetched_at >= self.max_age_seconds
        if stale and now >= self._next_fetch_at:
            await self._refresh(keep_on_failure=self._keys is not None)
        key = self._held(kid)
        if key is None and self._monotonic() >= self._next_fetch_at:
            await self._refresh(keep_on_failure=False)  # a rotation: one fetch, then no more
            key = self._held(kid)
        if key is None and self._failed:
            raise TemporarilyUnavailableError()
        return key

    def _held(self, kid: str | None) -> Key | None:
        keys = self._keys or []
        if kid is None:
            return keys[0] if len(keys) == 1 else None
        return next((key for key in keys if key.kid == kid), None)

    async def _refresh(self, *, keep_on_failure: bool) -> None:
        try:
            self._keys = await self._fetch.run(self._timed_load)
        except TemporarilyUnavailableError:
            if not keep_on_failure:
                raise
            logger.warning("keeping the keys held: their refresh failed")

    async def _timed_load(self) -> list[Key]:
        """One fetch; its time and outcome set when the next may start."""
        try:
            keys = await self._load_keys()
        except TemporarilyUnavailableError as error:
            self._failed = True
            backoff = min(self.refresh_interval_seconds, error.retry_after_seconds)
            self._next_fetch_at = self._monotonic() + backoff
            raise
        self._failed = False
        self._fetched_at = self._monotonic()
        self._next_fetch_at = self._fetched_at + self.refresh_interval_seconds
        return keys


async def fetch_key_set(remote: JsonOverHttp, url: str) -> list[Key]:
    """The signature keys of the JWK Set at ``url`` (``TemporarilyUnavailableError`` when
    it cannot be had, or is not a JWK Set)."""
    keys = signing_keys(await remote.get_json(url))
    if keys is None:
        raise unavailable("not a JWK Set", url)
    return keys


class ClientKeySets:
    """The keys clients publish at their ``jwks_uri`` (RFC 7591 §2), one ``KeySetCache``
    per URL, fetched through ``remote``: the ``protocol.ports.ClientKeySets`` adapter.
    A URL that is not ``https`` (``http`` only to a loopback host) is never asked."""

    def __init__(
        self,
        remote: JsonOverHttp,
        *,
        refresh_interval_seconds: float = DEFAULT_REFRESH_INTERVAL_SECONDS,
        max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.remote = remote
        self.refresh_interval_seconds = refresh_interval_seconds
        self.max_age_seconds = max_age_seconds
        self._monotonic = monotonic
        self._sets: dict[str, KeySetCache] = {}

    async def key_for(self, jwks_uri: str, kid: str | None) -> Key | None:
        key_set = self._sets.get(jwks_uri)
        if key_set is None:
            if not is_allowed_url(jwks_uri, allow_insecure_http=self.remote.allow_insecure_http):
                raise unavailable("jwks_uri not allowed", jwks_uri)
            if len(self._sets) >= MAX_CLIENT_KEY_SETS:
                self._sets.clear()
            key_set = self._sets[jwks_uri] = KeySetCache(
                lambda: fetch_key_set(self.remote, jwks_uri),
                refresh_interval_seconds=self.refresh_interval_seconds,
                max_age_seconds=self.max_age_seconds,
                monotonic=self._monotonic,
            )
        return await key_set.find(kid)

    async def aclose(self) -> None:
        """Close the connections (the HTTP client, if ``remote`` owns it)."""
        await self.remote.aclose()
