"""Client-authentication lockout (issue 18 item 2): RFC 6749 §2.3.1 "the authorization
server MUST protect any endpoint utilizing it [a client password] against brute force
attacks", as the OAuth 2.1 draft keeps it.

Failed authentications are counted by what was presented, the same for a known and an
unknown client id (the lockout must not tell which ids exist): per client id *from one
source address*, and per source address whatever the ids (a spray of made-up ids).  Past
``failures`` (or ``address_failures``) within ``window_seconds`` of the first, that pair
(or that address) is locked out for ``lock_seconds``, and each further failure within the
window locks it for twice as long as the last, up to ``max_lock_seconds``.

Why per address and not per id alone: a client id is not a secret (RFC 6749 §2.2), so a
lockout of an id from everywhere would let anyone who knows it lock its client out, again
and again.  Keyed by address, the right credentials from an address with no failures
always work.  The price: an attacker with many addresses gets ``failures - 1`` guesses
from each per window, which against a 256-bit secret is nothing."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from dataclasses import dataclass

# An IPv6 address is counted by its /64: one host commonly holds a whole /64.
IPV6_PREFIX = 64
UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """When failures lock out, and for how long (seconds)."""

    failures: int = 5
    address_failures: int = 20
    window_seconds: int = 900
    lock_seconds: int = 60
    max_lock_seconds: int = 900

    def lock_for(self, failures: int, threshold: int) -> int:
        """The lockout the ``failures``-th failure of a window starts when ``threshold``
        of them lock: ``lock_seconds`` at the threshold, doubled by each failure after
        it, never above ``max_lock_seconds``."""
        doublings = failures - threshold
        if doublings >= self.max_lock_seconds.bit_length():
            return self.max_lock_seconds
        return min(self.lock_seconds << doublings, self.max_lock_seconds)


@functools.lru_cache(maxsize=4096)
def address_of(source: str | None) -> str:
    """The address a failure is counted under: an IPv4 address itself, an IPv6 address
    its /64 network, anything else (a Unix socket's peer) one shared name.  Cached: a
    client comes back from the same address, and parsing one costs more than the rest
    of a check."""
    if not source:
        return UNKNOWN_ADDRESS
    try:
        address = ipaddress.ip_address(source)
    except ValueError:
        return UNKNOWN_ADDRESS
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is 192.0.2.1
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One client authentication: the client id as presented (known or not) and the
    source address it came from (None when unknown)."""

    client_id: str
    source: str | None

    @property
    def address(self) -> str:
        return address_of(self.source)

    @property
    def client_subject(self) -> str:
        """The client id from this address, as a counter's name: a digest, so that an
        id of any length or content makes a key of one size."""
        presented = self.client_id.encode("utf-8", "surrogatepass")
        return f"{hashlib.sha256(presented).hexdigest()[:32]}@{self.address}"

    @property
    def failure_keys(self) -> tuple[str, str]:
        """The counters of failures: of this id from this address, of this address."""
        return f"failed:{self.client_subject}", f"failed:{self.address}"

    @property
    def lock_keys(self) -> tuple[str, str]:
        """The lockouts that refuse this attempt: this id's from this address, this
        address's."""
        return f"locked:{self.client_subject}", f"locked:{self.address}"
