"""``create_app(settings)``: the one place the web application is composed."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    asynccontextmanager,
    contextmanager,
    nullcontext,
)
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from anti_grazer import __version__
from anti_grazer.guard.asgi import BearerAuthMiddleware
from anti_grazer.guard.core import BearerGuard
from anti_grazer.guard.fastapi import install_fastapi_guard
from anti_grazer.guard.verifier import StoreTokenVerifier
from anti_grazer.issuer import is_loopback
from anti_grazer.logs import get_logger
from anti_grazer.protocol.assertion_methods import AssertionMethods
from anti_grazer.protocol.audit import AuditTrail
from anti_grazer.protocol.client_assertion import AssertionPolicy, ClientAssertionVerifier
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.federation import TokenAgePolicy, WorkloadFederation
from anti_grazer.protocol.jwt_access_tokens import JwtAccessTokens, JwtAccessTokenValidator
from anti_grazer.protocol.key_ring import (
    KEY_ENCRYPTION_KEY_SETTING,
    KeyRing,
    SigningUnavailableError,
)
from anti_grazer.protocol.metadata import ServerMetadata
from anti_grazer.protocol.metrics import NO_METRICS
from anti_grazer.protocol.ports import (
    AssertionReplayStore,
    AuditStore,
    ClientStore,
    Clock,
    Counters,
    Metrics,
    SigningKeyStore,
    TokenStore,
    TrustStore,
)
from anti_grazer.protocol.server import AuthorizationServer, TokenPolicy
from anti_grazer.protocol.throttle import Throttle
from anti_grazer.reports.cursor import BlocklistCursors
from anti_grazer.reports.ports import ReportStore
from anti_grazer.reports.service import ReportPolicy, ReportService
from anti_grazer.settings import Settings
from anti_grazer.store.cache import cached
from anti_grazer.store.changes import ListenForChanges
from anti_grazer.store.counters import OpenedCounters, open_counters
from anti_grazer.store.memory import (
    MemoryAssertionReplayStore,
    MemoryAuditStore,
    MemorySigningKeyStore,
)
from anti_grazer.store.runtime import no_changes, open_stores
from anti_grazer.store.sql.keys import shared_key
from anti_grazer.store.sql.schema_version import current_revision, schema_problem
from anti_grazer.web.access_log import AccessLogMiddleware
from anti_grazer.web.background import (
    Purge,
    assertion_purge,
    audit_purge,
    janitor,
    token_purge,
)
from anti_grazer.web.docs import install_docs
from anti_grazer.web.edge import Edge
from anti_grazer.web.jwks_route import JwksEndpoint
from anti_grazer.web.metadata import install_metadata, server_metadata
from anti_grazer.web.metrics import HttpMetrics, prometheus_metrics
from anti_grazer.web.oauth_routes import (
    INTROSPECT_PATH,
    JWKS_PATH,
    OAUTH_PREFIX,
    REVOKE_PATH,
    TOKEN_PATH,
    OAuthEndpoints,
)
from anti_grazer.web.rate_limiting import RateLimitMiddleware
from anti_grazer.web.readiness import Check, Readiness, readiness_endpoint
from anti_grazer.web.remote_key_sets import LazyClientKeySets, LazyIssuerKeySets
from anti_grazer.web.reports_routes import build_reports_router
from anti_grazer.web.request_limits import RequestBodyLimits
from anti_grazer.web.security_headers import SecurityHeadersMiddleware

logger = get_logger("anti_grazer.app")

API_PREFIX = "/v1"


@dataclass(frozen=True, slots=True)
class Stores:
    """The storage the application runs on."""

    clients: ClientStore
    tokens: TokenStore
    reports: ReportStore
    # The key of blocklist cursors when ``Settings.cursor_key`` is unset: the one every
    # process on the database shares.
    cursor_key: bytes = field(repr=False)
    # Other processes' changes, for the caches to drop (none: the caches' TTL bounds them).
    listen_for_changes: ListenForChanges = no_changes
    # The keys that sign JWT access tokens (None: none at all, an empty key set).
    signing_keys: SigningKeyStore | None = None
    # The client assertions already used (None: this process's memory only).
    assertion_replays: AssertionReplayStore | None = None
    # The audit trail's events (None: kept in memory only, for tests).
    audit: AuditStore | None = None
    # The schema revision the database is at (raises when it does not answer), for
    # readiness; None: no database (memory stores), always ready.
    schema_revision: Callable[[], Awaitable[str | None]] | None = None
    # Workload identity federation's trusted issuers and bindings (None: no federation,
    # an assertion from another issuer than its client is refused).
    trust: TrustStore | None = None


StoresFactory = Callable[[Settings], AbstractAsyncContextManager[Stores]]
CURSOR_KEY_NAME = "blocklist-cursor"


def metrics_for(settings: Settings) -> Metrics:
    """This process's Prometheus metrics, or none when ``METRICS_PORT`` is 0."""
    return prometheus_metrics() if settings.metrics_enabled else NO_METRICS


@asynccontextmanager
async def sql_stores(settings: Settings) -> AsyncIterator[Stores]:
    """The default storage: the SQL database named by ``settings.database_url``."""
    async with open_stores(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        metrics=metrics_for(settings),
    ) as opened:
        yield Stores(
            opened.clients,
            opened.tokens,
            opened.reports,
            await shared_key(opened.engine, CURSOR_KEY_NAME),
            opened.listen_for_changes,
            opened.signing_keys,
            opened.assertion_replays,
            opened.audit,
            functools.partial(current_revision, opened.engine),
            opened.trust,
        )


@dataclass(frozen=True, slots=True)
class Services:
    """What requests are served with, built at start-up over the opened stores."""

    authorization: AuthorizationServer
    guard: BearerGuard
    reports: ReportService
    keys: KeyRing
    readiness: Readiness
    # Rate limits, token quotas and the lockout (None: all three off).
    throttle: Throttle | None = None


class Runtime:
    """The started application's ``Services``, there for as long as the lifespan runs.
    Endpoints and middleware are built before it starts, with these typed accessors."""

    def __init__(self) -> None:
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the application has not started")
        return self._services

    @contextmanager
    def serving(self, services: Services) -> Iterator[None]:
        self._services = services
        try:
            yield
        finally:
            self._services = None

    def authorization_server(self) -> AuthorizationServer:
        return self.services.authorization

    def bearer_guard(self) -> BearerGuard:
        return self.services.guard

    def report_service(self) -> ReportService:
        return self.services.reports

    def key_ring(self) -> KeyRing:
        return self.services.keys

    def readiness(self) -> Readiness:
        return self.services.readiness

    def throttle(self) -> Throttle | None:
        return self.services.throttle


async def health(_request: Request) -> Response:
    """Liveness: the process answers (readiness is ``/ready``)."""
    return JSONResponse({"status": "ok"})


def throttle_for(
    counters: Counters | None,
    clock: Clock,
    clients: ClientStore,
    settings: Settings,
    audit: AuditStore,
) -> Throttle | None:
    """The judge of the rate limits and the lockout over ``counters`` (None: both off);
    the lockouts it starts go to the ``audit`` trail."""
    if counters is None:
        return None
    return Throttle(
        counters,
        clock,
        clients,
        settings.rate_limit_policy,
        settings.lockout_policy,
        metrics_for(settings),
        AuditTrail(audit, clock),
    )


def cursor_key_of(settings: Settings, opened: Stores) -> bytes:
    """The blocklist cursors' key: the setting's, else the one the database keeps."""
    configured = settings.cursor_key
    return configured.get_secret_value().encode() if configured else opened.cursor_key


def warn_if_issuer_unset(settings: Settings) -> None:
    """Off loopback, an unset ISSUER is a mistake the log must name."""
    if settings.issuer is None and not is_loopback(settings.host):
        logger.warning(
            "issuer_unset",
            message="ISSUER is not set: the metadata and introspection name the listen "
            "address as the issuer; set ANTI_GRAZER_ISSUER to the https URL clients use",
            issuer=settings.issuer_url,
        )


def log_started(keys: KeyRing, settings: Settings) -> None:
    """Log (and count, in the metrics) that this process serves."""
    logger.info("application_started", pid=os.getpid())
    if settings.metrics_enabled:
        prometheus_metrics().worker_started()
    if not keys.can_sign:
        logger.info(
            "jwt_access_tokens_off",
            reason=f"{KEY_ENCRYPTION_KEY_SETTING} is not set: clients whose "
            "token format is jwt get server_error",
        )


def janitor_purges(
    tokens: TokenStore, replays: AssertionReplayStore, audit: AuditStore, settings: Settings
) -> dict[str, Purge]:
    """What the janitor deletes, by name: expired tokens and used client assertions,
    audit events past ``AUDIT_RETENTION_DAYS``."""
    return {
        "expired tokens": token_purge(tokens, settings.purge_batch_size),
        "expired client assertions": assertion_purge(replays, settings.purge_batch_size),
        "old audit events": audit_purge(audit, timedelta(days=settings.audit_retention_days)),
    }


def client_assertions(
    settings: Settings,
    token_endpoint: str,
    clients: ClientStore,
    replays: AssertionReplayStore,
    trust: TrustStore | None,
    key_sets: LazyClientKeySets,
    issuer_keys: LazyIssuerKeySets,
) -> AssertionMethods:
    """How clients authenticate with an assertion: ``private_key_jwt``, its ``aud`` the
    issuer identifier or the token endpoint URL (RFC 7523 §3 item 3), and workload
    identity federation over the trusted issuers (none without a trust store)."""
    policy = AssertionPolicy(
        audiences=frozenset({settings.issuer_url, token_endpoint}),
        max_lifetime=timedelta(seconds=settings.client_assertion_max_lifetime_seconds),
    )
    age = TokenAgePolicy(max_age=timedelta(seconds=settings.federated_token_max_age_seconds))
    federation = (
        None if trust is None else WorkloadFederation(clients, trust, issuer_keys, replays, age)
    )
    return AssertionMethods(ClientAssertionVerifier(clients, replays, policy, key_sets), federation)


def readiness_checks(opened: Stores, keys: KeyRing) -> Readiness:
    """What ``/ready`` checks: the database answers at this code's schema, and when this
    server issues JWTs (the key-encryption key is set) a signing key is active."""

    async def database() -> str | None:
        if opened.schema_revision is None:
            return None
        return schema_problem(await opened.schema_revision())

    async def signing_key() -> str | None:
        try:
            await keys.signer()
        except SigningUnavailableError as error:
            return error.reason
        return None

    checks: dict[str, tuple[Check, str]] = {"database": (database, "unreachable")}
    if keys.can_sign:
        checks["signing_key"] = (signing_key, "unavailable")
    return Readiness(checks)


def request_metrics(settings: Settings, app: Edge) -> HttpMetrics | None:
    """The HTTP request metrics, by route template, that the access log middleware
    feeds with the status and time it measures (None: metrics off)."""
    if not settings.metrics_enabled:
        return None
    return HttpMetrics(prometheus_metrics(), app.api, app.endpoint_paths)


def body_limits(settings: Settings) -> Callable[[str], int]:
    """The largest body a path may carry: the OAuth endpoints' limit, or the API's."""

    def limit_for(path: str) -> int:
        if path.startswith(OAUTH_PREFIX):
            return settings.max_body_bytes
        return settings.max_api_body_bytes

    return limit_for


@asynccontextmanager
async def counters_for(settings: Settings) -> AsyncIterator[OpenedCounters | None]:
    """The counters of the rate limits and the lockout (None when both are off)."""
    if settings.rate_limit_policy is None and settings.lockout_policy is None:
        yield None
        return
    async with open_counters(
        settings.rate_limit_storage_url,
        settings.rate_limit_storage_timeout_seconds,
        metrics_for(settings),
    ) as counters:
        logger.info("rate_limit_storage", storage=counters.name)
        yield counters


@asynccontextmanager
async def running_services(
    settings: Settings,
    stores: StoresFactory,
    clock: Clock,
    monotonic: Callable[[], float],
    metadata: ServerMetadata,
    report_policy: ReportPolicy,
) -> AsyncIterator[Services]:
    """The composition root: open the stores and the counters, build the ``Services``
    over them, and run beside the requests what keeps them current (other processes'
    changes, the janitor) until the application stops."""
    issuer, audience = settings.issuer_url, settings.token_audience
    metrics = metrics_for(settings)
    async with stores(settings) as opened, counters_for(settings) as counters:
        caches = cached(
            opened.clients,
            opened.tokens,
            settings.cache_ttl_seconds,
            settings.cache_max_entries,
            metrics,
        )
        clients = caches.clients if caches else opened.clients
        tokens = caches.tokens if caches else opened.tokens
        audit_store = opened.audit or MemoryAuditStore()
        keys = KeyRing(
            opened.signing_keys or MemorySigningKeyStore(),
            clock,
            settings.key_encryption_key_bytes,
            settings.cache_ttl_seconds,
        )
        replays = opened.assertion_replays or MemoryAssertionReplayStore()
        key_sets = LazyClientKeySets(settings, monotonic)
        issuer_keys = LazyIssuerKeySets(settings, monotonic)
        validator = JwtAccessTokenValidator(keys, issuer)
        throttle = throttle_for(counters, clock, clients, settings, audit_store)
        services = Services(
            authorization=AuthorizationServer(
                clients,
                tokens,
                clock,
                TokenPolicy(
                    default_ttl_seconds=settings.access_token_ttl_seconds,
                    max_ttl_seconds=settings.max_access_token_ttl_seconds,
                ),
                JwtAccessTokens(keys, issuer, audience),
                issuer=issuer,
                audience=audience,
                # Uncached: a revocation by any process shows at the next request.
                introspected_tokens=opened.tokens,
                jwt_validator=validator,
                assertions=client_assertions(
                    settings,
                    metadata.token_endpoint,
                    clients,
                    replays,
                    opened.trust,
                    key_sets,
                    issuer_keys,
                ),
                audit=AuditTrail(audit_store, clock),
                throttle=throttle,
                metrics=metrics,
            ),
            guard=BearerGuard(
                StoreTokenVerifier(
                    tokens,
                    clock,
                    validator,
                    # RFC 9700 §2.3: a token meant for another API is refused here.
                    audience=settings.protected_api_audience,
                    accept_unrestricted=settings.api_audience is None,
                ),
                settings.realm,
            ),
            reports=ReportService(
                opened.reports,
                clock,
                report_policy,
                BlocklistCursors(cursor_key_of(settings, opened)),
                throttle,
            ),
            keys=keys,
            readiness=readiness_checks(opened, keys),
            throttle=throttle,
        )
        async with (
            opened.listen_for_changes(caches.on_change, caches.on_gap) if caches else nullcontext(),
            janitor(janitor_purges(tokens, replays, audit_store, settings), clock, settings),
        ):
            log_started(keys, settings)
            try:
                yield services
            finally:
                logger.info("application_stopping", pid=os.getpid())
                # The last uses of client secrets, written before the stores close.
                await services.authorization.secret_use.flush()
                await key_sets.aclose()
                await issuer_keys.aclose()


def create_app(
    settings: Settings,
    *,
    stores: StoresFactory = sql_stores,
    clock: Clock | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> Edge:
    """Build the application: OAuth endpoints, the guarded API, docs, health, and the
    middleware stack every request passes; its services are built when it starts
    (``running_services``).  ``clock`` tells the time of tokens, ``monotonic`` the
    intervals between fetches of clients' and trusted issuers' keys (tests move both)."""
    runtime = Runtime()
    report_policy = ReportPolicy.of(
        settings.platforms, settings.block_threshold, settings.block_min_clients
    )
    metadata = server_metadata(settings.issuer_url)
    warn_if_issuer_unset(settings)

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        async with running_services(
            settings, stores, clock or SystemClock(), monotonic, metadata, report_policy
        ) as services:
            with runtime.serving(services):
                yield

    api = FastAPI(
        title="Anti Grazer API",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # No 307 from "/path/" to "/path": Starlette builds its absolute Location from
        # the Host header, which the client chooses.  A trailing slash is a 404.
        redirect_slashes=False,
    )
    api.add_route("/health", health, methods=["GET"], include_in_schema=False)
    api.add_route(
        "/ready", readiness_endpoint(runtime.readiness), methods=["GET"], include_in_schema=False
    )
    api.include_router(build_reports_router(runtime.report_service, report_policy.platforms))
    install_fastapi_guard(api)
    install_metadata(api, metadata)
    install_docs(api)

    oauth = OAuthEndpoints(runtime.authorization_server, settings.realm)
    jwks = JwksEndpoint(runtime.key_ring, settings.jwks_max_age_seconds)
    # Every method reaches these; anything but POST (GET for the key set) gets a 405.
    app = Edge(
        api,
        {
            TOKEN_PATH: oauth.token,
            REVOKE_PATH: oauth.revoke,
            INTROSPECT_PATH: oauth.introspect,
            JWKS_PATH: jwks,
        },
    )
    app.add_middleware(RequestBodyLimits, body_limits(settings), settings.body_timeout_seconds)
    if settings.rate_limit_policy is not None:
        # Behind the guard: the token's client is known, and no body byte was read.
        app.add_middleware(RateLimitMiddleware, runtime.throttle, API_PREFIX)
    app.add_middleware(BearerAuthMiddleware, runtime.bearer_guard, API_PREFIX)
    app.add_middleware(AccessLogMiddleware, request_metrics(settings, app))
    app.add_middleware(SecurityHeadersMiddleware, API_PREFIX)
    return app
