"""The settings of JWT access tokens (settings.py): the issuer and audience, resolved when
unset, and the key-encryption key, validated without ever echoing it.  The issuer's own
checks are tests/test_issuer.py's."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from anti_grazer.settings import load_settings
from tests.jwt_helpers import KEK_BYTES, KEY_ENCRYPTION_KEY


def test_the_issuer_defaults_to_the_served_base_url() -> None:
    """For local use (issue 16 item 1): scheme, host and port the server listens on."""
    assert load_settings().issuer_url == "http://127.0.0.1:8000"
    assert load_settings(host="::1", port=9000).issuer_url == "http://[::1]:9000"


def test_a_configured_issuer_and_audience_win() -> None:
    settings = load_settings(issuer="https://auth.example/tenant", audience="urn:reports-api")
    assert settings.issuer_url == "https://auth.example/tenant"
    assert settings.token_audience == "urn:reports-api"


def test_the_audience_defaults_to_the_issuer() -> None:
    """RFC 9068 §2.2 ``aud`` (issue 16 item 3: "the audience setting, default the
    issuer")."""
    assert load_settings(issuer="https://auth.example").token_audience == ("https://auth.example")


def test_the_key_encryption_key_is_base64url_of_32_bytes() -> None:
    assert load_settings(key_encryption_key=KEY_ENCRYPTION_KEY).key_encryption_key_bytes == (
        KEK_BYTES
    )
    padded = load_settings(key_encryption_key=KEY_ENCRYPTION_KEY + "=")
    assert padded.key_encryption_key_bytes == KEK_BYTES
    assert load_settings().key_encryption_key_bytes is None


@pytest.mark.parametrize(
    "value",
    [
        "short",
        KEY_ENCRYPTION_KEY[:-1],  # 31 bytes and a bit
        KEY_ENCRYPTION_KEY + "AAAA",  # 35 bytes
        KEY_ENCRYPTION_KEY[:-1] + "+",  # base64, not base64url
        KEY_ENCRYPTION_KEY[:-1] + " ",
    ],
)
def test_a_bad_key_encryption_key_is_refused_without_being_echoed(value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        load_settings(key_encryption_key=value)
    message = str(refused.value)
    assert "key_encryption_key" in message
    assert "expected base64url of 32 random bytes" in message
    assert value.strip() not in message


def test_the_key_encryption_key_never_shows_in_a_repr() -> None:
    settings = load_settings(key_encryption_key=KEY_ENCRYPTION_KEY)
    assert KEY_ENCRYPTION_KEY not in repr(settings)
    assert KEY_ENCRYPTION_KEY not in str(settings.model_dump())


def test_the_api_audience_defaults_to_the_servers_audience() -> None:
    """RFC 8707 / RFC 9700 §2.3: the /v1 API's audience is API_AUDIENCE when set, else
    AUDIENCE (itself the issuer when unset)."""
    assert load_settings(issuer="https://auth.example").protected_api_audience == (
        "https://auth.example"
    )
    assert load_settings(audience="urn:reports").protected_api_audience == "urn:reports"
    configured = load_settings(audience="urn:reports", api_audience="https://api.example/v1")
    assert configured.protected_api_audience == "https://api.example/v1"
    assert configured.token_audience == "urn:reports"


@pytest.mark.parametrize("name", ["audience", "api_audience"])
def test_an_empty_audience_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="must not be empty"):
        load_settings(**{name: " "})
