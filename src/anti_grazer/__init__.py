"""Anti Grazer API: an OAuth 2.0 client-credentials authorization server (RFC 6749 §4.4,
RFC 6750, RFC 7009) and the grazer-reports API it protects."""

__version__ = "0.1.0"
