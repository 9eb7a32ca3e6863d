"""Administration of workload identity federation (``protocol.federation``): trusting an
external issuer for an audience, binding a client to it with claim rules, and undoing
both.  The checks an operator's input gets before anything is stored are here; the
commands (``cli/trust.py``, ``cli/bindings.py``) only print."""

from __future__ import annotations

from collections.abc import Sequence

from anti_grazer.issuer import check_issuer
from anti_grazer.protocol.claim_rules import ClaimRuleError, claim_rules
from anti_grazer.protocol.models import FederationBinding, TrustedIssuer
from anti_grazer.protocol.ports import (
    Clock,
    IssuerInUseError,
    MissingBindingTargetError,
    TrustStore,
)

# Within the column's 1024 (store/sql/tables.py) and the audit events' subject (600):
# a real issuer identifier is a short URL.
MAX_ISSUER_LENGTH = 512
MAX_AUDIENCE_LENGTH = 1024


class TrustConfigError(ValueError):
    """The operator's request cannot be done as given; the message says why."""


def checked_issuer(issuer: str) -> str:
    """An issuer identifier as tokens name it in ``iss`` (compared exactly, RFC 7519
    §4.1.1): an https URL with no query or fragment, http only for a loopback host
    (``anti_grazer.issuer.check_issuer``)."""
    if len(issuer) > MAX_ISSUER_LENGTH:
        raise TrustConfigError(f"the issuer is longer than {MAX_ISSUER_LENGTH} characters")
    try:
        return check_issuer(issuer)
    except ValueError as error:
        raise TrustConfigError(str(error)) from None


def checked_audience(audience: str) -> str:
    """The ``aud`` tokens must name (RFC 7519 §4.1.3: a StringOrURI): printable, no
    surrounding spaces, not empty."""
    if not audience or audience != audience.strip() or not audience.isprintable():
        raise TrustConfigError("the audience must be printable text without surrounding spaces")
    if len(audience) > MAX_AUDIENCE_LENGTH:
        raise TrustConfigError(f"the audience is longer than {MAX_AUDIENCE_LENGTH} characters")
    return audience


def new_trusted_issuer(
    clock: Clock, issuer: str, audience: str, jwks_uri: str | None = None
) -> TrustedIssuer:
    """The record ``trust_issuer`` stores, its fields checked (``jwks_uri`` is checked
    by the caller, which fetches it)."""
    return TrustedIssuer(checked_issuer(issuer), checked_audience(audience), clock.now(), jwks_uri)


async def trust_issuer(trust: TrustStore, trusted: TrustedIssuer) -> None:
    """Trust ``trusted`` (``new_trusted_issuer``); refused if the issuer is trusted
    already (remove it first: its bindings then go or stay, as the operator says)."""
    if not await trust.add_issuer(trusted):
        raise TrustConfigError(f"{trusted.issuer} is trusted already")


async def distrust_issuer(trust: TrustStore, issuer: str, *, with_bindings: bool) -> None:
    """Stop trusting ``issuer``.  Refused while clients are bound to it, unless
    ``with_bindings``: their workloads would all stop authenticating at once."""
    try:
        removed = await trust.remove_issuer(issuer, with_bindings=with_bindings)
    except IssuerInUseError as error:
        bound = ", ".join(error.client_ids) or "clients"
        raise TrustConfigError(
            f"{bound} {'is' if len(error.client_ids) == 1 else 'are'} bound to {issuer}: "
            "unbind them first, or remove the issuer with its bindings (--cascade)"
        ) from None
    if not removed:
        raise TrustConfigError(f"{issuer} is not a trusted issuer")


async def bind_client(
    trust: TrustStore,
    clock: Clock,
    client_id: str,
    issuer: str,
    rules: Sequence[str],
    *,
    replace: bool = False,
) -> FederationBinding:
    """Bind the client to the trusted ``issuer``: a token of it authenticates the client
    when every rule (``NAME=PATTERN``, ``protocol.claim_rules``) matches.  A client is
    bound to an issuer once: binding it again is refused unless ``replace``."""
    try:
        binding = FederationBinding(client_id, issuer, claim_rules(rules), clock.now())
    except ClaimRuleError as error:
        raise TrustConfigError(str(error)) from None
    try:
        stored = await trust.add_binding(binding, replace=replace)
    except MissingBindingTargetError as error:
        what = f"no client with id {client_id!r}" if error.target == "client" else None
        raise TrustConfigError(
            what or f"{issuer} is not a trusted issuer ('anti-grazer trust add' first)"
        ) from None
    if not stored:
        raise TrustConfigError(
            f"{client_id} is bound to {issuer} already (--replace changes its rules)"
        )
    return binding


async def unbind_client(trust: TrustStore, client_id: str, issuer: str) -> None:
    """Unbind the client from ``issuer``: its tokens no longer authenticate it."""
    if not await trust.remove_binding(client_id, issuer):
        raise TrustConfigError(f"{client_id} is not bound to {issuer}")
