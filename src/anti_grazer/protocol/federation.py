"""Workload identity federation: a client authenticates with the token its platform gave
its workload (a Kubernetes service-account token, a GitHub Actions OIDC token) sent as
the ``client_assertion`` of RFC 7521 §4.2 (type ``jwt-bearer``, RFC 7523 §2.2), with the
client's ``client_id``: no secret is stored by the workload, nor copied to it.

The token is accepted when the client is enabled and bound to the token's issuer
(``FederationBinding``), the issuer is trusted (``TrustedIssuer``), the token passes
``protocol.federated_tokens`` (signature by the issuer's keys, ``iss``, ``aud``, ``exp``,
``nbf``, ``iat`` and its age), every claim rule of the binding matches
(``protocol.claim_rules``), and its ``jti``, when it has one, was never used before
(RFC 7523 §3 item 7, remembered until the token expires in a store every instance
shares).

RFC 7523 §3 item 2 has the ``sub`` of a client's assertion be its client id: here
``sub`` names the workload (``system:serviceaccount:NS:NAME``,
``repo:org/app:ref:refs/heads/main``), the binding's rules decide which workloads a
client stands for, and the client id travels in the form (RFC 7521 §4.2 ``client_id``),
as the clouds' and Keycloak's federated credentials do.

Every refusal is the one ``invalid_client`` of every failed client authentication
(RFC 7521 §4.2.1, RFC 6749 §5.2), and a warning in the log with its precise reason,
never the token.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from anti_grazer.protocol.claim_rules import unmatched_rule
from anti_grazer.protocol.errors import InvalidClientError
from anti_grazer.protocol.federated_tokens import (
    RefusedTokenError,
    TokenAgePolicy,
    check_claims,
    read_token,
    shown,
    verify_signature,
)
from anti_grazer.protocol.models import Client, TrustedIssuer
from anti_grazer.protocol.ports import (
    AssertionReplayStore,
    ClientStore,
    IssuerKeys,
    IssuerKeysUnavailableError,
    TrustStore,
)

logger = logging.getLogger("anti_grazer.federation")

REFUSED_EVENT = "federated client authentication refused"
# The replay store is shared with other assertion methods: federated tokens' keys are
# prefixed, and hashed (a jti is any string, an issuer any URL).
_REPLAY_PREFIX = "federated:"
_LOGGED_LENGTH = 300


def replay_key(issuer: str, jti: str) -> str:
    """The key a token's ``jti`` is remembered under: unique per issuer (RFC 7519
    §4.1.7: a jti is unique among one issuer's tokens)."""
    digest = hashlib.sha256(f"{issuer}\x00{jti}".encode()).hexdigest()
    return _REPLAY_PREFIX + digest


def _cut(text: str | None) -> str | None:
    return None if text is None else text[:_LOGGED_LENGTH]


@dataclass(frozen=True, slots=True)
class FederatedCaller:
    """A client authenticated by a token of ``issuer``."""

    client: Client
    issuer: TrustedIssuer


class _RefusedError(Exception):
    """A refusal on the way, with the issuer it concerns when known (for the log)."""

    def __init__(self, reason: str, issuer: str | None = None) -> None:
        self.reason = reason
        self.issuer = issuer
        super().__init__(reason)


class WorkloadFederation:
    """Authenticates clients by their workloads' platform tokens (module docstring), over
    the client and trust stores, the issuers' keys and the replay store."""

    def __init__(
        self,
        clients: ClientStore,
        trust: TrustStore,
        keys: IssuerKeys,
        replay: AssertionReplayStore,
        policy: TokenAgePolicy | None = None,
    ) -> None:
        self.clients = clients
        self.trust = trust
        self.keys = keys
        self.replay = replay
        self.policy = policy or TokenAgePolicy()

    async def authenticate(
        self, client_id: str | None, assertion: str, now: datetime
    ) -> FederatedCaller:
        """The client ``client_id`` if ``assertion`` is a token that authenticates it
        at ``now``, else ``invalid_client`` (the reason logged)."""
        try:
            return await self._authenticate(client_id, assertion, now)
        except _RefusedError as refused:
            # The client id and issuer are the caller's, unverified: cut to a readable length.
            logger.warning(
                REFUSED_EVENT,
                extra={
                    "client_id": _cut(client_id),
                    "issuer": _cut(refused.issuer),
                    "reason": refused.reason,
                },
            )
            raise InvalidClientError() from None

    async def _authenticate(
        self, client_id: str | None, assertion: str, now: datetime
    ) -> FederatedCaller:
        if client_id is None:
            raise _RefusedError("the form names no client_id (RFC 7521 §4.2)")
        try:
            token = read_token(assertion)
        except RefusedTokenError as refused:
            raise _RefusedError(str(refused)) from None
        issuer = token.claims.get("iss")
        if not isinstance(issuer, str):
            raise _RefusedError(f"iss {shown(issuer)} is not a string")
        client = await self.clients.get_client(client_id)
        if client is None or not client.enabled:
            raise _RefusedError("no enabled client has this id", issuer)
        found = await self.trust.find_binding(client_id, issuer)
        if found is None:
            raise _RefusedError("the client is not bound to the token's issuer", issuer)
        trusted, binding = found
        try:
            key = await self.keys.key_for(trusted, token.kid)
        except IssuerKeysUnavailableError:
            raise _RefusedError("the issuer's keys cannot be fetched now", issuer) from None
        if key is None:
            raise _RefusedError(f"the issuer has no signing key {shown(token.kid)}", issuer)
        try:
            verify_signature(token, key)
            expires_at = check_claims(token.claims, trusted, now, self.policy)
        except RefusedTokenError as refused:
            raise _RefusedError(str(refused), issuer) from None
        unmatched = unmatched_rule(binding.claims, token.claims)
        if unmatched is not None:
            value, pattern = shown(token.claims.get(unmatched)), dict(binding.claims)[unmatched]
            raise _RefusedError(
                f"claim {unmatched!r} {value} does not match the binding's {pattern!r}", issuer
            )
        jti = token.claims.get("jti")
        if jti is not None:
            if not isinstance(jti, str) or not jti:
                raise _RefusedError("jti is not a non-empty string", issuer)
            if not await self.replay.remember(replay_key(issuer, jti), expires_at):
                raise _RefusedError("the token's jti was used before (a replay)", issuer)
        return FederatedCaller(client, trusted)
