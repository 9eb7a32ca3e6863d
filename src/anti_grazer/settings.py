"""Every tunable of the server in one frozen pydantic-settings class (env prefix
``ANTI_GRAZER_``).  Build it with ``load_settings()``; there is no module-level instance."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/anti-grazer.db"


class Settings(BaseSettings):
    """Server settings; each field documents its default's reason."""

    model_config = SettingsConfigDict(env_prefix="ANTI_GRAZER_", frozen=True, extra="forbid")

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
    workers: int = Field(1, ge=1, description="uvicorn worker processes.")
    tls_cert_file: Path | None = Field(None, description="PEM certificate: serve HTTPS.")
    tls_key_file: Path | None = Field(None, description="PEM private key for tls_cert_file.")
    insecure_http: bool = Field(
        False,
        description="UNSAFE: allow plain HTTP on a non-loopback address (only behind a "
        "TLS-terminating proxy you trust).",
    )
    max_body_bytes: int = Field(
        16384, gt=0, description="Largest request body the OAuth endpoints read (413 beyond)."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field("info")

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("tls_cert_file and tls_key_file go together")
        if self.access_token_ttl_seconds > self.max_access_token_ttl_seconds:
            raise ValueError("access_token_ttl_seconds exceeds max_access_token_ttl_seconds")
        return self

    @property
    def tls_enabled(self) -> bool:
        return self.tls_cert_file is not None


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (CLI flags, tests) on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
