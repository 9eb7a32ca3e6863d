"""API fuzzing: schemathesis generates requests from the OpenAPI document of a live
``anti-grazer serve`` (every ``/v1`` route with a valid bearer token, every ``/oauth/*``
endpoint with a client's credentials) and checks each answer: never a 5xx, and status
code, content type, headers and body as the document says.  Bounded by
``EXAMPLES_PER_OPERATION`` so that it takes a few minutes at most.  It runs on the run's
database: SQLite, and PostgreSQL in the second pass of ``.ci/run``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import positive_data_acceptance

from tests.e2e.process import (
    CreatedClient,
    ServerProcess,
    cli_environment,
    create_client,
    serving,
    sqlite_url,
)
from tests.support import DATABASE_URL_ENV, reset_database

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 150
# Where a request the document allows may still be refused, by rules no schema can
# express: at the OAuth endpoints, one authentication method per request (RFC 6749
# §2.3, Basic here, so a generated client_secret is a second one) and no repeated
# parameter (§3.2); at the blocklist, a cursor is valid only if this server made it.
# Every other check runs there too.
SCHEMA_CANNOT_SAY = {"/oauth/token", "/oauth/revoke", "/oauth/introspect", "/v1/blocklist"}


class Fuzzed:
    """The server under test and the credentials every generated request carries."""

    def __init__(self, server: ServerProcess, client: CreatedClient) -> None:
        self.server = server
        self.basic = httpx.BasicAuth(client.client_id, client.client_secret)
        response = httpx.post(
            f"{server.base_url}/oauth/token",
            data={"grant_type": "client_credentials", "scope": "reports:write profiles:read"},
            auth=self.basic,
            timeout=10,
        )
        response.raise_for_status()
        self.bearer = f"Bearer {response.json()['access_token']}"

    def authorization(self, path: str) -> str | None:
        """Basic at the OAuth endpoints that authenticate a client, the bearer token on
        the API, nothing elsewhere."""
        if path in {"/oauth/token", "/oauth/revoke", "/oauth/introspect"}:
            request = self.basic.auth_flow(httpx.Request("POST", "http://x"))
            return next(request).headers["authorization"]
        if path.startswith("/v1/"):
            return self.bearer
        return None


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    folder = tmp_path_factory.mktemp("fuzz")
    # A head limit above the longest URL generated: the routes' own validation answers,
    # not the edge's 431 (tests/web/test_bad_input_sizes.py tests that one).
    database_url = os.environ.get(DATABASE_URL_ENV) or sqlite_url(Path(folder) / "fuzz.db")
    asyncio.run(reset_database(database_url))
    # Limits no fuzzing reaches: every request is counted and gets the rate-limit fields,
    # none is refused for its number (tests/web/test_rate_limits.py tests the refusals).
    unreached = "1000000000"
    env = cli_environment(
        database_url,
        max_header_bytes="262144",
        rate_limit_tokens_per_hour=unreached,
        rate_limit_tokens_per_day=unreached,
        rate_limit_requests_per_hour=unreached,
        rate_limit_burst_per_minute=unreached,
    )
    client = create_client(env, name="fuzzer", introspect=True)
    with serving(env, folder / "server.log") as server:
        yield Fuzzed(server, client)
        log = server.log_text()
    assert "Traceback" not in log, log[-4000:]


def fuzz_operation(
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    mode: schemathesis.GenerationMode,
    fuzzed: Fuzzed,
) -> None:
    """Up to ``EXAMPLES_PER_OPERATION`` generated requests to one operation, valid ones
    or ones that break the document (``mode``), each answer checked against the document
    by schemathesis's checks."""
    authorization = fuzzed.authorization(operation.path)
    headers = {} if authorization is None else {"Authorization": authorization}
    excluded = [positive_data_acceptance] if operation.path in SCHEMA_CANNOT_SAY else []

    strategy = operation.as_strategy(mode)

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def requests(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(
            base_url=fuzzed.server.base_url,
            headers=headers,
            excluded_checks=excluded,
            timeout=10,
        )

    requests()


def test_every_operation_answers_as_documented(fuzzed: Fuzzed) -> None:
    """schemathesis's pytest plugin does not run on this pytest: each operation of the
    live document is fuzzed here with Hypothesis, and every failure reported."""
    schema = schemathesis.openapi.from_url(f"{fuzzed.server.base_url}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 8, "the document lost operations"
    for operation in operations:
        for mode in schemathesis.GenerationMode:
            try:
                fuzz_operation(operation, mode, fuzzed)
            except Unsatisfiable:  # nothing in it to break (no parameter, no body)
                assert mode is schemathesis.GenerationMode.NEGATIVE
            except (Exception, BaseExceptionGroup) as failure:  # fuzz all, report all
                name = f"{operation.method.upper()} {operation.path} ({mode.value})"
                failures.append(f"{name}: {failure}")
    assert not failures, "\n\n".join(failures)
