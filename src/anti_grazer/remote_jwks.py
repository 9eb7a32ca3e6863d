"""JWK Sets (RFC 7517 §5) fetched from another server and held in memory, with one set
of refresh rules: fetched on first use, again when a ``kid`` is not held (a key
rotation) but at most once per refresh interval, and when older than a maximum age.

Three users: the guard's ``RemoteKeySet`` (an authorization server's ``jwks_uri``, from
its metadata), and two adapters ``web/app.py`` composes: ``ClientKeySets``, of the
``protocol.ports.ClientKeySets`` port (the ``jwks_uri`` a client registered for
``private_key_jwt``), and ``IssuerKeySets``, of the ``protocol.ports.IssuerKeys`` port
(the keys of an issuer trusted for workload identity federation: its configured
``jwks_uri``, else its OpenID Connect discovery document's).  The exchanges are
``remote_json.JsonOverHttp``'s: bounded in time and size."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING

from anti_grazer.protocol.errors import TemporarilyUnavailableError
from anti_grazer.protocol.jwk_set import signing_keys
from anti_grazer.protocol.models import TrustedIssuer
from anti_grazer.remote_json import JsonOverHttp, SharedLoad, is_allowed_url, unavailable

if TYPE_CHECKING:
    from joserfc.jwk import Key

logger = logging.getLogger("anti_grazer.remote")

DEFAULT_REFRESH_INTERVAL_SECONDS = 30.0
# The server's own JWKS_MAX_AGE_SECONDS default: a withdrawn key is seen as soon as
# the server lets caches see it.
DEFAULT_MAX_AGE_SECONDS = 300.0
# How many key sets (of clients, of issuers) one process holds; past it they are all
# dropped at once (each is fetched again on its next use).
MAX_CLIENT_KEY_SETS = 10_000
# OpenID Connect Discovery 1.0 §4: where an OpenID provider's configuration is.
OPENID_CONFIGURATION = "/.well-known/openid-configuration"


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


def openid_configuration_url(issuer: str) -> str:
    """OpenID Connect Discovery 1.0 §4: the issuer, any terminating ``/`` removed, then
    ``/.well-known/openid-configuration``."""
    return issuer.rstrip("/") + OPENID_CONFIGURATION


def _allowed(remote: JsonOverHttp, url: str, what: str) -> str:
    """``url`` if it may be asked (``is_allowed_url``), else the 503 naming ``what``."""
    if not is_allowed_url(url, allow_insecure_http=remote.allow_insecure_http):
        raise unavailable(f"{what} not allowed", url)
    return url


async def issuer_jwks_uri(remote: JsonOverHttp, trusted: TrustedIssuer) -> str:
    """Where ``trusted`` publishes its keys: its configured ``jwks_uri``, else the
    ``jwks_uri`` of its discovery document, whose ``issuer`` must be the issuer exactly
    (Discovery 1.0 §4.3: "MUST be identical ... If these values are not identical, the
    data contained in the response MUST NOT be used")."""
    if trusted.jwks_uri is not None:
        return _allowed(remote, trusted.jwks_uri, "jwks_uri")
    url = _allowed(remote, openid_configuration_url(trusted.issuer), "issuer")
    document = await remote.get_json(url)
    if document.get("issuer") != trusted.issuer:
        raise unavailable("discovery document names another issuer", url)
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise unavailable("discovery document has no jwks_uri", url)
    return _allowed(remote, jwks_uri, "jwks_uri")


async def fetch_issuer_keys(remote: JsonOverHttp, trusted: TrustedIssuer) -> list[Key]:
    """The signature keys of ``trusted``, fetched now (discovery first, unless its
    ``jwks_uri`` is configured): what ``IssuerKeySets`` loads, and what ``anti-grazer
    trust add`` checks."""
    return await fetch_key_set(remote, await issuer_jwks_uri(remote, trusted))


class KeySets:
    """Many JWK Sets fetched through ``remote``, one ``KeySetCache`` each, by name."""

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
        self._sets: dict[Hashable, KeySetCache] = {}

    def _key_set(self, name: Hashable, load: Callable[[], Awaitable[list[Key]]]) -> KeySetCache:
        """The set called ``name``, made (to be fetched by ``load``) on first use."""
        key_set = self._sets.get(name)
        if key_set is None:
            if len(self._sets) >= MAX_CLIENT_KEY_SETS:
                self._sets.clear()
            key_set = self._sets[name] = KeySetCache(
                load,
                refresh_interval_seconds=self.refresh_interval_seconds,
                max_age_seconds=self.max_age_seconds,
                monotonic=self._monotonic,
            )
        return key_set

    async def aclose(self) -> None:
        """Close the connections (the HTTP client, if ``remote`` owns it)."""
        await self.remote.aclose()


class ClientKeySets(KeySets):
    """The keys clients publish at their ``jwks_uri`` (RFC 7591 §2), one ``KeySetCache``
    per URL, fetched through ``remote``: the ``protocol.ports.ClientKeySets`` adapter.
    A URL that is not ``https`` (``http`` only to a loopback host) is never asked."""

    async def key_for(self, jwks_uri: str, kid: str | None) -> Key | None:
        if jwks_uri not in self._sets:
            _allowed(self.remote, jwks_uri, "jwks_uri")
        key_set = self._key_set(jwks_uri, lambda: fetch_key_set(self.remote, jwks_uri))
        return await key_set.find(kid)


class IssuerKeySets(KeySets):
    """The keys of the issuers trusted for workload identity federation, one
    ``KeySetCache`` per issuer and configured ``jwks_uri`` (an issuer trusted again with
    another URL gets a fresh set): the ``protocol.ports.IssuerKeys`` adapter.  Each fetch
    asks the discovery document first, unless the ``jwks_uri`` is configured."""

    async def key_for(self, issuer: TrustedIssuer, kid: str | None) -> Key | None:
        name = (issuer.issuer, issuer.jwks_uri)
        key_set = self._key_set(name, lambda: fetch_issuer_keys(self.remote, issuer))
        return await key_set.find(kid)
