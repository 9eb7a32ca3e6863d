"""``ClientCredentialsAuth`` as built: its ``repr`` names the client and never the
secret; settings that would leak the secret or mean nothing are refused."""

from __future__ import annotations

import pytest

from anti_grazer.client import ClientCredentialsAuth


def test_repr_names_the_client_only() -> None:
    auth = ClientCredentialsAuth(
        "https://as.example/oauth/token", "ag_ci_x", "ag_cs_s3cr3t", scope="profiles:read"
    )
    assert repr(auth) == (
        "ClientCredentialsAuth(token_url='https://as.example/oauth/token', "
        "client_id='ag_ci_x', scope='profiles:read', auth_method='client_secret_basic')"
    )


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("http://as.example/oauth/token", {}),  # RFC 6749 §2.3.1: TLS for the secret
        ("https://as.example/oauth/token", {"timeout_seconds": 0}),
        ("https://as.example/oauth/token", {"leeway_seconds": -1}),
    ],
)
def test_the_constructor_refuses_unsafe_or_meaningless_settings(
    url: str, options: dict[str, float]
) -> None:
    with pytest.raises(ValueError, match=r"https|seconds"):
        ClientCredentialsAuth(url, "ag_ci_x", "ag_cs_s3cr3t", **options)  # type: ignore[arg-type]
