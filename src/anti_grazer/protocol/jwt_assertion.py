"""A JWT presented as a client assertion (RFC 7521 §4.2, RFC 7523 §2.2), read and checked
the one way both assertion methods share: ``private_key_jwt`` (``protocol.client_assertion``)
and workload identity federation (``protocol.federation``).

- ``read_assertion``: the shape, a JWS in compact form (never a JWE, nor a nested JWT:
  ``cty``) of at most ``MAX_ASSERTION_LENGTH`` characters whose payload is a JSON object;
  the header, ``alg`` from ``CLIENT_ASSERTION_ALGORITHMS`` (never ``none`` nor a MAC:
  RFC 7523 §3 item 9, RFC 8725 §3.1), no ``crit`` (no extension is understood here, RFC
  7515 §4.1.11), and no ``jku``, ``x5u``, ``jwk`` or ``x5c``: the key is the client's
  or the trusted issuer's, never one the assertion points to or carries (refused, never
  fetched).  Other header parameters are ignored (RFC 7515 §4).  Nothing is trusted yet.
- ``verify_signature``: with the one key its ``kid`` named, fit for its ``alg``
  (``protocol.jwk_set.fits``: the curve, RSA of at least 2048 bits).
- ``checked_expiry``: ``exp`` required and not passed (RFC 7523 §3 item 4), ``nbf`` and
  ``iat`` not in the future (items 5-6), each with a leeway for clock skew.

Every refusal is a ``RefusedAssertionError`` whose message is for the log only (it never
holds the assertion); ``protocol.assertion_methods`` logs it and answers the one
``invalid_client``.  joserfc is imported on the first assertion, never with this module
(``protocol.jwk_set``)."""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from anti_grazer.protocol.claims import numeric_date
from anti_grazer.protocol.jwk_set import CLIENT_ASSERTION_ALGORITHMS, fits
from anti_grazer.protocol.signing_keys import jws_registry

if TYPE_CHECKING:
    from joserfc.jwk import Key
    from joserfc.jws import JWSRegistry

logger = logging.getLogger("anti_grazer.protocol")

REFUSED_EVENT = "client assertion refused"
# An assertion is a few hundred bytes, a platform token one or two kilobytes (an
# RSA-4096 signature alone is 683 characters): anything longer is refused unparsed.
MAX_ASSERTION_LENGTH = 8192
# RFC 7519 §4.1.4: "some small leeway, usually no more than a few minutes".
LEEWAY = timedelta(seconds=60)
# Header members that would make the key (or the processing) the assertion's choice.
_REFUSED_HEADERS = ("crit", "jku", "x5u", "jwk", "x5c", "cty")
_PARSE_ERRORS = (ValueError, TypeError, RecursionError, UnicodeError)
# What a log line shows of the caller's unverified client id or issuer.
_LOGGED_LENGTH = 300


class RefusedAssertionError(Exception):
    """Why an assertion does not authenticate (for the log only), and, once known, the
    client it claimed to be and the issuer it named (unverified)."""

    def __init__(
        self, reason: str, *, client_id: str | None = None, issuer: str | None = None
    ) -> None:
        super().__init__(reason)
        self.client_id = client_id
        self.issuer = issuer


def log_refusal(refused: RefusedAssertionError) -> None:
    """The warning of a refused assertion: its reason, and the caller's client id and
    issuer cut to a readable length (they are the caller's, unverified)."""
    extra: dict[str, object] = {"reason": str(refused)}
    if refused.client_id:
        extra["client_id"] = refused.client_id[:_LOGGED_LENGTH]
    if refused.issuer:
        extra["issuer"] = refused.issuer[:_LOGGED_LENGTH]
    logger.warning(REFUSED_EVENT, extra=extra)


@dataclass(frozen=True, slots=True)
class PresentedAssertion:
    """An assertion as presented, read but not verified: its header's ``alg`` and
    ``kid``, and its claims (trusted only once ``verify_signature`` has passed)."""

    compact: str = field(repr=False)
    alg: str
    kid: str | None
    claims: Mapping[str, object] = field(repr=False)


def _registry() -> JWSRegistry:
    """The allow-list, and header parameters joserfc does not know ignored (RFC 7515 §4)."""
    return jws_registry(CLIENT_ASSERTION_ALGORITHMS, strict_header=False)


def read_assertion(text: str) -> PresentedAssertion:
    """The header and claims of ``text``, if it has the shape and header of an
    assertion (module docstring); else ``RefusedAssertionError``."""
    from joserfc import jws  # noqa: PLC0415 - module docstring
    from joserfc.errors import JoseError  # noqa: PLC0415

    if len(text) > MAX_ASSERTION_LENGTH:
        raise RefusedAssertionError("longer than the maximum length")
    if not text.isascii() or text.count(".") != 2:
        raise RefusedAssertionError("not a JWS in compact serialization")
    try:
        extracted = jws.extract_compact(text.encode("ascii"), registry=_registry())
        header: object = extracted.headers()
        claims: object = json.loads(extracted.payload)
    except (JoseError, *_PARSE_ERRORS):
        raise RefusedAssertionError("not a JWS with a JSON payload") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise RefusedAssertionError("header or payload is not a JSON object")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in CLIENT_ASSERTION_ALGORITHMS:
        raise RefusedAssertionError("alg not allowed")
    for name in _REFUSED_HEADERS:
        if name in header:
            raise RefusedAssertionError(f"header {name} refused")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise RefusedAssertionError("kid is not a string")
    return PresentedAssertion(text, alg, kid, claims)


def verify_signature(assertion: PresentedAssertion, key: Key) -> None:
    """The signature verifies with ``key`` under the assertion's ``alg``, ``key`` being
    fit for it; else ``RefusedAssertionError``."""
    from joserfc import jws  # noqa: PLC0415 - module docstring
    from joserfc.errors import JoseError, SecurityWarning  # noqa: PLC0415

    if not fits(key, assertion.alg):
        raise RefusedAssertionError("the key does not fit alg")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SecurityWarning)
            jws.deserialize_compact(
                assertion.compact, key, algorithms=[assertion.alg], registry=_registry()
            )
    except (JoseError, *_PARSE_ERRORS):
        raise RefusedAssertionError("signature") from None


def replay_key(issuer: str, jti: str) -> str:
    """The key an assertion is remembered by in the ``AssertionReplayStore``: its
    issuer (a client's own id, or ``federated:`` and a trusted issuer) and ``jti``
    (unique per issuer, RFC 7519 §4.1.7), hashed to the store's fixed 64 characters:
    nothing the caller chose is stored as such."""
    return hashlib.sha256(f"{issuer}\x00{jti}".encode()).hexdigest()


def claimed_date(claims: Mapping[str, object], name: str) -> datetime | None:
    """The NumericDate claim ``name`` (None when absent), or ``RefusedAssertionError``."""
    try:
        return numeric_date(claims.get(name))
    except ValueError:
        raise RefusedAssertionError(f"{name} is not a NumericDate") from None


def checked_expiry(claims: Mapping[str, object], now: datetime, leeway: timedelta) -> datetime:
    """The assertion's ``exp``, if it has one that has not passed at ``now``, and its
    ``nbf`` and ``iat`` are not in the future (each with ``leeway``)."""
    expires_at = claimed_date(claims, "exp")
    if expires_at is None:
        raise RefusedAssertionError("exp is missing")
    if now >= expires_at + leeway:
        raise RefusedAssertionError("expired")
    for name in ("nbf", "iat"):
        moment = claimed_date(claims, name)
        if moment is not None and moment > now + leeway:
            raise RefusedAssertionError(f"{name} is in the future")
    return expires_at
