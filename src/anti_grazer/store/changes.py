"""What a change announcement names, so that every process drops what it cached of it:
a token (by digest), a client (by id), or every token of a client (by its id).  Announced
by the PostgreSQL adapter (``store.postgres.notify``), heard by the caches
(``store.cache``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

TOKEN = "token"  # noqa: S105 - a change kind
CLIENT = "client"
CLIENT_TOKENS = "client-tokens"

# on_change(kind, key) for each announced change; on_gap() when some may have been missed.
OnChange = Callable[[str, str], None]
OnGap = Callable[[], None]
# A database's announcements, delivered while the context is open (nothing, on SQLite).
ListenForChanges = Callable[[OnChange, OnGap], AbstractAsyncContextManager[None]]
