"""The log redaction (logs.py, DESIGN.md §4.8) and the access line."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from anti_grazer import logs
from anti_grazer.logs import (
    REDACTED,
    AccessLog,
    access_log,
    configure_logging,
    get_logger,
    redact_text,
)
from anti_grazer.web.asgi import app_from_environment

# Text made mostly of the pieces the patterns look for, so that matches are frequent.
_PIECES = st.sampled_from(
    ["ag_at_", "ag_cs_", "Bearer", "basic", "TOKEN", "secret", "password", "Authorization",
     "access_token", "client_secret", "=", ":", " ", "\t", '"', "'", ",", ";", "&", "/",
     "abc123", "xYz", "\n", "é", "eyJ", ".", "-", "_",
     # Letters that IGNORECASE matching takes for ASCII ones: Kelvin sign, long s, dotless i.
     "\u212a", "\u017f", "\u0131", "to", "ken", "pa", "sword", "author", "zation"]
)  # fmt: skip
_TEXT = st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=12).map("".join)


def substitute_everything(text: str) -> str:
    """The three substitutions of ``redact_text`` with no first scan."""
    text = logs._CREDENTIAL.sub(REDACTED, text)
    text = logs._SCHEME_VALUE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return logs._SECRET_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def test_a_jwt_is_redacted_wherever_it_stands() -> None:
    """Our JWT access tokens (RFC 9068) are tokens too: no log line shows one."""
    jwt = "eyJ0eXAiOiJhdCtqd3QifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJl-_x"
    assert redact_text(f"/v1/x/{jwt}/y") == f"/v1/x/{REDACTED}/y"
    assert redact_text(f"failed on {jwt}, again") == f"failed on {REDACTED}, again"


@given(_TEXT)
@example("/oauth/token")
@example("eyJa.eyJb.c")
@example("token = abc")
@example("Authorization: Basic YWJj")
@example('{"access_token": "xyz"}')
@example("to\u212aen=abc")  # the Kelvin sign matches "k"
@example("pa\u017fsword: abc")  # the long s matches "s"
@example("authori\u0131ation=abc")  # the dotless i matches "i"
def test_the_first_scan_never_skips_a_credential(text: str) -> None:
    """The trigger only saves work: redacting with it equals substituting every time."""
    assert redact_text(text) == substitute_everything(text)


def test_paths_without_credentials_are_left_alone() -> None:
    assert not logs._may_hold_credential("/oauth/token")
    assert redact_text("/oauth/revoke") == "/oauth/revoke"
    assert redact_text("/v1/profiles/x/ag_at_abc") == f"/v1/profiles/x/{REDACTED}"


# Every character some line reader ends a line at: ASCII ones (orjson escapes them),
# U+2028 and U+2029 (JavaScript, ECMA-262 §12.3) and U+0085 (Unicode, str.splitlines).
_LINE_BREAKS = st.sampled_from(["\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"])
_TEXT_WITH_LINE_BREAKS = st.lists(
    st.one_of(_LINE_BREAKS, _PIECES, st.text(max_size=4)), max_size=12
).map("".join)


@given(_TEXT_WITH_LINE_BREAKS)
@example("before\u2028between\u2029after\x85end")
def test_every_log_line_is_one_line_to_any_reader(text: str) -> None:
    """RFC 8259 §7 lets JSON strings hold U+2028 and U+2029 raw, and JavaScript ends a
    line at them: they are escaped, so that an event of ours, a standard-library record
    (uvicorn's) and the access line are each one line to a JavaScript or Unicode-aware
    line reader, and still parse to the redacted text."""
    stream = io.StringIO()
    configure_logging("info", stream)
    try:
        get_logger("anti_grazer.test").info("event", detail=text)
        logging.getLogger("uvicorn.error").warning("%s", text)
        access_log().request("GET", text, 200, 1.0, text)
    finally:
        configure_logging("info", sys.__stderr__)
    ours, foreign, access = (orjson.loads(line) for line in stream.getvalue().splitlines())
    assert ours["detail"] == redact_text(text)
    assert foreign["event"] == redact_text(text)
    assert access["path"] == access["client_id"] == redact_text(text)


def test_the_access_line() -> None:
    """One JSON object per line, keys in this order, timestamp in UTC ISO 8601 with Z."""
    stream = io.StringIO()
    AccessLog(stream).request("POST", "/oauth/token", 200, 1.5, "ag_ci_x")
    AccessLog(stream).request("GET", "/t/ag_at_secret", 401, 0.25, None)
    first, second = (orjson.loads(line) for line in stream.getvalue().splitlines())
    assert list(first) == [
        "logger_name", "method", "path", "status", "duration_ms", "client_id",
        "event", "level", "timestamp",
    ]  # fmt: skip
    assert {k: v for k, v in first.items() if k != "timestamp"} == {
        "logger_name": "anti_grazer.access",
        "method": "POST",
        "path": "/oauth/token",
        "status": 200,
        "duration_ms": 1.5,
        "client_id": "ag_ci_x",
        "event": "request",
        "level": "info",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", first["timestamp"])
    assert second["path"] == f"/t/{REDACTED}"
    assert "client_id" not in second


def test_the_access_line_follows_the_log_level() -> None:
    """Configured above ``info`` there is no access line; at ``info`` there is."""
    quiet, loud = io.StringIO(), io.StringIO()
    configure_logging("warning", quiet)
    access_log().request("GET", "/", 200, 1.0, None)
    configure_logging("info", loud)
    access_log().request("GET", "/", 200, 1.0, None)
    assert quiet.getvalue() == ""
    assert orjson.loads(loud.getvalue())["event"] == "request"


class CountingStream(io.StringIO):
    """A text stream that counts its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


async def test_per_iteration_lines_leave_together_at_the_end_of_the_iteration() -> None:
    """The lines of one loop iteration are held, then written in order in one write."""
    stream = CountingStream()
    log = AccessLog(stream, per_iteration=True)
    log.request("POST", "/oauth/token", 200, 1.0, "ag_ci_a")
    log.request("POST", "/oauth/revoke", 200, 2.0, "ag_ci_b")
    assert (stream.getvalue(), stream.writes) == ("", 0)
    await asyncio.sleep(0)  # the iteration ends
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["path"], line["client_id"]) for line in lines] == [
        ("/oauth/token", "ag_ci_a"),
        ("/oauth/revoke", "ag_ci_b"),
    ]
    assert stream.writes == 1
    log.request("GET", "/health", 200, 0.5, None)
    await asyncio.sleep(0)
    assert stream.writes == 2
    assert orjson.loads(stream.getvalue().splitlines()[-1])["path"] == "/health"


def test_per_iteration_lines_outside_an_event_loop_are_written_at_once() -> None:
    stream = CountingStream()
    AccessLog(stream, per_iteration=True).request("GET", "/", 200, 1.0, None)
    assert orjson.loads(stream.getvalue())["path"] == "/"


async def test_by_default_each_line_is_written_at_once() -> None:
    stream = CountingStream()
    AccessLog(stream).request("GET", "/", 200, 1.0, None)
    assert orjson.loads(stream.getvalue())["path"] == "/"


async def test_the_served_app_holds_access_lines_until_the_iteration_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The uvicorn factory configures held access lines on stderr (the tests' own
    ``configure_logging`` calls keep the default)."""
    stderr = CountingStream()
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setenv("ANTI_GRAZER_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'l.db'}")
    try:
        app_from_environment()
        access_log().request("GET", "/health", 200, 1.0, None)
        assert '"request"' not in stderr.getvalue()
        await asyncio.sleep(0)
        assert orjson.loads(stderr.getvalue().splitlines()[-1])["path"] == "/health"
    finally:
        configure_logging("info", sys.__stderr__)


def test_the_access_timestamp_follows_the_clock_across_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each line's timestamp is its own instant, also after the second changes."""
    stream = io.StringIO()
    log = AccessLog(stream)
    instants = iter([1_795_866_299_999_999_000, 1_795_866_300_000_250_999])
    monkeypatch.setattr(time, "time_ns", lambda: next(instants))
    log.request("GET", "/", 200, 1.0, None)
    log.request("GET", "/", 200, 1.0, None)
    stamps = [orjson.loads(line)["timestamp"] for line in stream.getvalue().splitlines()]
    assert stamps == ["2026-11-28T11:44:59.999999Z", "2026-11-28T11:45:00.000250Z"]


def test_the_access_timestamp_is_now() -> None:
    stream = io.StringIO()
    before = datetime.now(UTC)
    AccessLog(stream).request("GET", "/", 200, 1.0, None)
    after = datetime.now(UTC)
    stamp = datetime.fromisoformat(orjson.loads(stream.getvalue())["timestamp"])
    assert before - timedelta(microseconds=1) <= stamp <= after
