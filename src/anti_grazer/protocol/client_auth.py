"""Client authentication at the token, revocation and introspection endpoints (RFC 6749
§2.3).

Three ways: HTTP Basic (``client_secret_basic``, §2.3.1, with the id and secret
form-urlencoded before base64 per Appendix B), body parameters (``client_secret_post``),
and a JWT as the client assertion (RFC 7521 §4.2, RFC 7523 §2.2): signed by the client's
private key (``private_key_jwt``), or a workload's platform token from an issuer the
client is bound to (workload identity federation); ``protocol.assertion_methods`` says
which checks it.  A request that uses more than one
is an ``invalid_request`` (§2.3: "MUST NOT use more than one authentication method in
each request").  Every failure to authenticate is the same ``invalid_client``, whatever
the cause.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from urllib.parse import unquote_plus

from anti_grazer.protocol.errors import InvalidClientError, InvalidRequestError
from anti_grazer.protocol.models import Client
from anti_grazer.protocol.ports import ClientStore
from anti_grazer.protocol.tokens import verify_client_secret


class AuthMethod(Enum):
    """How the client presented its credentials (RFC 7591 §2 names)."""

    BASIC = "client_secret_basic"
    POST = "client_secret_post"
    PRIVATE_KEY_JWT = "private_key_jwt"


# RFC 7523 §2.2: the client_assertion_type of a JWT used for client authentication.
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True, slots=True)
class ClientAssertion:
    """A client assertion as presented (RFC 7521 §4.2): the JWT, and the ``client_id``
    parameter when the request carried one (it must then name the assertion's client)."""

    assertion: str
    client_id: str | None

    def __repr__(self) -> str:  # never show the assertion
        return f"ClientAssertion(client_id={self.client_id!r})"


def parse_client_authentication(
    params: Mapping[str, str], authorization: str | None
) -> ClientCredentials | ClientAssertion:
    """The client's credentials (``parse_client_credentials``) or its assertion.

    RFC 7521 §4.2: ``client_assertion_type`` and ``client_assertion`` are both REQUIRED,
    so one without the other is an ``invalid_request``, as is an assertion beside a
    secret or an Authorization header (RFC 6749 §2.3); a type other than RFC 7523's
    ``jwt-bearer`` is an unsupported authentication method: ``invalid_client`` (RFC 6749
    §5.2)."""
    assertion_type = params.get("client_assertion_type")
    assertion = params.get("client_assertion")
    if assertion_type is None and assertion is None:
        return parse_client_credentials(params, authorization)
    if authorization is not None or "client_secret" in params:
        raise InvalidRequestError("The client used more than one authentication method")
    if assertion_type is None or assertion is None:
        raise InvalidRequestError(
            "client_assertion and client_assertion_type must be sent together"
        )
    if assertion_type != JWT_BEARER:
        raise InvalidClientError()
    return ClientAssertion(assertion, params.get("client_id"))


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """A client id and secret as presented, and the method that carried them."""

    client_id: str
    client_secret: str
    method: AuthMethod

    def __repr__(self) -> str:  # never show the secret
        return f"ClientCredentials(client_id={self.client_id!r}, method={self.method.value})"


def _decode_basic(value: str) -> tuple[str, str]:
    try:
        decoded = b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidClientError() from None
    client_id, colon, client_secret = decoded.partition(":")
    if not colon:
        raise InvalidClientError()
    try:
        return (
            unquote_plus(client_id, errors="strict"),
            unquote_plus(client_secret, errors="strict"),
        )
    except UnicodeDecodeError:
        raise InvalidClientError() from None


def parse_client_credentials(
    params: Mapping[str, str], authorization: str | None
) -> ClientCredentials:
    """Extract the client's credentials from the Authorization header or the body.

    Raises ``InvalidRequestError`` when more than one method is used and
    ``InvalidClientError`` when no usable credentials are present.
    """
    body_id = params.get("client_id")
    body_secret = params.get("client_secret")
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "basic" or not value.strip():
            raise InvalidClientError()
        if body_secret is not None:
            raise InvalidRequestError("The client used more than one authentication method")
        client_id, client_secret = _decode_basic(value)
        if body_id is not None and body_id != client_id:
            raise InvalidRequestError("The client used more than one authentication method")
        if not client_id or not client_secret:
            raise InvalidClientError()
        return ClientCredentials(client_id, client_secret, AuthMethod.BASIC)
    if body_id is None or body_secret is None:
        raise InvalidClientError()
    return ClientCredentials(body_id, body_secret, AuthMethod.POST)


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    """A client that authenticated, and the credential it used, as the access log names
    it: the public id of its secret, ``private_key_jwt:<kid>`` (``private_key_jwt`` for a
    key without a kid), or ``federated:<issuer>`` (a workload's platform token)."""

    client: Client
    secret_id: str


async def authenticate_client(
    clients: ClientStore, credentials: ClientCredentials, now: datetime
) -> AuthenticatedClient:
    """Return the enabled client one of whose live secrets (at ``now``) matches, with
    that secret's id, or raise ``invalid_client``.

    An unknown id, a wrong secret, an expired secret and a disabled client fail
    identically and do the same hashing work, whichever secret matches
    (``verify_client_secret``; DESIGN.md §4.1).
    """
    client = await clients.get_client(credentials.client_id)
    live = client.live_secrets(now) if client is not None else ()
    found = verify_client_secret(credentials.client_secret, [s.digest for s in live])
    if client is None or found is None or not client.enabled:
        raise InvalidClientError()
    return AuthenticatedClient(client, live[found].secret_id)
