"""The ``IssuerKeys`` port over HTTP: each trusted issuer's JWK Set (RFC 7517 §5), held as
the guard holds an authorization server's (``guard.jwks.RemoteKeySet``: fetched on first
use, fetched again once on an unknown ``kid`` but at most once per refresh interval, and
when older than its maximum age), through ``guard.remote.AuthorizationServer`` (every
exchange bounded in time and size, no redirect followed, https only but to a loopback
host).  The set's URL is the issuer's configured ``jwks_uri``, else the ``jwks_uri`` of
its OpenID Connect discovery document (Discovery 1.0 §4), whose ``issuer`` must be the
issuer exactly (§4.3).

httpx and joserfc are imported on the first federated request, not with this module: a
server whose clients all use secrets never loads them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from anti_grazer.protocol.errors import InvalidTokenError, TemporarilyUnavailableError
from anti_grazer.protocol.models import TrustedIssuer
from anti_grazer.protocol.ports import IssuerKeysUnavailableError

if TYPE_CHECKING:
    from joserfc.jwk import Key

    from anti_grazer.guard.jwks import RemoteKeySet

OPENID_CONFIGURATION = "/.well-known/openid-configuration"
# The guard's defaults (guard.jwks): a rotation is seen within the refresh interval, a
# key withdrawn from the set within the maximum age.
REFRESH_INTERVAL_SECONDS = 30.0
MAX_AGE_SECONDS = 300.0


def openid_configuration_url(issuer: str) -> str:
    """OpenID Connect Discovery 1.0 §4: the issuer, any terminating ``/`` removed, then
    ``/.well-known/openid-configuration``."""
    return issuer.rstrip("/") + OPENID_CONFIGURATION


class RemoteIssuerKeys:
    """The keys of every trusted issuer asked about, one ``RemoteKeySet`` each (keyed by
    issuer and configured ``jwks_uri``: an issuer trusted again with another URL gets a
    fresh set).  Close it (``aclose``) when the application stops."""

    def __init__(
        self,
        *,
        timeout_seconds: float,
        refresh_interval_seconds: float = REFRESH_INTERVAL_SECONDS,
        max_age_seconds: float = MAX_AGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.refresh_interval_seconds = refresh_interval_seconds
        self.max_age_seconds = max_age_seconds
        self._monotonic = monotonic
        self._sets: dict[tuple[str, str | None], RemoteKeySet] = {}

    def key_set(self, trusted: TrustedIssuer) -> RemoteKeySet:
        """The set of ``trusted``, made on first use."""
        found = self._sets.get((trusted.issuer, trusted.jwks_uri))
        if found is None:
            from anti_grazer.guard.jwks import RemoteKeySet  # noqa: PLC0415 - module docstring
            from anti_grazer.guard.remote import (  # noqa: PLC0415
                AuthorizationServer,
                is_allowed_url,
                unavailable,
            )

            if trusted.jwks_uri is not None and not is_allowed_url(trusted.jwks_uri):
                # Checked by 'trust add'; a row written otherwise is not fetched either.
                raise unavailable("jwks_uri is not https (nor http to loopback)", "jwks_uri")
            remote = AuthorizationServer(
                timeout_seconds=self.timeout_seconds, discovery_url=openid_configuration_url
            )
            found = RemoteKeySet(
                remote,
                trusted.issuer,
                refresh_interval_seconds=self.refresh_interval_seconds,
                max_age_seconds=self.max_age_seconds,
                monotonic=self._monotonic,
                jwks_uri=trusted.jwks_uri,
            )
            self._sets[(trusted.issuer, trusted.jwks_uri)] = found
        return found

    async def key_for(self, issuer: TrustedIssuer, kid: str | None) -> Key | None:
        try:
            key_set = self.key_set(issuer)
            return await key_set.key_for(kid)
        except InvalidTokenError:  # the set holds no such key, even fetched again
            return None
        except TemporarilyUnavailableError:  # logged by guard.remote, with its cause
            raise IssuerKeysUnavailableError(issuer.issuer) from None

    async def aclose(self) -> None:
        """Close every issuer's connections."""
        for key_set in self._sets.values():
            await key_set.remote.aclose()
        self._sets.clear()


async def fetch_issuer_keys(trusted: TrustedIssuer, timeout_seconds: float) -> list[Key]:
    """The issuer's signing keys, fetched now as a federated request would (for
    ``anti-grazer trust add``'s check); ``IssuerKeysUnavailableError`` when they cannot
    be (the cause logged)."""
    keys = RemoteIssuerKeys(timeout_seconds=timeout_seconds)
    try:
        try:
            key_set = keys.key_set(trusted)  # the same set a request would use
            await key_set.key_for(None)
        except InvalidTokenError:
            pass  # several keys, and no kid asked for: they are held all the same
        except TemporarilyUnavailableError:
            raise IssuerKeysUnavailableError(trusted.issuer) from None
        return list(key_set.held_keys)
    finally:
        await keys.aclose()
