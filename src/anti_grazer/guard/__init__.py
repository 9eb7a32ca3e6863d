"""Resource-server guard (RFC 6750): framework-free core and FastAPI/Starlette adapters."""
