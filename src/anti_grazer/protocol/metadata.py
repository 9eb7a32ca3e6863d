"""Authorization server metadata (RFC 8414 §2): what a client or resource server learns
of this server without being told, in one document built from what the code enforces.

Every member is here, so an extension is one field and one line.  RFC 8414 defines no
member for the algorithms that sign JWT access tokens (its
``*_signing_alg_values_supported`` are for client assertions and other documents), so
they are the extension member ``access_token_signing_alg_values_supported`` (§2 allows
additional members); each key at ``jwks_uri`` also names its own ``alg`` (RFC 7517
§4.4), which is what verifiers use.

``response_types_supported`` is ``[]``: §2 makes the member REQUIRED, but
this server has no authorization endpoint, so it supports no response type.  §3.2 would
have a member with no element left out; a present, empty list keeps the REQUIRED member
that typed clients expect, and is the truth."""

from __future__ import annotations

from dataclasses import dataclass

from anti_grazer.protocol.client_auth import AuthMethod
from anti_grazer.protocol.jwk_set import CLIENT_ASSERTION_ALGORITHMS
from anti_grazer.protocol.models import SIGNING_ALGORITHMS
from anti_grazer.protocol.server import SUPPORTED_GRANT_TYPES

Document = dict[str, str | list[str]]


@dataclass(frozen=True, slots=True)
class ServerMetadata:
    """The metadata of one issuer: its identifier, its endpoints' absolute URLs and the
    scopes it advertises (§2: a server MAY leave some out)."""

    issuer: str
    token_endpoint: str
    revocation_endpoint: str
    introspection_endpoint: str
    jwks_uri: str
    scopes_supported: tuple[str, ...]
    service_documentation: str | None = None

    def document(self) -> Document:
        """The JSON object of §3.2.  The three endpoints authenticate clients alike
        (``client_auth``), so each lists the same methods, exactly those enforced, and
        the same algorithms of ``private_key_jwt`` assertions (§2: REQUIRED with it)."""
        auth_methods = [method.value for method in AuthMethod]
        assertion_algs = list(CLIENT_ASSERTION_ALGORITHMS)
        document: Document = {
            "issuer": self.issuer,
            "token_endpoint": self.token_endpoint,
            "token_endpoint_auth_methods_supported": auth_methods,
            "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
            "revocation_endpoint": self.revocation_endpoint,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
            "introspection_endpoint": self.introspection_endpoint,
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
            "jwks_uri": self.jwks_uri,
            "access_token_signing_alg_values_supported": list(SIGNING_ALGORITHMS),
            "grant_types_supported": sorted(SUPPORTED_GRANT_TYPES),
            "response_types_supported": [],
        }
        if self.scopes_supported:  # §3.2: a member with no element is left out
            document["scopes_supported"] = list(self.scopes_supported)
        if self.service_documentation is not None:
            document["service_documentation"] = self.service_documentation
        return document
