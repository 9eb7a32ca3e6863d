"""Every tunable of the server in one frozen pydantic-settings class (env prefix
``ANTI_GRAZER_``).  Build it with ``load_settings()``; there is no module-level instance."""

from __future__ import annotations

import binascii
import re
from base64 import urlsafe_b64decode
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from anti_grazer.issuer import check_issuer, served_base_url
from anti_grazer.protocol.lockout import LockoutPolicy
from anti_grazer.protocol.models import LIMIT_NAMES
from anti_grazer.protocol.rate_limits import RateLimitPolicy

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/anti-grazer.db"
DEFAULT_PLATFORMS = ("facebook", "x", "instagram", "linkedin", "tiktok")
PLATFORM_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
# A MAC key shorter than its hash's output (SHA-256: 32 bytes) weakens it (RFC 2104 §3).
CURSOR_KEY_MIN_LENGTH = 32
# AES-256-GCM's key: base64url of 32 bytes is 43 characters (44 with its "=").
KEY_ENCRYPTION_KEY_BYTES = 32
_BASE64URL = re.compile(r"[A-Za-z0-9_-]{43}=?")
# The counters of the rate limits and the lockout: in process, or in Redis.
MEMORY_COUNTERS_URL = "memory://"
REDIS_SCHEMES = ("redis", "rediss", "unix")


def decode_key_encryption_key(text: str) -> bytes:
    """The 32 bytes of a base64url key-encryption key (RFC 4648 §5, padding optional),
    or ``ValueError`` (its message never echoes the value)."""
    if not _BASE64URL.fullmatch(text.strip()):
        raise ValueError("expected base64url of 32 random bytes (43 characters)")
    try:
        key = urlsafe_b64decode(text.strip().rstrip("=") + "=")
    except (binascii.Error, ValueError):
        raise ValueError("expected base64url of 32 random bytes (43 characters)") from None
    if len(key) != KEY_ENCRYPTION_KEY_BYTES:
        raise ValueError("expected base64url of 32 random bytes (43 characters)")
    return key


class Settings(BaseSettings):
    """Server settings; each field documents its default's reason."""

    # A refused value is not echoed in the error: it may be a secret (cursor_key, or the
    # password in database_url).
    model_config = SettingsConfigDict(
        env_prefix="ANTI_GRAZER_", frozen=True, extra="forbid", hide_input_in_errors=True
    )

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy async URL. SQLite (a file, WAL) runs everything with no "
        "service; postgresql+asyncpg://... for several workers or instances.",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL",
        description="SQLite durability: FULL survives power loss, NORMAL only a process crash.",
    )
    access_token_ttl_seconds: int = Field(
        3600, gt=0, description="Default access token lifetime (the seed: one hour)."
    )
    max_access_token_ttl_seconds: int = Field(
        86400, gt=0, description="No client's token lives longer than this, whatever its own TTL."
    )
    realm: str = Field(
        "anti-grazer", pattern=r'^[^"\\\x00-\x1f]+$', description="WWW-Authenticate realm."
    )
    host: str = Field("127.0.0.1", description="Listen address; loopback unless TLS is on.")
    port: int = Field(8000, ge=0, le=65535, description="Listen port.")
    tls_cert_file: Path | None = Field(None, description="PEM certificate: serve HTTPS.")
    tls_key_file: Path | None = Field(None, description="PEM private key for tls_cert_file.")
    insecure_http: bool = Field(
        False,
        description="UNSAFE: allow plain HTTP on a non-loopback address (only behind a "
        "TLS-terminating proxy you trust).",
    )
    workers: int = Field(1, ge=1, description="Worker processes.")
    metrics_host: str = Field(
        "127.0.0.1",
        description="Listen address of the Prometheus metrics (GET /metrics), apart from "
        "the public port; loopback by default: the metrics name registered client ids.",
    )
    metrics_port: int = Field(
        9464,
        ge=0,
        le=65535,
        description="Listen port of the Prometheus metrics; 0: no metrics at all (nothing "
        "counted, nothing listening).",
    )
    issuer: str | None = Field(
        None,
        description="The authorization server's issuer identifier (RFC 8414 §2), as clients "
        "reach it: an https URL with no query or fragment (https://auth.example.com); "
        "http only for a loopback host. It names the server in its metadata and in "
        "introspection responses. Unset: the listen address, http(s)://HOST:PORT, which "
        "suits local use only; production must set it.",
    )
    max_body_bytes: int = Field(
        16384, gt=0, description="Largest request body the OAuth endpoints read (413 beyond)."
    )
    max_api_body_bytes: int = Field(
        65536,
        gt=0,
        description="Largest request body every other route reads, /v1 included (413 beyond).",
    )
    body_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="The whole request body must arrive within this time of the first read "
        "(408 and the connection closed beyond): a stalled body holds nothing for long.",
    )
    shutdown_timeout_seconds: float = Field(
        25.0,
        gt=0,
        description="On SIGTERM or SIGINT, how long requests in flight may take to finish "
        "before they are cancelled and the server stops (below the usual 30 s a supervisor "
        "waits before SIGKILL).",
    )
    head_timeout_seconds: float = Field(
        10.0,
        ge=0.001,
        le=60,
        description="A connection must send a complete request head within this time of "
        "opening or of its previous response, else it is closed: the same timer closes an "
        "idle keep-alive connection.",
    )
    max_header_bytes: int = Field(
        16384,
        ge=8192,
        description="Largest request head (request line and headers): 431 and closed beyond.",
    )
    max_connections: int = Field(
        1000,
        ge=1,
        description="Connections each worker serves at once; more wait in the listen backlog "
        "until one closes.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field("info")
    cache_ttl_seconds: float = Field(
        1.0,
        ge=0,
        description="How long a client or token record read from the database is served "
        "from memory. Changes made through this process are seen at once; this bounds how "
        "late one made by another worker, instance or the CLI is seen (PostgreSQL "
        "notifications usually make it immediate). 0 turns the caches off.",
    )
    cache_max_entries: int = Field(
        100_000,
        ge=1,
        description="Most records each cache holds (about 1 KiB each); the client cache "
        "also remembers as many unknown client ids, apart (about 0.3 KiB each).",
    )
    purge_interval_seconds: float = Field(
        3600,
        ge=0,
        description="How often the server deletes expired tokens (0: never; then run "
        "'anti-grazer tokens purge-expired' yourself).",
    )
    purge_batch_size: int = Field(
        1000, ge=1, description="Expired tokens deleted per transaction by the janitor."
    )
    audit_retention_days: int = Field(
        365,
        ge=1,
        description="Audit events older than this are deleted by the janitor (every "
        "PURGE_INTERVAL_SECONDS).",
    )
    block_threshold: int = Field(
        5,
        ge=1,
        description="Distinct reporters (a reporter is a client's reporter_id) that block a "
        "profile for everyone. Only an operator lifts a block ('profiles unblock'); a later "
        "change applies from a profile's next report.",
    )
    block_min_clients: int = Field(
        1,
        ge=1,
        description="Distinct clients the reporters of a profile must come through before "
        "it is blocked: above 1, no single client can block a profile by itself, whatever "
        "reporter ids it sends.",
    )
    platforms: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_PLATFORMS,
        description="The social networks reports may name (lower-case names; in the "
        "environment, comma-separated: ANTI_GRAZER_PLATFORMS=facebook,x).",
    )
    cursor_key: SecretStr | None = Field(
        None,
        description="Secret key (at least 32 characters) of the MAC that authenticates "
        "blocklist cursors. Unset: a random key is generated once and kept in the database, "
        "so every worker and instance on it shares it. Never logged nor shown in a repr.",
    )

    audience: str | None = Field(
        None,
        description="The server's default audience: the aud claim of JWT access tokens "
        "(RFC 9068 §2.2) of clients registered without audiences that ask for none, and "
        "the one resource (RFC 8707) such a client may ask for; resource servers check "
        "it. Unset: the issuer.",
    )
    api_audience: str | None = Field(
        None,
        description="The audience of the server's own /v1 API (RFC 8707, RFC 9700 §2.3): "
        "a token must name it, and a token without any audience (an opaque token of a "
        "client registered without audiences) is refused. Unset: tokens restricted to "
        "other audiences are refused, and the API's audience is AUDIENCE's value, while "
        "tokens without any audience are accepted, as they were before audiences existed.",
    )
    key_encryption_key: SecretStr | None = Field(
        None,
        description="base64url of 32 random bytes: the AES-256-GCM key that seals the "
        "private signing keys in the database. Needed to create signing keys and to issue "
        "JWT access tokens; the same on every instance. Never logged nor shown in a repr.",
    )
    rate_limits_enabled: bool = Field(
        True,
        description="Count each client's API requests and token requests against its "
        "limits (the RATE_LIMIT_* defaults, or its own: 'anti-grazer clients limits'). "
        "false: nothing is counted, no RateLimit fields are sent.",
    )
    rate_limit_storage: SecretStr = Field(
        SecretStr(MEMORY_COUNTERS_URL),
        description="Where the rate limits' and lockout's counters live: memory:// (this "
        "process: one worker, one instance), or redis://[:password@]host:port/db "
        "(rediss:// with TLS, unix:///path.sock) shared by every worker and instance. "
        "Logged without its user and password.",
    )
    rate_limit_storage_timeout_seconds: float = Field(
        0.5,
        gt=0,
        description="Each Redis command must answer within this time; past it, or when "
        "Redis cannot be reached, requests are served uncounted (fail open).",
    )
    rate_limit_requests_per_hour: int = Field(
        1000, ge=0, description="API (/v1) requests a client may make per hour (0: no limit)."
    )
    rate_limit_burst_per_minute: int = Field(
        100, ge=0, description="API (/v1) requests a client may make per minute (0: no limit)."
    )
    rate_limit_tokens_per_hour: int = Field(
        100, ge=0, description="Tokens a client may be issued per hour (0: no limit)."
    )
    rate_limit_tokens_per_day: int = Field(
        1000, ge=0, description="Tokens a client may be issued per day (0: no limit)."
    )
    rate_limit_new_reporters_per_day: int = Field(
        1000,
        ge=0,
        description="Reporters a client may name for the first time per day (0: no limit): "
        "past it, a report from a new reporter_id is refused (429) and its known reporters "
        "still report, so that no client invents reporters to block profiles alone.",
    )
    rate_limit_log_only: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(),
        description="Limits only counted and logged (rate_limit_exceeded), never refused, "
        "for clients that do not enforce them themselves: how a limit is rolled out. In "
        "the environment, comma-separated: tokens_per_hour,burst_per_minute.",
    )
    lockout_failures: int = Field(
        5,
        ge=0,
        description="Failed authentications of one client id from one address that lock "
        "that id out from that address (0: no lockout).",
    )
    lockout_address_failures: int = Field(
        20,
        ge=1,
        description="Failed authentications from one address, whatever the client ids, "
        "that lock the address out.",
    )
    lockout_window_seconds: int = Field(
        900, ge=1, description="Failures count for this long after the first."
    )
    lockout_seconds: int = Field(
        60,
        ge=1,
        description="The first lockout; each further failure within the window doubles it.",
    )
    lockout_max_seconds: int = Field(900, ge=1, description="No lockout lasts longer.")
    jwks_max_age_seconds: int = Field(
        300,
        ge=0,
        description="How long verifiers may cache GET /oauth/jwks (Cache-Control max-age); "
        "a new key is activated only this long (plus CACHE_TTL_SECONDS) after its creation.",
    )

    client_assertion_max_lifetime_seconds: int = Field(
        300,
        ge=1,
        le=3600,
        description="How far ahead the exp of a private_key_jwt client assertion may be "
        "(RFC 7523 §3): its jti is remembered until then, in the database.",
    )
    client_jwks_timeout_seconds: float = Field(
        5.0,
        gt=0,
        description="The most one fetch of a client's jwks_uri may take; a client whose "
        "keys cannot be fetched in time gets invalid_client.",
    )
    client_jwks_refresh_interval_seconds: float = Field(
        30.0,
        ge=0,
        description="A client's jwks_uri is fetched again on an unknown kid at most this "
        "often (a flood of unknown kids costs its server one request per interval).",
    )
    client_jwks_max_age_seconds: float = Field(
        300.0,
        ge=0,
        description="How long keys fetched from a client's jwks_uri are used before they "
        "are fetched again (a key the client withdraws stops working within this time).",
    )
    federated_token_max_age_seconds: int = Field(
        3600,
        gt=0,
        description="Workload identity federation: the oldest platform token (by its iat) "
        "that authenticates a bound client. A Kubernetes service-account token is valid "
        "for an hour and may be presented again and again within it; a token without iat "
        "is refused.",
    )
    federation_timeout_seconds: float = Field(
        5.0,
        gt=0,
        le=60,
        description="Workload identity federation: the longest a trusted issuer's discovery "
        "document or key set may take to arrive; an issuer that does not answer in time "
        "fails its workloads' token requests (401 invalid_client) after this long.",
    )

    @field_validator("audience", "api_audience")
    @classmethod
    def _check_audience(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("key_encryption_key")
    @classmethod
    def _check_key_encryption_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_key_encryption_key(value.get_secret_value())
        return value

    @field_validator("cursor_key")
    @classmethod
    def _check_cursor_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < CURSOR_KEY_MIN_LENGTH:
            raise ValueError(f"at least {CURSOR_KEY_MIN_LENGTH} characters are needed")
        return value

    @field_validator("issuer", mode="before")
    @classmethod
    def _blank_issuer_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("issuer")
    @classmethod
    def _check_issuer(cls, value: str | None) -> str | None:
        return None if value is None else check_issuer(value)

    @field_validator("rate_limit_log_only", mode="before")
    @classmethod
    def _split_limit_names(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(name.strip() for name in value.split(",") if name.strip())
        return value

    @field_validator("rate_limit_log_only")
    @classmethod
    def _check_limit_names(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = sorted(value - set(LIMIT_NAMES))
        if unknown:
            raise ValueError(f"unknown limits {unknown}: the limits are {', '.join(LIMIT_NAMES)}")
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _check_rate_limit_storage(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if url != MEMORY_COUNTERS_URL and urlsplit(url).scheme not in REDIS_SCHEMES:
            raise ValueError("expected memory:// or a Redis URL (redis://, rediss:// or unix://)")
        return value

    @field_validator("platforms", mode="before")
    @classmethod
    def _split_platforms(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(name.strip() for name in value.split(",") if name.strip())
        return value

    @field_validator("platforms")
    @classmethod
    def _check_platforms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one platform is needed")
        for name in value:
            if not PLATFORM_NAME_PATTERN.fullmatch(name):
                raise ValueError(f"invalid platform name {name!r} (a-z, 0-9, _ or -, ≤ 32)")
        if len(set(value)) != len(value):
            raise ValueError("platforms are listed more than once")
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file go together")
        if self.access_token_ttl_seconds > self.max_access_token_ttl_seconds:
            raise ValueError("access_token_ttl_seconds exceeds max_access_token_ttl_seconds")
        if self.lockout_seconds > self.lockout_max_seconds:
            raise ValueError("lockout_seconds exceeds lockout_max_seconds")
        return self

    @property
    def rate_limit_storage_url(self) -> str | None:
        """The Redis URL the counters live in, or None for this process's memory."""
        url = self.rate_limit_storage.get_secret_value()
        return None if url == MEMORY_COUNTERS_URL else url

    @property
    def rate_limit_policy(self) -> RateLimitPolicy | None:
        """The default limits of every client, or None when rate limits are off."""
        if not self.rate_limits_enabled:
            return None
        return RateLimitPolicy(
            tokens_per_hour=self.rate_limit_tokens_per_hour,
            tokens_per_day=self.rate_limit_tokens_per_day,
            requests_per_hour=self.rate_limit_requests_per_hour,
            burst_per_minute=self.rate_limit_burst_per_minute,
            new_reporters_per_day=self.rate_limit_new_reporters_per_day,
            log_only=self.rate_limit_log_only,
        )

    @property
    def lockout_policy(self) -> LockoutPolicy | None:
        """When failed client authentications lock out, or None when they never do."""
        if self.lockout_failures == 0:
            return None
        return LockoutPolicy(
            failures=self.lockout_failures,
            address_failures=self.lockout_address_failures,
            window_seconds=self.lockout_window_seconds,
            lock_seconds=self.lockout_seconds,
            max_lock_seconds=self.lockout_max_seconds,
        )

    @property
    def tls_enabled(self) -> bool:
        return self.tls_cert_file is not None

    @property
    def metrics_enabled(self) -> bool:
        """Prometheus metrics are counted and served (``METRICS_PORT`` is not 0)."""
        return self.metrics_port != 0

    @property
    def issuer_url(self) -> str:
        """The issuer identifier in use: ``issuer``, else the served base URL from the
        listen settings (never from a request's Host header: ``anti_grazer.issuer``)."""
        return self.issuer or served_base_url(self.host, self.port, self.tls_enabled)

    @property
    def token_audience(self) -> str:
        """The ``aud`` of JWT access tokens: ``audience`` when set, else the issuer."""
        return self.audience if self.audience is not None else self.issuer_url

    @property
    def protected_api_audience(self) -> str:
        """The audience the /v1 API accepts: ``api_audience`` when set, else the
        server's default audience (``token_audience``)."""
        return self.api_audience if self.api_audience is not None else self.token_audience

    @property
    def key_encryption_key_bytes(self) -> bytes | None:
        """The key-encryption key's 32 bytes, or None when it is not set."""
        if self.key_encryption_key is None:
            return None
        return decode_key_encryption_key(self.key_encryption_key.get_secret_value())


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (CLI flags, tests) on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
