"""A client of the Anti Grazer API that caches its tokens (RFC 6749 §4.4, RFC 6750):
``ClientCredentialsAuth`` for httpx (sync and async) and requests.

It imports nothing of the server: only the standard library, httpx and requests
(``pip install 'anti-grazer[client]'``)."""

from anti_grazer.client.auth import ClientCredentialsAuth
from anti_grazer.client.token_endpoint import TokenEndpointError

__all__ = ["ClientCredentialsAuth", "TokenEndpointError"]
