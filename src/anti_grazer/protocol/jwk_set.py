"""JWK Sets (RFC 7517 §5) of public signature keys: the lenient reading of a published
set (the guard's ``RemoteKeySet``, a client's ``jwks_uri``), the strict check of the set
an operator registers for a client (``clients create --jwks-file``), and which key may
verify which algorithm of client assertions (RFC 7523 §3 item 9).

joserfc is imported where first needed, never with this module: a server whose clients
all use secrets and get opaque tokens never loads it (``protocol.signing_keys``)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from anti_grazer.issuer import is_loopback

if TYPE_CHECKING:
    from joserfc.jwk import Key

# The algorithms a client may sign its assertions with (RFC 7518 §3.3-3.5, RFC 8037
# §3.1): never "none" and never a MAC (the key would be a shared secret, which
# private_key_jwt exists to avoid).
ES256, EDDSA, PS256, RS256 = "ES256", "EdDSA", "PS256", "RS256"
CLIENT_ASSERTION_ALGORITHMS = (ES256, EDDSA, PS256, RS256)
# NIST SP 800-131A: RSA keys under 2048 bits are disallowed for signatures.
MIN_RSA_BITS = 2048
# The curve each elliptic-curve algorithm is defined on (RFC 7518 §3.4, RFC 8037 §3.1).
_CURVES = {ES256: ("EC", "P-256"), EDDSA: ("OKP", "Ed25519")}
# Public-key types only: a symmetric ("oct") key has no place in a published set.
_PUBLIC_KEY_TYPES = frozenset({"EC", "OKP", "RSA"})
# The private members of EC, OKP and RSA keys (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2)
# and the symmetric key's (§6.4.1): none may be registered.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
# A registered set is read into memory on every instance: a few keys, never a blob.
MAX_REGISTERED_KEYS = 10
MAX_JWKS_BYTES = 64 * 1024


class JwkSetError(ValueError):
    """A JWK Set an operator registers is unusable; the message says why (it never holds
    key material)."""


def signing_keys(document: Mapping[str, object]) -> list[Key] | None:
    """The signature keys of a JWK Set document (RFC 7517 §5), or None if it is not one.
    A key of another type or use (§4.2 ``use`` other than ``sig``), or one that does not
    import, is ignored, as §5 says a key that is not understood SHOULD be."""
    from joserfc.errors import JoseError  # noqa: PLC0415 - module docstring

    members = document.get("keys")
    if not isinstance(members, list):
        return None
    keys: list[Key] = []
    for member in members:
        if not isinstance(member, dict) or member.get("kty") not in _PUBLIC_KEY_TYPES:
            continue
        if member.get("use", "sig") != "sig":
            continue
        try:
            keys.append(_imported(member))
        except (JoseError, ValueError, TypeError):
            continue
    return keys


def _imported(member: dict[str, Any]) -> Key:
    """``member`` as a joserfc key.  joserfc warns of a small RSA key; whether a key may
    verify is ``fits``'s to say, so the warning is not raised (nor printed)."""
    from joserfc.errors import SecurityWarning  # noqa: PLC0415 - module docstring
    from joserfc.jwk import JWKRegistry  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        return JWKRegistry.import_key(member)


def fits(key: Key, alg: str) -> bool:
    """True if ``key`` may verify a client assertion signed with ``alg``: an allowed
    algorithm, the key's own ``alg`` (RFC 7517 §4.4) the same when it names one, the
    curve of ``alg``, an RSA key of at least ``MIN_RSA_BITS``; never a private key."""
    if alg not in CLIENT_ASSERTION_ALGORITHMS or key.is_private:
        return False
    if key.alg is not None and key.alg != alg:
        return False
    if alg in _CURVES:
        key_type, curve = _CURVES[alg]
        return key.key_type == key_type and key.get("crv") == curve
    return key.key_type == "RSA" and _rsa_bits(key) >= MIN_RSA_BITS


def _rsa_bits(key: Key) -> int:
    bits: int = getattr(key.raw_value, "key_size", 0)
    return bits


def _usable(key: Key) -> bool:
    return any(fits(key, alg) for alg in CLIENT_ASSERTION_ALGORITHMS)


def _check_member(member: object, position: int) -> dict[str, Any]:
    if not isinstance(member, dict):
        raise JwkSetError(f"key {position} is not a JSON object")
    if member.get("kty") not in _PUBLIC_KEY_TYPES:
        raise JwkSetError(f"key {position}: kty must be one of EC, OKP, RSA")
    if _PRIVATE_MEMBERS & member.keys():
        raise JwkSetError(f"key {position} holds private key material: register public keys")
    if member.get("use", "sig") != "sig":
        raise JwkSetError(f"key {position}: use must be sig")
    alg = member.get("alg")
    if alg is not None and alg not in CLIENT_ASSERTION_ALGORITHMS:
        raise JwkSetError(
            f"key {position}: alg must be one of {', '.join(CLIENT_ASSERTION_ALGORITHMS)}"
        )
    kid = member.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid):
        raise JwkSetError(f"key {position}: kid must be a non-empty string")
    return member


def checked_client_jwks(text: str) -> str:
    """The JWK Set JSON an operator registers for a client, checked and compacted, or
    ``JwkSetError``: a ``keys`` array (RFC 7517 §5) of 1 to ``MAX_REGISTERED_KEYS``
    public signature keys (EC P-256, OKP Ed25519, RSA of at least ``MIN_RSA_BITS``),
    each importable, ``kid`` unique (§4.5: "used to match a specific key"; required once
    there are several, so an assertion's ``kid`` finds one key)."""
    from joserfc.errors import JoseError  # noqa: PLC0415 - module docstring

    if len(text.encode("utf-8")) > MAX_JWKS_BYTES:
        raise JwkSetError(f"the JWK Set is larger than {MAX_JWKS_BYTES} bytes")
    try:
        document = json.loads(text)
    except ValueError:
        raise JwkSetError("the JWK Set is not JSON") from None
    members = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(members, list) or not members:
        raise JwkSetError('the JWK Set must be a JSON object with a non-empty "keys" array')
    if len(members) > MAX_REGISTERED_KEYS:
        raise JwkSetError(f"at most {MAX_REGISTERED_KEYS} keys may be registered")
    checked = [_check_member(member, n) for n, member in enumerate(members, 1)]
    kids = [member.get("kid") for member in checked]
    if len(checked) > 1 and None in kids:
        raise JwkSetError("every key needs a kid when there are several")
    if len(set(kids)) != len(kids):
        raise JwkSetError("the keys' kids must be unique")
    for position, member in enumerate(checked, 1):
        try:
            key = _imported(member)
        except (JoseError, ValueError, TypeError):
            raise JwkSetError(f"key {position} is not a valid JWK") from None
        if not _usable(key):
            raise JwkSetError(
                f"key {position} fits none of {', '.join(CLIENT_ASSERTION_ALGORITHMS)} "
                f"(EC P-256, OKP Ed25519, or RSA of at least {MIN_RSA_BITS} bits)"
            )
    return json.dumps({"keys": checked}, separators=(",", ":"), sort_keys=True)


def registered_kids(text: str) -> Sequence[str | None]:
    """The kids of a registered JWK Set (``checked_client_jwks``), in order."""
    members: list[dict[str, Any]] = json.loads(text)["keys"]
    return [member.get("kid") for member in members]


def check_jwks_uri(url: str) -> str:
    """``url`` if a client's keys may be fetched from it (RFC 7591 §2 ``jwks_uri``): an
    absolute ``https`` URL with a host, no credentials and no fragment; ``http`` only to
    a loopback host (local use).  Else ``JwkSetError``."""
    if not url.isascii() or not url.isprintable() or " " in url:
        raise JwkSetError("the jwks_uri must be a URL of printable ASCII without spaces")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise JwkSetError("the jwks_uri is not a valid URL") from None
    if not parts.hostname or "@" in parts.netloc or parts.fragment:
        raise JwkSetError("the jwks_uri must name a host, with no credentials nor fragment")
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname)):
        return url
    raise JwkSetError("the jwks_uri must be an https URL (http only to a loopback host)")
