"""``protocol.secret_use``: a client secret's last use is written at most once per
secret per minute per process, after the request, and a failed write never fails the
token request (issue 17 item 3)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from anti_grazer.protocol.models import ClientSecret
from anti_grazer.protocol.secret_use import SecretUseRecorder
from anti_grazer.protocol.server import AuthorizationServer
from anti_grazer.store.memory import MemoryClientStore, memory_stores
from tests.clock import FrozenClock
from tests.doubles import ForwardingClientStore
from tests.http_helpers import CLIENT_CREDENTIALS, basic
from tests.support import register


class RecordingClientStore(ForwardingClientStore):
    """Counts the last-use writes; fails them while ``failing`` is set."""

    def __init__(self, inner: MemoryClientStore) -> None:
        super().__init__(inner)
        self.writes: list[tuple[str, datetime]] = []
        self.failing = False

    async def record_secret_use(self, client_id: str, secret_id: str, when: datetime) -> None:
        self.writes.append((secret_id, when))
        if self.failing:
            raise ConnectionError("the database went away")
        await self.inner.record_secret_use(client_id, secret_id, when)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))


async def test_at_most_one_write_per_secret_per_minute(clock: FrozenClock) -> None:
    store = RecordingClientStore(memory_stores().clients)
    recorder = SecretUseRecorder(store)
    start = clock.now()
    for _ in range(3):
        recorder.used("c", "ag_sid_a", clock.now())
        recorder.used("c", "ag_sid_b", clock.now())
        clock.advance(20)
    await recorder.flush()
    assert store.writes == [("ag_sid_a", start), ("ag_sid_b", start)]
    recorder.used("c", "ag_sid_a", clock.now())  # 60 s after the first write
    await recorder.flush()
    assert store.writes[-1] == ("ag_sid_a", clock.now())
    assert len(store.writes) == 3


async def test_the_token_request_records_the_use_of_its_secret(clock: FrozenClock) -> None:
    stores = memory_stores()
    who = await register(stores.clients, clock)
    server = AuthorizationServer(stores.clients, stores.tokens, clock)
    await server.token(CLIENT_CREDENTIALS, basic(who.client_id, who.secret))
    await server.secret_use.flush()
    client = await stores.clients.get_client(who.client_id)
    assert client is not None
    (secret,) = client.secrets
    assert secret == ClientSecret(
        who.client.secrets[0].secret_id, secret.digest, secret.created_at, None, clock.now()
    )


async def test_a_failed_write_never_fails_the_request_and_is_retried(
    clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    stores = memory_stores()
    who = await register(stores.clients, clock)
    recording = RecordingClientStore(stores.clients)
    recording.failing = True
    server = AuthorizationServer(recording, stores.tokens, clock)
    with caplog.at_level(logging.WARNING, logger="anti_grazer.protocol"):
        issued = await server.token(CLIENT_CREDENTIALS, basic(who.client_id, who.secret))
        await server.secret_use.flush()
    assert issued.access_token
    assert "ConnectionError" in caplog.text
    assert who.secret not in caplog.text
    recording.failing = False
    await server.token(CLIENT_CREDENTIALS, basic(who.client_id, who.secret))  # retried
    await server.secret_use.flush()
    assert len(recording.writes) == 2
