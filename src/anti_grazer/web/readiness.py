"""``GET /ready``: readiness, where ``/health`` is liveness.  It answers 200 while this
instance can serve: its database answers at the schema this code needs and, when it
issues JWT access tokens, a signing key is active; else 503 with what is wrong.  A load
balancer or a Kubernetes ``readinessProbe`` then sends no traffic to the instance until
it recovers, without restarting it (which ``/health`` failing would).

Each check is bounded by ``CHECK_TIMEOUT_SECONDS``: a database that hangs is not ready,
and the probe gets its answer in time.  The answer names the failing check and a short
reason, never a connection string or an exception's text; a change of state is logged
once, with the cause."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from anti_grazer.logs import get_logger

logger = get_logger("anti_grazer.readiness")

CHECK_TIMEOUT_SECONDS = 2.0
OK = "ok"

# A check: None when fine, else what is wrong, for the operator.  Any exception counts
# as ``failed_as`` (its reason stays in the log).
Check = Callable[[], Awaitable[str | None]]


class Readiness:
    """Runs the named checks; remembers the last outcome to log only changes."""

    def __init__(
        self,
        checks: Mapping[str, tuple[Check, str]],
        timeout_seconds: float = CHECK_TIMEOUT_SECONDS,
    ) -> None:
        """``checks``: by name, the check and what to answer when it raises."""
        self._checks = dict(checks)
        self._timeout_seconds = timeout_seconds
        self._last: dict[str, str] | None = None

    async def _run(self, name: str, check: Check, failed_as: str) -> str:
        try:
            async with asyncio.timeout(self._timeout_seconds):
                problem = await check()
        except TimeoutError:
            logger.warning("readiness_check_timeout", check=name, seconds=self._timeout_seconds)
            return "timed out"
        except Exception as error:
            logger.warning("readiness_check_failed", check=name, error=type(error).__name__)
            return failed_as
        return OK if problem is None else problem

    async def report(self) -> dict[str, str]:
        """Each check's outcome: ``ok`` or what is wrong."""
        outcomes = await asyncio.gather(
            *(self._run(name, check, failed) for name, (check, failed) in self._checks.items())
        )
        report = dict(zip(self._checks, outcomes, strict=True))
        if report != self._last:
            ready = all(outcome == OK for outcome in report.values())
            log = logger.info if ready else logger.warning
            log("readiness_changed", ready=ready, checks=report)
            self._last = report
        return report


def readiness_endpoint(
    readiness: Callable[[], Readiness],
) -> Callable[[Request], Awaitable[Response]]:
    """The ``/ready`` handler over the started app's ``Readiness``."""

    async def ready(_request: Request) -> Response:
        checks = await readiness().report()
        ready = all(outcome == OK for outcome in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status_code=200 if ready else 503,
            headers={"Cache-Control": "no-store"},
        )

    return ready
