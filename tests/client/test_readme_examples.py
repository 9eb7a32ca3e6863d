"""The README's client examples, run as written against a live server (only the server's
address is the test's, and the client's id and secret come from the environment, as
the README has them)."""

from __future__ import annotations

import re

import pytest

from tests.client.conftest import LiveServer
from tests.readme import example

pytestmark = pytest.mark.slow

README_BASE_URL = "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("name", "printed"),
    [
        # What the session's other tests reported decides the statuses.
        ("client-httpx", r"grazer\.42 (clear|reported)\ngrazer\.43 clear\n"),
        ("client-httpx-async", re.escape(f"{[200] * 10}\n")),
        ("client-requests", r"20[01]\n"),  # 201 for a new report, 200 for a repeat
    ],
)
def test_readme_client_example(
    name: str,
    printed: str,
    live: LiveServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each example makes its calls with one token request."""
    source = example(name)
    assert README_BASE_URL in source
    monkeypatch.setenv("CLIENT_ID", live.client.client_id)
    monkeypatch.setenv("CLIENT_SECRET", live.client.client_secret)
    before = live.tokens_issued(live.client)
    code = compile(source.replace(README_BASE_URL, live.base_url), name, "exec")
    exec(code, {"__name__": name})  # noqa: S102
    assert re.fullmatch(printed, capsys.readouterr().out)
    assert live.tokens_issued(live.client) == before + 1
