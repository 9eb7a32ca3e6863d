"""The one dispatch of client assertions (RFC 7521 §4.2, type ``jwt-bearer`` of RFC 7523
§2.2) between the two methods that use them, once ``protocol.client_auth`` has parsed
the request's parameters (one method per request, RFC 6749 §2.3):

- an assertion whose ``iss`` is the client itself (RFC 7523 §3 item 1: its ``client_id``
  when the form sends one; without ``client_id``, its ``iss`` names the client):
  ``private_key_jwt``, checked with the client's keys (``protocol.client_assertion``);
- an assertion from another issuer, with the ``client_id`` of a client bound to that
  issuer: a workload's platform token (workload identity federation,
  ``protocol.federation``); the ``client_id`` is required, the token's ``sub`` naming
  the workload, not the client.

Either way the assertion is read once (``protocol.jwt_assertion``: its shape, its header,
``iss`` unverified until its signature is), and every refusal is logged with its reason
and answered with the one ``invalid_client`` (RFC 7521 §4.2.1, RFC 6749 §5.2)."""

from __future__ import annotations

from datetime import datetime

from anti_grazer.protocol.claims import non_empty_string
from anti_grazer.protocol.client_assertion import ClientAssertionVerifier
from anti_grazer.protocol.client_auth import AuthenticatedClient, ClientAssertion
from anti_grazer.protocol.errors import InvalidClientError
from anti_grazer.protocol.federation import WorkloadFederation
from anti_grazer.protocol.jwt_assertion import (
    PresentedAssertion,
    RefusedAssertionError,
    log_refusal,
    read_assertion,
)


class AssertionMethods:
    """Authenticates a client by its assertion (module docstring).  Without
    ``federation``, an assertion from another issuer than the client is refused."""

    def __init__(
        self,
        private_key_jwt: ClientAssertionVerifier,
        federation: WorkloadFederation | None = None,
    ) -> None:
        self.private_key_jwt = private_key_jwt
        self.federation = federation

    async def authenticate(self, presented: ClientAssertion, now: datetime) -> AuthenticatedClient:
        """The client ``presented`` authenticates, or ``invalid_client``."""
        try:
            return await self._dispatch(
                presented.client_id, read_assertion(presented.assertion), now
            )
        except RefusedAssertionError as refused:
            log_refusal(refused)
            raise InvalidClientError() from None

    async def _dispatch(
        self, client_id: str | None, assertion: PresentedAssertion, now: datetime
    ) -> AuthenticatedClient:
        issuer = non_empty_string(assertion.claims.get("iss"))
        if client_id is None or issuer is None or issuer == client_id:
            return await self.private_key_jwt.authenticate(assertion, now)
        if self.federation is None:
            raise RefusedAssertionError(
                "the client is not bound to the token's issuer", client_id=client_id, issuer=issuer
            )
        return await self.federation.authenticate(client_id, issuer, assertion, now)
