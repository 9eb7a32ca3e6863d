"""Structured JSON logs (structlog) with a redaction processor: no access token, client
secret or Authorization value ever reaches a log line (DESIGN.md §4.8), and no value
breaks one line in two."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import time
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
import structlog

REDACTED = "[redacted]"
ACCESS_LOGGER = "anti_grazer.access"
_access: AccessLog | None = None
# Our own credentials by their prefixes, whatever surrounds them, and JWTs (our JWT access
# tokens): a JSON object's header and payload in base64url start "eyJ" (RFC 7515 §7.1).
_CREDENTIAL = re.compile(
    r"ag_(?:at|cs)_[0-9A-Za-z]*|eyJ[0-9A-Za-z_-]*\.eyJ[0-9A-Za-z_-]*\.[0-9A-Za-z_-]*"
)
# Credentials in an Authorization-style value, or a key=value / JSON pair.
_SCHEME_VALUE = re.compile(r"(?i)\b(bearer|basic)\s+[^\s,;\"']+")
_SECRET_PAIR = re.compile(
    r"(?i)(access_token|refresh_token|client_secret|token|password|authorization)"
    r"([\"']?\s*[:=]\s*[\"']?)[^\s&,;\"']+"
)
_SECRET_KEYS = frozenset(
    {"authorization", "access_token", "client_secret", "token", "password", "secret", "cookie"}
)


# JSON (RFC 8259 §7) leaves U+2028 and U+2029 raw in strings, and orjson writes them so;
# JavaScript ends a line at them (ECMA-262 §12.3), Unicode-aware line readers (Python's
# str.splitlines) also at U+0085.  Every other line break is below U+0020, which JSON
# escapes.
_LINE_BREAK_ESCAPES = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _one_line(json_text: str) -> str:
    """``json_text`` with the line breaks JSON leaves raw escaped: one line to any reader,
    the same JSON value."""
    return json_text if json_text.isascii() else json_text.translate(_LINE_BREAK_ESCAPES)


def _may_hold_credential(text: str) -> bool:
    """A cheap first scan for text mostly free of credentials (paths, client ids): every
    match of the patterns above holds one of these words once case-folded (their
    IGNORECASE matching may also take a dotless "ı" for an "i"), a secret key also its
    "=" or ":".  Substring tests are several times cheaper than the regular expressions,
    and the access line scans three fields a request."""
    folded = text.casefold().replace("ı", "i")
    return (
        "ag_at_" in folded
        or "ag_cs_" in folded
        or "eyj" in folded
        or "bearer" in folded
        or "basic" in folded
        or (
            ("=" in text or ":" in text)
            and (
                "token" in folded
                or "secret" in folded
                or "password" in folded
                or "authorization" in folded
            )
        )
    )


def redact_text(text: str) -> str:
    """Text with every credential-looking substring replaced by ``[redacted]``."""
    if not _may_hold_credential(text):
        return text
    text = _CREDENTIAL.sub(REDACTED, text)
    text = _SCHEME_VALUE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _SECRET_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def _redact_value(key: str, value: Any) -> Any:
    if key.lower() in _SECRET_KEYS:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(key, v) for v in value]
    return value


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: scrub secret keys and credential-looking text from every field
    (in place: most fields are short text with nothing to scrub)."""
    for key, value in event_dict.items():
        if key in _SECRET_KEYS or key.lower() in _SECRET_KEYS:
            event_dict[key] = REDACTED
        elif isinstance(value, str):
            event_dict[key] = redact_text(value)
        elif isinstance(value, Mapping | list | tuple):
            event_dict[key] = _redact_value(key, value)
    return event_dict


# The attributes every ``LogRecord`` has: the others came from the call's ``extra``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonLineFormatter(logging.Formatter):
    """A standard-library record (``protocol``'s, granian's, alembic's) as the same JSON
    line as one of our structlog events: ``logger_name``, the call's ``extra`` fields,
    ``event`` (the message), ``level``, ``timestamp`` (UTC, ISO 8601), ``exception`` when
    it carries one, every field redacted.  Rendered straight, as the access line is:
    structlog's ``ProcessorFormatter`` copies each record and runs a processor chain,
    which made an audited revocation's log line cost about as much as the revocation."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"logger_name": record.name}
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES:
                line[key] = value
        line["event"] = record.getMessage()
        line["level"] = record.levelname.lower()
        line["timestamp"] = (
            datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z")
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return _render(redact(None, "", line))


def _render(event_dict: Any, **_: Any) -> str:
    return _one_line(orjson.dumps(event_dict, default=str).decode())


def configure_logging(
    level: str = "info", stream: TextIO | None = None, *, access_lines_per_iteration: bool = False
) -> None:
    """One JSON line per event on ``stream`` (stderr), every event redacted.

    Our own events take structlog's fast path (no standard-library logging on the way);
    the standard library's records (``protocol``'s, granian's, alembic's) are rendered to
    the same line by ``JsonLineFormatter``.  uvicorn's access log is replaced by ours; with
    ``access_lines_per_iteration`` (the server's) its lines are written together once per
    event-loop iteration (``AccessLog``)."""
    output = stream or sys.stderr
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    handler = logging.StreamHandler(output)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("alembic").setLevel(logging.WARNING)
    wrapper_class = structlog.make_filtering_bound_logger(logging.getLevelName(level.upper()))
    structlog.configure(
        processors=[*processors, structlog.processors.JSONRenderer(serializer=_render)],
        logger_factory=structlog.WriteLoggerFactory(file=output),
        wrapper_class=wrapper_class,
        cache_logger_on_first_use=False,
    )
    global _access  # noqa: PLW0603 - one access log per configuration
    _access = AccessLog(
        output,
        enabled=logging.getLevelName(level.upper()) <= logging.INFO,
        per_iteration=access_lines_per_iteration,
    )


class AccessLog:
    """The per-request access line (``logger_name`` ``anti_grazer.access``, event
    ``request``), rendered straight to JSON: the same line and redaction as every other
    event, without structlog's processor chain, a large share of the token endpoint's
    time.

    With ``per_iteration``, lines logged inside a running event loop are held and written
    together, in one write and one flush, at the end of the loop's current iteration
    (``call_soon``): one write and flush for many lines instead of one a line.  A line
    is then written microseconds after its request ends, so code
    that reads the stream right after a request (tests) takes the default, which writes
    every line at once."""

    def __init__(
        self, stream: TextIO, *, enabled: bool = True, per_iteration: bool = False
    ) -> None:
        self._write = structlog.WriteLogger(stream).msg
        self.enabled = enabled
        self._per_iteration = per_iteration
        self._held: list[str] = []
        self._second = -1
        self._second_text = ""

    def _timestamp(self) -> str:
        """Now in UTC, ISO 8601 with microseconds and a ``Z``, as structlog's
        ``TimeStamper`` writes it; the text of the current second is reused, which is
        cheaper than ``datetime.now(UTC).isoformat`` for every line."""
        second, microsecond = divmod(time.time_ns() // 1000, 1_000_000)
        if second != self._second:
            self._second = second
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._second_text}.{microsecond:06d}Z"

    def request(
        self,
        method: str,
        path: str,
        status: int | None,
        duration_ms: float,
        client_id: str | None,
        secret_id: str | None = None,
    ) -> None:
        """Log one request; the path (never the query), client id and secret id (the
        public id of the client secret that authenticated, never the secret) are
        redacted.  A
        request whose client left before any response has no status: its outcome is
        ``client_disconnected``."""
        if not self.enabled:
            return
        line: dict[str, Any] = {
            "logger_name": ACCESS_LOGGER,
            "method": redact_text(method),
            "path": redact_text(path),
            "status": status,
            "duration_ms": duration_ms,
        }
        if status is None:
            line["outcome"] = "client_disconnected"
        if client_id is not None:
            line["client_id"] = redact_text(client_id)
        if secret_id is not None:
            line["secret_id"] = redact_text(secret_id)
        line["event"] = "request"
        line["level"] = "info"
        line["timestamp"] = self._timestamp()
        self._emit(_one_line(orjson.dumps(line).decode()))

    def _emit(self, line: str) -> None:
        if self._per_iteration:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop here: nothing would flush the held lines
                pass
            else:
                if not self._held:
                    loop.call_soon(self.flush)
                self._held.append(line)
                return
        self._write(line)

    def flush(self) -> None:
        """Write the held lines now."""
        held, self._held = self._held, []
        if held:
            self._write("\n".join(held))


def access_log() -> AccessLog:
    """The access log of the current ``configure_logging`` (stderr before any)."""
    global _access  # noqa: PLW0603 - created on first use when logging was not configured
    if _access is None:
        _access = AccessLog(sys.stderr)
    return _access


def get_logger(name: str) -> Any:
    """A structlog logger whose events carry ``logger=name``."""
    return structlog.get_logger(logger_name=name)
