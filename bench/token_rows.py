"""The growth benchmark's table filling: realistic ``access_tokens`` rows, live or
expired, written straight into the SQLite file with stdlib ``sqlite3`` (as the server
would have issued them over time), and the checks that they look like the server's own.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from anti_grazer.protocol.tokens import access_token_digest, generate_access_token
from bench.runner import TOKEN_SCOPE, log

INSERT_BATCH = 50_000
LIVE_MIN_SECONDS = 300  # live rows expire 5 min ...
LIVE_MAX_SECONDS = 86_400  # ... to 24 h from now (the max token lifetime)
EXPIRED_MIN_SECONDS = 60  # expired rows expired 1 min ...
EXPIRED_MAX_SECONDS = 30 * 86_400  # ... to 30 days ago
TOKEN_TTL_SECONDS = 3600
REVOKED_SHARE = 0.01
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
SQLITE_DATETIME_PATTERN = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")


def connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=60, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=60000")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


def count_tokens(path: Path) -> int:
    with connect(path) as connection:
        (count,) = connection.execute("SELECT count(*) FROM access_tokens").fetchone()
    connection.close()
    return int(count)


def check_datetime_format(path: Path) -> str:
    """The server's own rows must look like ours: naive UTC 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    connection = connect(path)
    try:
        row = connection.execute(
            "SELECT issued_at, expires_at FROM access_tokens ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
    finally:
        connection.close()
    if row is None:
        raise RuntimeError("no server-written token row to compare the format with")
    for value in row:
        if not isinstance(value, str) or not SQLITE_DATETIME_PATTERN.match(value):
            raise RuntimeError(f"unexpected stored datetime {value!r}: update bench/token_rows.py")
    return str(row[1])


def uniform(low: float, high: float) -> float:
    return low + (high - low) * (int.from_bytes(os.urandom(4)) / 2**32)


def token_rows(
    client_id: str, count: int, *, expired: bool, now: float
) -> Iterator[tuple[str, str, str, str, str, str | None]]:
    """``count`` realistic rows in the order the server would have issued them, each under
    the key of a token issued at its issue time (``access_token_digest``).  Live rows were
    issued in the last 24 hours and expire in 5 minutes to 24 hours; expired rows expired 1
    minute to 30 days ago, an hour after they were issued."""
    times = []
    for _ in range(count):
        if expired:
            expires = uniform(now - EXPIRED_MAX_SECONDS, now - EXPIRED_MIN_SECONDS)
            times.append((expires - TOKEN_TTL_SECONDS, expires))
        else:
            times.append(
                (
                    uniform(now - LIVE_MAX_SECONDS, now),
                    uniform(now + LIVE_MIN_SECONDS, now + LIVE_MAX_SECONDS),
                )
            )
    times.sort()
    utc = dt.UTC
    for issued_at, expires_at in times:
        issued = dt.datetime.fromtimestamp(issued_at, utc)
        revoked = (
            dt.datetime.fromtimestamp(min(issued_at + 60, now), utc).strftime(SQLITE_DATETIME)
            if int.from_bytes(os.urandom(2)) < REVOKED_SHARE * 2**16
            else None
        )
        yield (
            access_token_digest(generate_access_token(issued)),
            client_id,
            TOKEN_SCOPE,
            issued.strftime(SQLITE_DATETIME),
            dt.datetime.fromtimestamp(expires_at, utc).strftime(SQLITE_DATETIME),
            revoked,
        )


def insert_tokens(path: Path, client_id: str, count: int, *, expired: bool) -> float:
    """Insert ``count`` rows in batches (one transaction each); seconds taken."""
    kind = "expired" if expired else "live"
    log(f"inserting {count:,} {kind} token rows into {path.name}")
    started = time.monotonic()
    connection = connect(path)
    try:
        rows = token_rows(client_id, count, expired=expired, now=time.time())
        done = 0
        while done < count:
            batch = [next(rows) for _ in range(min(INSERT_BATCH, count - done))]
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(
                "INSERT INTO access_tokens "
                "(digest, client_id, scope, issued_at, expires_at, revoked_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                batch,
            )
            connection.execute("COMMIT")
            done += len(batch)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    seconds = time.monotonic() - started
    log(f"inserted {count:,} {kind} rows in {seconds:.1f}s")
    return seconds
