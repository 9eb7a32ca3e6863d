"""No token or secret leaks into logs or the database (DESIGN.md §4.1, §4.2, §4.8; the
seed: "Never expose tokens in URLs, logs, or other insecure locations"; RFC 6749 §10.3,
§10.12 / RFC 6819 §5.1.4.1.3: store only hashes of credentials)."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from secrets import token_bytes
from typing import Any

import httpx
from sqlalchemy import MetaData, select
from sqlalchemy.engine import make_url

from anti_grazer.protocol.models import TokenRecord
from anti_grazer.protocol.tokens import access_token_digest, client_secret_digest
from anti_grazer.settings import Settings
from anti_grazer.store.memory import MemoryTokenStore, memory_stores
from anti_grazer.store.memory_reports import MemoryReportStore
from anti_grazer.store.runtime import OpenedStores
from anti_grazer.store.sql.engine import is_sqlite
from tests.clock import FrozenClock
from tests.http_helpers import (
    FORM,
    INTROSPECT,
    PROFILE,
    REVOKE,
    TOKEN,
    assert_oauth_error,
    basic,
    bearer,
)
from tests.support import (
    Registered,
    Stores,
    create_app,
    log_events,
    register,
    running,
    settings_for,
)

REPORTS = "/v1/reports"


@dataclass(frozen=True)
class Sent:
    """What one request should log: its access line's fields."""

    method: str
    path: str
    status: int
    client_id: str | None


async def exercise(
    http: httpx.AsyncClient, registered: Registered, other: Registered
) -> tuple[list[Sent], set[str], list[str]]:
    """Successful and malformed requests that carry credentials everywhere they should
    not. Returns the expected access lines, every sensitive string, the issued tokens."""
    cid, secret = registered.client_id, registered.secret
    good_basic = basic(cid, secret)
    form = {"Content-Type": FORM}
    expected: list[Sent] = []
    tokens: list[str] = []

    async def send(
        method: str,
        url: str,
        status: int,
        content: bytes = b"",
        headers: dict[str, str] | None = None,
        client_id: str | None = None,
        logged_path: str | None = None,
    ) -> httpx.Response:
        response = await http.request(method, url, content=content, headers=headers or {})
        assert response.status_code == status, (url, response.text)
        path = logged_path if logged_path is not None else url.split("?", 1)[0]
        expected.append(Sent(method, path, status, client_id))
        return response

    grant = b"grant_type=client_credentials"
    issued = await send("POST", TOKEN, 200, grant, {**form, "Authorization": good_basic}, cid)
    tokens.append(issued.json()["access_token"])
    body_auth = f"grant_type=client_credentials&client_id={cid}&client_secret={secret}"
    issued = await send("POST", TOKEN, 200, body_auth.encode(), form, cid)
    tokens.append(issued.json()["access_token"])
    other_issued = await send(
        "POST",
        TOKEN,
        200,
        grant,
        {**form, "Authorization": basic(other.client_id, other.secret)},
        other.client_id,
    )
    tokens.append(other_issued.json()["access_token"])
    first, second, others = tokens

    # Revocations carry the token in the body; one by another client is refused.
    await send(
        "POST", REVOKE, 200, f"token={second}".encode(), {**form, "Authorization": good_basic}, cid
    )
    await send(
        "POST",
        REVOKE,
        400,
        f"token={first}".encode(),
        {**form, "Authorization": basic(other.client_id, other.secret)},
        other.client_id,
    )
    await send(
        "POST",
        REVOKE,
        200,
        f"token={others}&client_id={other.client_id}&client_secret={other.secret}".encode(),
        form,
        other.client_id,
    )

    # Introspection carries the token in the body too, whoever asks; never in the URL.
    await send(
        "POST",
        INTROSPECT,
        200,
        f"token={first}".encode(),
        {**form, "Authorization": good_basic},
        cid,
    )
    await send(
        "POST",
        INTROSPECT,
        200,
        f"token={first}&client_id={other.client_id}&client_secret={other.secret}".encode(),
        form,
        other.client_id,
    )
    await send(
        "POST", f"{INTROSPECT}?token={first}", 400, b"", {**form, "Authorization": good_basic}
    )

    # Authenticated, then refused: the line still names the client.
    await send(
        "POST", TOKEN, 400, grant + b"&scope=nope", {**form, "Authorization": good_basic}, cid
    )

    # The API: a valid bearer token names its client, even when its scope falls short
    # (the tokens carry profiles:read only); a revoked one, or one in the URL, names none.
    await send("GET", PROFILE, 200, b"", bearer(first), cid)
    report = b'{"platform":"facebook","profile_id":"x","reporter_id":"u"}'
    json_type = {"Content-Type": "application/json"}
    await send("POST", REPORTS, 403, report, {**json_type, **bearer(first)}, cid)
    await send("GET", PROFILE, 401, b"", bearer(second))
    await send("GET", f"{PROFILE}?access_token={first}", 400, b"")

    # Malformed credentials, each holding the real secret.
    raw_basic = f"Basic {cid}:{secret}"
    unknown_id = basic("ag_ci_unknown", secret)
    swapped = basic(secret, cid)
    await send("POST", TOKEN, 401, grant, {**form, "Authorization": raw_basic})
    await send("POST", TOKEN, 401, grant, {**form, "Authorization": unknown_id})
    await send("POST", TOKEN, 401, grant, {**form, "Authorization": swapped})
    await send("POST", TOKEN, 401, grant, {**form, **bearer(first)})
    await send("POST", TOKEN, 400, body_auth.encode(), {**form, "Authorization": good_basic})
    await send("POST", TOKEN, 400, (body_auth + f"&client_secret={secret}").encode(), form)
    await send("POST", TOKEN, 400, body_auth.encode() + b"&x=\xff", form)
    await send("POST", TOKEN, 400, body_auth.encode(), {"Content-Type": "application/json"})
    await send(
        "POST",
        TOKEN,
        400,
        grant,
        {**form, "Authorization": good_basic, "Content-Length": f"{secret}"},
    )
    # Secrets and tokens in the URL: the query is refused and never logged; a token in
    # the path is redacted from the logged path.
    await send("POST", f"{TOKEN}?client_id={cid}&client_secret={secret}", 400, grant, form)
    await send("POST", f"{REVOKE}?token={first}", 400, b"", {**form, "Authorization": good_basic})
    await send("GET", f"{TOKEN}?client_secret={secret}", 405, b"", {"Authorization": good_basic})
    await send(
        "POST",
        f"{REVOKE}/{first}",
        404,
        b"",
        {"Authorization": good_basic},
        logged_path=f"{REVOKE}/[redacted]",
    )
    await send(
        "POST",
        f"/oauth/{secret}",
        404,
        b"",
        {"Authorization": good_basic},
        logged_path="/oauth/[redacted]",
    )
    sensitive = {
        *tokens,
        *(token.removeprefix("ag_at_") for token in tokens),
        secret,
        secret.removeprefix("ag_cs_"),
        other.secret,
        other.secret.removeprefix("ag_cs_"),
    }
    for header in (
        good_basic,
        raw_basic,
        unknown_id,
        swapped,
        basic(other.client_id, other.secret),
    ):
        sensitive |= {header, header.removeprefix("Basic ")}
    return expected, sensitive, tokens


def assert_access_lines(events: list[dict[str, Any]], expected: list[Sent]) -> None:
    """One ``request`` line per request, in order, with method, path (no query), status,
    a duration, and the client id exactly when the client authenticated (even if its
    request was refused afterwards)."""
    lines = [event for event in events if event.get("event") == "request"]
    assert len(lines) == len(expected)
    for line, sent in zip(lines, expected, strict=True):
        assert line["method"] == sent.method
        assert line["path"] == sent.path
        assert "?" not in line["path"]
        assert line["status"] == sent.status
        assert isinstance(line["duration_ms"], int | float)
        assert line["duration_ms"] >= 0
        assert line["level"] == "info"
        assert line.get("client_id") == sent.client_id


async def test_logs_hold_no_token_secret_or_authorization_value(
    log_stream: io.StringIO,
    http: httpx.AsyncClient,
    registered: Registered,
    other_client: Registered,
) -> None:
    """DESIGN.md §4.8 and the seed's "Never expose tokens in ... logs": after successful
    and malformed requests (bad Basic headers, secrets in the query, tokens in bodies and
    paths) no issued token, client secret or Authorization value appears in any log line,
    and each request wrote exactly one JSON access line."""
    expected, sensitive, _ = await exercise(http, registered, other_client)
    output = log_stream.getvalue()
    events = log_events(log_stream)
    assert_access_lines(events, expected)
    for value in sensitive:
        assert value not in output
    # The redaction really was needed: the credentials did travel in those requests.
    assert output.count("[redacted]") == 2


class FailingTokenStore(MemoryTokenStore):
    """A token store whose writes fail, as a database that went away."""

    async def add_token(self, record: TokenRecord) -> None:
        raise ConnectionError("the database went away")


async def test_an_internal_failure_is_a_bare_server_error_and_its_log_shows_no_secret(
    log_stream: io.StringIO, database_url: str, clock: FrozenClock
) -> None:
    """DESIGN.md §4.7, §4.8: an internal failure answers server_error with no detail
    (RFC 6749 §5.2 codes, no-store); the traceback goes to the log, but without the local
    values (the secret, the new token) of the frames it passes through."""
    stores = memory_stores()
    client = await register(stores.clients, clock)

    @asynccontextmanager
    async def failing(_settings: Settings) -> AsyncIterator[Stores]:
        yield Stores(stores.clients, FailingTokenStore(), MemoryReportStore(), token_bytes(32))

    app = create_app(settings_for(database_url), stores=failing, clock=clock)
    async with running(app) as http:
        response = await http.post(
            TOKEN,
            content=b"grant_type=client_credentials",
            headers={"Content-Type": FORM, "Authorization": basic(client.client_id, client.secret)},
        )
    assert_oauth_error(response, 500, "server_error", "The server encountered an internal error")
    events = log_events(log_stream)
    failures = [event for event in events if event.get("event") == "OAuth endpoint failed"]
    assert len(failures) == 1
    assert failures[0]["level"] == "error"
    assert failures[0]["path"] == TOKEN
    assert "ConnectionError: the database went away" in failures[0]["exception"]
    assert_access_lines(events, [Sent("POST", TOKEN, 500, client.client_id)])
    output = log_stream.getvalue()
    assert client.secret not in output
    assert client.secret.removeprefix("ag_cs_") not in output
    assert "ag_at_" not in output


async def dump_rows(sql: OpenedStores) -> str:
    """Every row of every table, through SQLAlchemy (any backend)."""
    metadata = MetaData()
    async with sql.engine.connect() as connection:
        await connection.run_sync(metadata.reflect)
        assert {"clients", "access_tokens"} <= set(metadata.tables)
        rows: list[str] = []
        for name, table in sorted(metadata.tables.items()):
            result = await connection.execute(select(table))
            rows.extend(f"{name}: {row!r}" for row in result)
    return "\n".join(rows)


def sqlite_files(database_url: str) -> list[Path]:
    database = make_url(database_url).database
    assert database is not None
    path = Path(database)
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]


async def test_a_database_dump_holds_only_digests(
    http: httpx.AsyncClient,
    registered: Registered,
    other_client: Registered,
    sql: OpenedStores,
    database_url: str,
) -> None:
    """DESIGN.md §4.1, §4.2 (RFC 6819 §5.1.4.1.3): after issuing, revoking and failed
    requests, no row of any table — nor, for SQLite, the bytes of the database and its
    WAL — contains an issued token or a client secret; their digests are there."""
    _, _, tokens = await exercise(http, registered, other_client)
    secrets = [registered.secret, other_client.secret]
    dumps = [await dump_rows(sql)]
    if is_sqlite(database_url):
        files = sqlite_files(database_url)
        connection = sqlite3.connect(files[0])
        try:
            dumps.append("\n".join(connection.iterdump()))
        finally:
            connection.close()
        dumps.extend(f.read_bytes().decode("latin-1") for f in files)
    for dump in dumps[:2]:
        # The dump is not vacuous: every record is there, by digest.
        for token in tokens:
            assert access_token_digest(token) in dump
        for secret in secrets:
            assert client_secret_digest(secret) in dump
    for dump in dumps:
        for value in (*tokens, *secrets):
            assert value not in dump
            assert value[6:] not in dump  # not even without the prefix
