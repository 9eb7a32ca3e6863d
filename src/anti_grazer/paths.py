"""URL paths as the edge matches them."""

from __future__ import annotations


def is_under(path: str, prefix: str) -> bool:
    """True for ``prefix`` itself and every path below it (``/v1``, ``/v1/x``; never
    ``/v10``).  ``prefix`` has no trailing slash."""
    return path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/")
