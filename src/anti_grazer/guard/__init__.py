"""Resource-server guard (RFC 6750): framework-free core, FastAPI/Starlette adapters, and
verifiers of tokens by our token store or, for APIs that do not share it, by asking the
authorization server (RFC 7662 introspection, RFC 9068 JWTs with its published keys)."""
