"""Workload identity federation: a client authenticates with the token its platform gave
its workload (a Kubernetes service-account token, a GitHub Actions OIDC token) sent as
the ``client_assertion`` of RFC 7521 §4.2 (type ``jwt-bearer``, RFC 7523 §2.2), with the
client's ``client_id``: no secret is stored by the workload, nor copied to it.

``protocol.assertion_methods`` sends here an assertion whose ``iss`` is not the client
itself.  RFC 7523 §3 item 2 has the ``sub`` of a client's assertion be its client id:
here ``sub`` names the workload (``system:serviceaccount:NS:NAME``,
``repo:org/app:ref:refs/heads/main``), the binding's rules decide which workloads a
client stands for, and the client id travels in the form (RFC 7521 §4.2 ``client_id``),
as the clouds' and Keycloak's federated credentials do.

The token is accepted when the client is enabled and bound to the token's issuer
(``FederationBinding``, looked up by ``iss`` exactly: RFC 7523 §3 item 1), the
issuer is trusted (``TrustedIssuer``), the signature verifies with the issuer's key its
``kid`` names (``protocol.jwt_assertion``, as every client assertion's), ``aud`` names
the issuer's configured audience (item 3), ``exp``, ``nbf`` and ``iat`` hold (items
4-6), ``iat`` is present and at most ``max_age`` old (item 6: "MAY reject JWTs with an
iat claim value that is unreasonably far in the past"; a Kubernetes token is valid for
an hour and replayable within it), every claim rule of the binding matches
(``protocol.claim_rules``), and its ``jti``, when it has one, was never used before
(item 7, remembered until the token expires in the store every instance shares).

Every refusal is a ``RefusedAssertionError`` (the one ``invalid_client``, RFC 7521
§4.2.1, RFC 6749 §5.2), its precise reason in the log, never the token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from anti_grazer.protocol.audience import audience_contains
from anti_grazer.protocol.claim_rules import unmatched_rule
from anti_grazer.protocol.client_auth import AuthenticatedClient
from anti_grazer.protocol.errors import TemporarilyUnavailableError
from anti_grazer.protocol.jwt_assertion import (
    LEEWAY,
    PresentedAssertion,
    RefusedAssertionError,
    checked_expiry,
    claimed_date,
    replay_key,
    verify_signature,
)
from anti_grazer.protocol.models import TrustedIssuer
from anti_grazer.protocol.ports import AssertionReplayStore, ClientStore, IssuerKeys, TrustStore

# What the access log names in place of a secret id: this and the token's issuer.
FEDERATED = "federated"
_SHOWN_LENGTH = 200


def shown(value: object) -> str:
    """A claim or header value as a log line may show it: a string cut to a few hundred
    characters, anything else by its type (``(none)`` when absent)."""
    if isinstance(value, str):
        return repr(value[:_SHOWN_LENGTH])
    return "(none)" if value is None else type(value).__name__


@dataclass(frozen=True, slots=True)
class TokenAgePolicy:
    """How old a token may be (from its ``iat``), and the clock skew allowed each way."""

    max_age: timedelta = timedelta(hours=1)
    leeway: timedelta = LEEWAY


def checked_claims(
    claims: Mapping[str, object], trusted: TrustedIssuer, now: datetime, policy: TokenAgePolicy
) -> datetime:
    """RFC 7523 §3 items 3-6 on a verified token's claims (module docstring); its expiry."""
    if not audience_contains(claims.get("aud"), trusted.audience):
        raise RefusedAssertionError(f"aud does not name the audience {trusted.audience!r}")
    expires_at = checked_expiry(claims, now, policy.leeway)
    issued_at = claimed_date(claims, "iat")
    if issued_at is None:
        raise RefusedAssertionError("iat is missing: the token's age is unknown")
    if now - issued_at > policy.max_age:
        raise RefusedAssertionError(
            f"the token was issued at {issued_at.isoformat()}, more than "
            f"{int(policy.max_age.total_seconds())} s ago"
        )
    return expires_at


class WorkloadFederation:
    """Authenticates clients by their workloads' platform tokens (module docstring), over
    the client and trust stores, the issuers' keys and the replay store."""

    def __init__(
        self,
        clients: ClientStore,
        trust: TrustStore,
        keys: IssuerKeys,
        replays: AssertionReplayStore,
        policy: TokenAgePolicy | None = None,
    ) -> None:
        self.clients = clients
        self.trust = trust
        self.keys = keys
        self.replays = replays
        self.policy = policy or TokenAgePolicy()

    async def authenticate(
        self, client_id: str, issuer: str, assertion: PresentedAssertion, now: datetime
    ) -> AuthenticatedClient:
        """The client ``client_id`` if ``assertion``, a token that names ``issuer`` in its
        ``iss``, authenticates it at ``now``; else ``RefusedAssertionError``."""
        try:
            return await self._authenticate(client_id, issuer, assertion, now)
        except RefusedAssertionError as refused:
            refused.client_id, refused.issuer = client_id, issuer
            raise

    async def _authenticate(
        self, client_id: str, issuer: str, assertion: PresentedAssertion, now: datetime
    ) -> AuthenticatedClient:
        client = await self.clients.get_client(client_id)
        if client is None or not client.enabled:
            raise RefusedAssertionError("unknown or disabled client")
        found = await self.trust.find_binding(client_id, issuer)
        if found is None:
            raise RefusedAssertionError("the client is not bound to the token's issuer")
        trusted, binding = found
        try:
            key = await self.keys.key_for(trusted, assertion.kid)
        except TemporarilyUnavailableError:
            raise RefusedAssertionError("the issuer's keys cannot be fetched now") from None
        if key is None:
            raise RefusedAssertionError(f"the issuer has no signing key {shown(assertion.kid)}")
        verify_signature(assertion, key)
        claims = assertion.claims
        expires_at = checked_claims(claims, trusted, now, self.policy)
        unmatched = unmatched_rule(binding.claims, claims)
        if unmatched is not None:
            value, pattern = shown(claims.get(unmatched)), dict(binding.claims)[unmatched]
            raise RefusedAssertionError(
                f"claim {unmatched!r} {value} does not match the binding's {pattern!r}"
            )
        jti = claims.get("jti")
        if jti is not None:
            if not isinstance(jti, str) or not jti:
                raise RefusedAssertionError("jti is not a non-empty string")
            remembered_until = expires_at + self.policy.leeway
            key_name = replay_key(f"{FEDERATED}:{issuer}", jti)
            if not await self.replays.remember(key_name, remembered_until):
                raise RefusedAssertionError("the token's jti was used before (a replay)")
        return AuthenticatedClient(client, f"{FEDERATED}:{trusted.issuer}")
