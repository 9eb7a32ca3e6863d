"""The issuer identifier setting (RFC 8414 §2): an https URL with no query or fragment,
http only on loopback; unset, the listen address stands in (never the Host header)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from anti_grazer.settings import load_settings


@pytest.mark.parametrize(
    "issuer",
    [
        "https://auth.example.com",
        "https://auth.example.com/",
        "https://auth.example.com:8443/tenant/a",
        "https://auth.example.com/Tenant-1.eu_west~2/",
        "http://localhost:8000",
        "http://127.0.0.1:8000",
        "http://[::1]:8000",
    ],
)
def test_an_issuer_identifier_is_kept_as_given(issuer: str) -> None:
    """§2: an https URL, a path allowed; http for a loopback host (local use).  The value
    is used exactly as configured: clients compare issuers as strings (§3.3)."""
    settings = load_settings(issuer=issuer)
    assert settings.issuer == issuer
    assert settings.issuer_url == issuer


@pytest.mark.parametrize(
    ("issuer", "reason"),
    [
        ("http://auth.example.com", "must use https"),
        ("http://10.0.0.5:8000", "must use https"),
        ("https://auth.example.com?tenant=a", "no query or fragment"),
        ("https://auth.example.com/?", "no query or fragment"),
        ("https://auth.example.com#top", "no query or fragment"),
        ("auth.example.com", "absolute https:// URL"),
        ("/oauth", "absolute https:// URL"),
        ("ftp://auth.example.com", "absolute https:// URL"),
        ("HTTPS://auth.example.com", "absolute https:// URL"),
        ("https://user:secret@auth.example.com", "no credentials"),
        ("https://auth.example.com/{tenant}", "only letters, digits"),
        ("https://auth.example.com/a%20b", "only letters, digits"),
        ("https://auth.example.com/a;b", "only letters, digits"),
        ("https://", "must name a host"),
        ("https://auth.example.com:99999", "not a valid URL"),
        ("https://[::1", "not a valid URL"),
        ("https://auth example.com", "printable ASCII"),
        ("https://auth.exämple.com", "printable ASCII"),
    ],
)
def test_anything_else_is_refused_without_echoing_it(issuer: str, reason: str) -> None:
    """§2: "a URL that uses the https scheme and has no query or fragment components"."""
    with pytest.raises(ValidationError) as raised:
        load_settings(issuer=issuer)
    assert reason in str(raised.value)
    assert "input_value" not in str(raised.value)


def test_the_environment_sets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTI_GRAZER_ISSUER", "https://auth.example.com")
    assert load_settings().issuer_url == "https://auth.example.com"
    monkeypatch.setenv("ANTI_GRAZER_ISSUER", " ")
    assert load_settings().issuer is None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"host": "localhost", "port": 80}, "http://localhost"),
        ({"host": "::1", "port": 9000}, "http://[::1]:9000"),
        (
            {"host": "10.0.0.5", "port": 443, "tls_cert_file": "c.pem", "tls_key_file": "k.pem"},
            "https://10.0.0.5",
        ),
        (
            {"host": "10.0.0.5", "port": 8443, "tls_cert_file": "c.pem", "tls_key_file": "k.pem"},
            "https://10.0.0.5:8443",
        ),
    ],
)
def test_unset_the_listen_address_stands_in(overrides: dict[str, object], expected: str) -> None:
    """Local use: the served base URL from the settings, with the scheme TLS gives it."""
    settings = load_settings(**overrides)
    assert settings.issuer is None
    assert settings.issuer_url == expected
