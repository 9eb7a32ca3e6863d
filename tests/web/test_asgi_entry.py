"""The uvicorn entry point (web/asgi.py): settings from the environment, and the garbage
collector's permanent generation filled once the app has started."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from anti_grazer.web.asgi import app_from_environment
from tests.support import BASE_URL


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


async def test_the_served_app_freezes_the_startup_heap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unfrozen: None
) -> None:
    """Before start-up nothing is frozen; once the lifespan has started, the heap built
    so far is (so full collections skip it), and the app serves from its environment."""
    monkeypatch.setenv("ANTI_GRAZER_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'e.db'}")
    app = app_from_environment()
    assert gc.get_freeze_count() == 0
    async with app.lifespan():
        assert gc.get_freeze_count() > 0
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            assert (await client.get("/health")).json() == {"status": "ok"}
