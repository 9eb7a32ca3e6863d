"""The authorization server: the token endpoint's client_credentials grant (RFC 6749 §4.4),
token revocation (RFC 7009) and introspection (RFC 7662), as async calls over the storage
ports.  No HTTP here: the web layer hands in the parsed form and the Authorization header
and renders the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from anti_grazer.protocol.assertion_methods import AssertionMethods
from anti_grazer.protocol.audience import RESOURCE, grant_audience
from anti_grazer.protocol.audit import TOKEN_REVOKED, AuditTrail, client_actor
from anti_grazer.protocol.client_auth import (
    AuthenticatedClient,
    ClientAssertion,
    ClientCredentials,
    authenticate_client,
    parse_client_authentication,
)
from anti_grazer.protocol.errors import (
    ClientLockedOutError,
    InvalidClientError,
    InvalidRequestError,
    InvalidTokenError,
    OAuthError,
    ServerError,
    TokenQuotaExceededError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
    UnsupportedTokenTypeError,
)
from anti_grazer.protocol.introspection import (
    INACTIVE,
    IntrospectionResponse,
    Members,
    active_members,
    may_introspect,
)
from anti_grazer.protocol.jwt_access_tokens import (
    JwtAccessTokens,
    JwtAccessTokenValidator,
    looks_like_jwt,
)
from anti_grazer.protocol.key_ring import SigningUnavailableError
from anti_grazer.protocol.lockout import Attempt
from anti_grazer.protocol.metrics import (
    ASSERTION_REFUSED,
    INVALID_CLIENT,
    LOCKED_OUT,
    NO_METRICS,
)
from anti_grazer.protocol.models import (
    CLIENT_CREDENTIALS,
    JWT,
    Client,
    Scopes,
    TokenRecord,
    TokenResponse,
)
from anti_grazer.protocol.params import values_of
from anti_grazer.protocol.ports import (
    ClientStore,
    Clock,
    InactiveClientError,
    Metrics,
    TokenStore,
)
from anti_grazer.protocol.rate_limits import Usage
from anti_grazer.protocol.scope import grant_scope, render_scope
from anti_grazer.protocol.secret_use import SecretUseRecorder
from anti_grazer.protocol.throttle import Throttle
from anti_grazer.protocol.token_lookup import presented_token_digest
from anti_grazer.protocol.tokens import access_token_digest, generate_access_token, token_id

SUPPORTED_GRANT_TYPES = frozenset({CLIENT_CREDENTIALS})
# RFC 7009 §2.1 hints; we issue no refresh tokens, but the hint is a known value.
KNOWN_TOKEN_TYPE_HINTS = frozenset({"access_token", "refresh_token"})


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """Access token lifetimes: the server default and the ceiling no client exceeds."""

    default_ttl_seconds: int = 3600
    max_ttl_seconds: int = 86400

    def ttl_for(self, client: Client) -> int:
        """The client's own TTL if set, else the default, never above the maximum."""
        ttl = client.token_ttl_seconds or self.default_ttl_seconds
        return min(ttl, self.max_ttl_seconds)


class attributed_to:  # noqa: N801 - used as a function: ``with attributed_to(client):``
    """Errors raised inside name ``caller``'s client and the secret it used: it had
    authenticated, so its refusal (``invalid_scope``, say) is attributed to it, and
    carries its token quota's ``usage`` when the request was counted.  Any other failure
    becomes a ``server_error`` caused by it (the cause stays for the log, never the
    response).  A plain class, not a generator: it wraps every token request."""

    __slots__ = ("client_id", "secret_id", "usage")

    def __init__(self, caller: AuthenticatedClient, usage: Usage | None = None) -> None:
        self.client_id = caller.client.client_id
        self.secret_id = caller.secret_id
        self.usage = usage

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        _kind: type[BaseException] | None,
        error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if isinstance(error, OAuthError):
            error.client_id, error.secret_id = self.client_id, self.secret_id
            error.usage = self.usage
        elif isinstance(error, Exception):
            server_error = ServerError()
            server_error.client_id, server_error.secret_id = self.client_id, self.secret_id
            server_error.usage = self.usage
            raise server_error from error


class AuthorizationServer:
    """Issues, revokes and introspects access tokens for authenticated clients: opaque
    ones, and JWT access tokens (RFC 9068) for clients whose format is ``jwt``, signed by
    ``jwt`` (without it, such a client's request is a ``server_error`` whose reason says
    so).

    ``issuer`` is the ``iss`` of introspection responses (left out when None).
    ``audience`` is the server's default audience (the ``AUDIENCE`` setting), the one
    ``resource`` a client registered without audiences may name (``protocol.audience``).
    ``introspected_tokens`` is the token store introspection reads, ``tokens`` by default:
    a served app passes the store behind its cache, so that a token revoked by any
    instance is inactive at the very next introspection (RFC 7662 §4: every check of the
    token's state), where the bearer guard may serve a record for the cache's TTL.
    ``secret_use`` records when each client secret was last used (``clients show``).
    ``assertions`` authenticates clients by an assertion, ``private_key_jwt`` or a
    workload's platform token (None: such requests are refused ``invalid_client``);
    ``audit`` records each revocation (None: none is, in tests of other rules);
    ``throttle`` counts failed authentications (the lockout, RFC 6749 §2.3.1) and token
    requests against each client's quota; ``source`` is the address a request came from;
    ``metrics`` counts tokens issued and revoked and the refused authentications by
    reason."""

    def __init__(
        self,
        clients: ClientStore,
        tokens: TokenStore,
        clock: Clock,
        policy: TokenPolicy | None = None,
        jwt: JwtAccessTokens | None = None,
        *,
        issuer: str | None = None,
        audience: str | None = None,
        introspected_tokens: TokenStore | None = None,
        jwt_validator: JwtAccessTokenValidator | None = None,
        secret_use: SecretUseRecorder | None = None,
        audit: AuditTrail | None = None,
        assertions: AssertionMethods | None = None,
        throttle: Throttle | None = None,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self.clients = clients
        self.tokens = tokens
        self.clock = clock
        self.policy = policy or TokenPolicy()
        self.jwt = jwt
        self.issuer = issuer
        self.audience = audience
        self.introspected_tokens = introspected_tokens or tokens
        self.jwt_validator = jwt_validator
        self.secret_use = secret_use or SecretUseRecorder(clients)
        self.audit = audit
        self.assertions = assertions
        self.throttle = throttle
        self.metrics = metrics

    async def _authenticate(
        self,
        params: Mapping[str, str],
        authorization: str | None,
        source: str | None,
        *,
        token: bool = False,
    ) -> tuple[AuthenticatedClient, Usage | None]:
        """RFC 6749 §2.3: the client and the credential that authenticated it: a secret
        (§2.3.1), whose use is recorded (``protocol.secret_use``), or an assertion (RFC
        7521 §4.2): signed by its key, or its workload's platform token; with ``token``,
        its token quota's usage once this request was counted.  A failure is counted
        against the lockout, and a locked-out attempt refused (``ClientLockedOutError``),
        whatever its credentials."""
        credentials = parse_client_authentication(params, authorization)
        now = self.clock.now()
        attempt = Attempt(credentials.client_id or "", source)
        try:
            caller = await self._verified(credentials, now)
        except InvalidClientError:
            assertion = isinstance(credentials, ClientAssertion)
            await self._failed(attempt, ASSERTION_REFUSED if assertion else INVALID_CLIENT)
            raise
        usage = None
        if self.throttle is not None:
            try:
                usage = await self.throttle.admitted(attempt, caller.client, token=token)
            except ClientLockedOutError:
                self.metrics.client_auth_failed(LOCKED_OUT)
                raise
        if isinstance(credentials, ClientAssertion):
            return caller, usage
        self.secret_use.used(caller.client.client_id, caller.secret_id, now)
        return caller, usage

    async def _failed(self, attempt: Attempt, reason: str) -> None:
        """A refused authentication, counted against the lockout and in the metrics by
        ``reason``, or as ``locked_out`` when the attempt was locked out already."""
        if self.throttle is not None:
            try:
                await self.throttle.failed(attempt)
            except ClientLockedOutError:
                self.metrics.client_auth_failed(LOCKED_OUT)
                raise
        self.metrics.client_auth_failed(reason)

    async def _verified(
        self, credentials: ClientCredentials | ClientAssertion, now: datetime
    ) -> AuthenticatedClient:
        if isinstance(credentials, ClientAssertion):
            if self.assertions is None:
                raise InvalidClientError()
            return await self.assertions.authenticate(credentials, now)
        return await authenticate_client(self.clients, credentials, now)

    async def token(
        self, params: Mapping[str, str], authorization: str | None, source: str | None = None
    ) -> TokenResponse:
        """RFC 6749 §4.4.2–4.4.3: authenticate the client and issue an access token, for
        the resources ``params`` names (RFC 8707 §2 ``resource``, repeatable in a
        ``Form``), unless the client has had its quota of tokens
        (``TokenQuotaExceededError``)."""
        grant_type = params.get("grant_type")
        if grant_type is None:
            raise InvalidRequestError("The grant_type parameter is missing")
        if grant_type not in SUPPORTED_GRANT_TYPES:
            raise UnsupportedGrantTypeError()
        caller, usage = await self._authenticate(params, authorization, source, token=True)
        with attributed_to(caller, usage):
            if usage is not None and usage.refused:
                raise TokenQuotaExceededError(usage.retry_after_seconds)
            resources = values_of(params, RESOURCE)
            return await self._issue(caller, grant_type, params.get("scope"), resources, usage)

    async def _issue(
        self,
        caller: AuthenticatedClient,
        grant_type: str,
        scope: str | None,
        resources: Sequence[str],
        usage: Usage | None = None,
    ) -> TokenResponse:
        client = caller.client
        if grant_type not in client.grant_types:
            raise UnauthorizedClientError()
        scopes = grant_scope(scope, client.allowed_scopes, client.effective_default_scopes)
        audience = grant_audience(resources, client, self.audience)
        ttl = self.policy.ttl_for(client)
        if client.token_format == JWT:
            token, record = await self._jwt(client, scopes, ttl, audience)
        else:
            token, record = self._opaque(client, scopes, ttl, audience)
        try:
            await self.tokens.add_token(record)
        except InactiveClientError:  # disabled or deleted since it authenticated
            raise InvalidClientError() from None
        self.metrics.token_issued(client.client_id)
        return TokenResponse(
            client_id=client.client_id,
            access_token=token,
            expires_in=ttl,
            scope=render_scope(scopes) if scopes else None,
            secret_id=caller.secret_id,
            usage=usage,
        )

    def _opaque(
        self, client: Client, scopes: Scopes, ttl: int, audience: tuple[str, ...]
    ) -> tuple[str, TokenRecord]:
        now = self.clock.now()
        token = generate_access_token(now)
        return token, TokenRecord(
            digest=access_token_digest(token),
            client_id=client.client_id,
            scopes=scopes,
            issued_at=now,
            expires_at=now + timedelta(seconds=ttl),
            audience=audience,
        )

    async def _jwt(
        self, client: Client, scopes: Scopes, ttl: int, audience: tuple[str, ...]
    ) -> tuple[str, TokenRecord]:
        if self.jwt is None:
            raise SigningUnavailableError(reason="this server issues no JWT access tokens")
        return await self.jwt.issue(client, scopes, self.clock.now(), ttl, audience)

    async def revoke(
        self, params: Mapping[str, str], authorization: str | None, source: str | None = None
    ) -> AuthenticatedClient:
        """RFC 7009 §2.1: revoke a token of the authenticated client, which is returned.

        Unknown, malformed, expired and already-revoked tokens succeed silently (§2.2);
        another client's token is left untouched and the request refused (§2.1).
        """
        caller, _ = await self._authenticate(params, authorization, source)
        with attributed_to(caller):
            await self._revoke(caller.client, params)
        return caller

    async def _revoke(self, client: Client, params: Mapping[str, str]) -> None:
        token = params.get("token")
        if token is None:
            raise InvalidRequestError("The token parameter is missing")
        hint = params.get("token_type_hint")
        if hint is not None and hint not in KNOWN_TOKEN_TYPE_HINTS:
            raise UnsupportedTokenTypeError()
        digest = presented_token_digest(token)
        if digest is None:  # neither our opaque format nor a JWT: unknown (§2.2)
            return
        record = await self.tokens.get_token(digest)
        if record is None:
            return
        if record.client_id != client.client_id:
            raise UnauthorizedClientError("The token was not issued to this client")
        if record.revoked_at is not None:
            return
        event = None
        if self.audit is not None:
            event = self.audit.event(
                TOKEN_REVOKED,
                client_actor(client.client_id),
                record.jti or token_id(digest),
                client_id=client.client_id,
            )
        # The event is stored in the revocation's own transaction: one commit, not two.
        if await self.tokens.revoke_token(digest, client.client_id, self.clock.now(), event):
            self.metrics.token_revoked(client.client_id)
            if event is not None:
                AuditTrail.logged(event)

    async def introspect(
        self, params: Mapping[str, str], authorization: str | None, source: str | None = None
    ) -> IntrospectionResponse:
        """RFC 7662 §2.1: the authenticated client asks about a token; §2.2: the answer.

        Unknown, malformed, expired and revoked tokens, and tokens the client may not know
        about (``may_introspect``), are all exactly ``{"active": false}`` (§2.2, §4).
        ``token_type_hint`` is only a hint (§2.1): every token here is an access token, so
        the search is always the full one, whatever the hint, known or not.
        """
        caller, _ = await self._authenticate(params, authorization, source)
        client = caller.client
        with attributed_to(caller):
            members = await self._introspect(client, params)
        return IntrospectionResponse(client.client_id, members, caller.secret_id)

    async def _introspected_digest(self, token: str) -> str | None:
        """The digest of ``token``'s record.  A JWT is checked as our guard checks it
        (``jwt_validator``: RFC 9068 §4, by a key still published), so that introspection
        never calls active a token the guard refuses, one whose key was withdrawn; but
        whatever its audience: the token may be for the API that asks, which checks
        ``aud`` itself (RFC 7662 §2.2, RFC 9700 §2.3)."""
        if self.jwt_validator is not None and looks_like_jwt(token):
            try:
                return await self.jwt_validator.digest(token)
            except InvalidTokenError:
                return None
        return presented_token_digest(token)

    async def _introspect(self, caller: Client, params: Mapping[str, str]) -> Members:
        token = params.get("token")
        if token is None:
            raise InvalidRequestError("The token parameter is missing")
        digest = await self._introspected_digest(token)
        if digest is None:  # neither our opaque format nor a valid JWT of ours (§2.2)
            return INACTIVE
        record = await self.introspected_tokens.get_token(digest)
        if (
            record is None
            or not record.is_active(self.clock.now())
            or not may_introspect(caller, record)
        ):
            return INACTIVE
        return active_members(record, self.issuer)
