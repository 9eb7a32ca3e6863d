"""The fixed label values of the ``Metrics`` port (``protocol.ports``) and the adapter
that counts nothing (metrics off).  The reasons of a refused client authentication are
for operators only: every answer stays the one ``invalid_client`` (RFC 6749 §5.2), so an
unknown id and a wrong secret are one reason here too."""

from __future__ import annotations

# Client-authentication failures, by reason.
INVALID_CLIENT = "invalid_client"  # an unknown id or a wrong secret: never told apart
ASSERTION_REFUSED = "assertion_refused"  # a private_key_jwt assertion refused (RFC 7523)
LOCKED_OUT = "locked_out"  # refused while its client id or address is locked out

# What a lockout locks: a client id from one address, or an address.
LOCKOUT_CLIENT = "client"
LOCKOUT_ADDRESS = "address"

# What a rate limit counts, and what became of a request past it.
API_REQUESTS = "api"
TOKEN_REQUESTS = "token"  # noqa: S105 - a label value
NEW_REPORTERS = "reporter"
REFUSED = "refused"
LOGGED = "logged"


class NoMetrics:
    """The ``Metrics`` port that counts nothing."""

    def token_issued(self, client_id: str) -> None:
        pass

    def token_revoked(self, client_id: str) -> None:
        pass

    def client_auth_failed(self, reason: str) -> None:
        pass

    def lockout_started(self, kind: str) -> None:
        pass

    def rate_limited(self, kind: str, outcome: str) -> None:
        pass

    def counter_storage_failed(self) -> None:
        pass

    def batch_committed(self, backend: str, size: int, seconds: float) -> None:
        pass

    def cache_looked_up(self, cache: str, hit: bool) -> None:
        pass


NO_METRICS = NoMetrics()
