"""Structured JSON logs (structlog) with a redaction processor: no access token, client
secret or Authorization value ever reaches a log line (DESIGN.md §4.8)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import orjson
import structlog

REDACTED = "[redacted]"
ACCESS_LOGGER = "anti_grazer.access"
_access: Any = None
# Our own credentials by their prefixes, whatever surrounds them.
_CREDENTIAL = re.compile(r"ag_(?:at|cs)_[0-9A-Za-z]*")
# Credentials in an Authorization-style value, or a key=value / JSON pair.
_SCHEME_VALUE = re.compile(r"(?i)\b(bearer|basic)\s+[^\s,;\"']+")
_SECRET_PAIR = re.compile(
    r"(?i)(access_token|refresh_token|client_secret|token|password|authorization)"
    r"([\"']?\s*[:=]\s*[\"']?)[^\s&,;\"']+"
)
_SECRET_KEYS = frozenset(
    {"authorization", "access_token", "client_secret", "token", "password", "secret", "cookie"}
)


# Every pattern above needs one of these words: text without any is left as it is
# (most log fields), at the cost of one scan.
_TRIGGER = re.compile(r"(?i)ag_|bearer|basic|token|secret|password|authorization")


def redact_text(text: str) -> str:
    """Text with every credential-looking substring replaced by ``[redacted]``."""
    if _TRIGGER.search(text) is None:
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
            if _TRIGGER.search(value) is not None:
                event_dict[key] = redact_text(value)
        elif isinstance(value, Mapping | list | tuple):
            event_dict[key] = _redact_value(key, value)
    return event_dict


def _drop_color_message(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    event_dict.pop("color_message", None)  # uvicorn's ANSI duplicate of the message
    return event_dict


def _render(event_dict: Any, **_: Any) -> str:
    return orjson.dumps(event_dict, default=str).decode()


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """One JSON line per event on ``stream`` (stderr), every event redacted.

    Our own events take structlog's fast path (no standard-library logging on the way);
    the standard library's records (uvicorn's, alembic's) go through the same processors
    by a formatter.  uvicorn's access log is replaced by ours."""
    output = stream or sys.stderr
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _drop_color_message,
        redact,
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *processors],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(serializer=_render),
        ],
    )
    handler = logging.StreamHandler(output)
    handler.setFormatter(formatter)
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
    global _access  # noqa: PLW0603 - one access logger per configuration
    _access = structlog.wrap_logger(
        structlog.WriteLogger(output),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.JSONRenderer(serializer=_render),
        ],
        wrapper_class=wrapper_class,
    ).bind(logger_name=ACCESS_LOGGER)


def access_logger() -> Any:
    """The logger of the per-request access line: bound once per ``configure_logging``
    (the hot path skips structlog's lazy proxy), with the same redaction."""
    return _access if _access is not None else get_logger(ACCESS_LOGGER)


def get_logger(name: str) -> Any:
    """A structlog logger whose events carry ``logger=name``."""
    return structlog.get_logger(logger_name=name)
