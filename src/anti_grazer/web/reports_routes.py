"""The reports API under ``/v1`` (FastAPI routes behind the bearer guard): report a
profile, read a profile's status, sync the blocklist (ETag, RFC 9110 §13.1.2).

The routes translate HTTP to ``anti_grazer.reports.service`` and back; the rules live
there.  Bodies are serialised with orjson; the pydantic models validate input and
document the responses in OpenAPI; invalid input answers 422 (``validation_errors``)."""

# No ``from __future__ import annotations``: FastAPI reads the route signatures, whose
# annotations name values local to ``build_reports_router`` (the configured platforms).

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, Field
from starlette.responses import Response

from anti_grazer.guard.fastapi import ClientCredentialsScheme, require_scopes
from anti_grazer.protocol.models import Principal
from anti_grazer.reports.cursor import MAX_CURSOR_LENGTH
from anti_grazer.reports.errors import InvalidCursorError, NewReporterLimitError
from anti_grazer.reports.inputs import VALID_UNICODE, Instant
from anti_grazer.reports.models import (
    MAX_ID_LENGTH,
    MAX_REASON_LENGTH,
    BlocklistPage,
    ProfileStatus,
    ProfileView,
    Report,
)
from anti_grazer.reports.service import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PROFILES_READ_SCOPE,
    REPORTS_WRITE_SCOPE,
    SCOPE_DESCRIPTIONS,
    ReportService,
)
from anti_grazer.web.rate_limiting import rate_limited_response
from anti_grazer.web.repeated_params import SingleValuedQuery
from anti_grazer.web.validation_errors import ValidatedRoute

SCHEME = ClientCredentialsScheme(scopes=SCOPE_DESCRIPTIONS)
JSON_MEDIA_TYPE = "application/json"
BLOCKLIST_CACHE_CONTROL = "private, no-cache"

# Ids are printable: no control characters (PostgreSQL text cannot even hold NUL).
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=PRINTABLE), VALID_UNICODE]


class ReportOut(BaseModel):
    """A stored report (the first one, when a report is repeated)."""

    platform: str
    profile_id: str
    reporter_id: str
    reason: str | None
    created_at: datetime


class ProfileOut(BaseModel):
    """A profile's standing: ``blocked`` once ``reporters`` reached the threshold."""

    platform: str
    profile_id: str
    reporters: int = Field(description="Distinct reporters (client, reporter_id).")
    status: ProfileStatus
    blocked_at: datetime | None = None


class BlockedProfileOut(BaseModel):
    platform: str
    profile_id: str
    blocked_at: datetime


class BlocklistOut(BaseModel):
    """A page of the blocklist, newest block first."""

    items: list[BlockedProfileOut]
    next_cursor: str | None = Field(description="Pass as ``cursor`` for the next page.")


def _dumps(body: object) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_UTC_Z)


def _json(status: int, body: object) -> Response:
    return Response(_dumps(body), status_code=status, media_type=JSON_MEDIA_TYPE)


def render_report(report: Report) -> dict[str, Any]:
    return {
        "platform": report.platform,
        "profile_id": report.profile_id,
        "reporter_id": report.reporter_id,
        "reason": report.reason,
        "created_at": report.created_at,
    }


def render_profile(profile: ProfileView) -> dict[str, Any]:
    body: dict[str, Any] = {
        "platform": profile.platform,
        "profile_id": profile.profile_id,
        "reporters": profile.reporters,
        "status": profile.status.value,
    }
    if profile.blocked_at is not None:
        body["blocked_at"] = profile.blocked_at
    return body


def render_blocklist(page: BlocklistPage) -> dict[str, Any]:
    return {
        "items": [
            {"platform": i.platform, "profile_id": i.profile_id, "blocked_at": i.blocked_at}
            for i in page.items
        ],
        "next_cursor": page.next_cursor,
    }


def strong_etag(body: bytes) -> str:
    """A strong entity tag derived from the representation's bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def if_none_match_matches(header: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: ``*`` or any listed tag equal to ``etag`` (weak comparison)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in header.split(","))


def build_reports_router(
    service: Callable[[], ReportService], platforms: Iterable[str]
) -> APIRouter:
    """The ``/v1`` routes; ``service`` gives the running application's ``ReportService``
    and ``platforms`` are the names reports may use."""
    known = frozenset(platforms)
    listed = sorted(known)

    def check_platform(value: str) -> str:
        if value not in known:
            raise ValueError(f"unknown platform; expected one of: {', '.join(listed)}")
        return value

    platform_schema = {"enum": listed}

    class ReportIn(BaseModel):
        """Report a profile as a grazer, on behalf of one of the client's users."""

        platform: Annotated[
            str,
            Field(json_schema_extra=platform_schema),
            AfterValidator(check_platform),
            VALID_UNICODE,
        ]
        profile_id: Id = Field(description="The profile's id on the platform.")
        reporter_id: Id = Field(description="The client's id for the reporting user.")
        reason: (
            Annotated[
                str, Field(max_length=MAX_REASON_LENGTH, pattern=r"^[^\x00]*$"), VALID_UNICODE
            ]
            | None
        ) = None

    router = APIRouter(prefix="/v1", tags=["Reports"], route_class=ValidatedRoute)
    write = require_scopes(REPORTS_WRITE_SCOPE, scheme=SCHEME)
    read = require_scopes(PROFILES_READ_SCOPE, scheme=SCHEME)

    @router.post(
        "/reports",
        response_model=ReportOut,
        status_code=201,
        summary="Report a profile as a grazer",
        description="One report per reporter and profile: a repeat is idempotent and "
        "answers 200 with the first report (its reason and created_at). A reporter_id the "
        "client never sent before counts against its limit on new reporters per day "
        "(RATE_LIMIT_NEW_REPORTERS_PER_DAY): past it, 429 and nothing is stored.",
        responses={200: {"model": ReportOut, "description": "Already reported: the report"}},
    )
    async def create_report(
        payload: ReportIn, principal: Annotated[Principal, write], _once: SingleValuedQuery
    ) -> Response:
        try:
            outcome = await service().report(
                principal.client_id,
                reporter_id=payload.reporter_id,
                platform=payload.platform,
                profile_id=payload.profile_id,
                reason=payload.reason,
            )
        except NewReporterLimitError as refused:
            return rate_limited_response(refused.usage)
        return _json(201 if outcome.created else 200, render_report(outcome.report))

    @router.get(
        "/profiles/{platform}/{profile_id:path}",
        response_model=ProfileOut,
        summary="A profile's status",
        description="``clear`` if never reported, ``reported``, or ``blocked`` (for good) "
        "once enough distinct reporters reported it.",
        responses={404: {"description": "No such route: a platform with a slash in it"}},
    )
    async def read_profile(
        platform: Annotated[
            str,
            Path(json_schema_extra=platform_schema),
            AfterValidator(check_platform),
            VALID_UNICODE,
        ],
        profile_id: Annotated[
            str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=PRINTABLE), VALID_UNICODE
        ],
        _principal: Annotated[Principal, read],
        _once: SingleValuedQuery,
    ) -> Response:
        return _json(200, render_profile(await service().profile(platform, profile_id)))

    @router.get(
        "/blocklist",
        response_model=BlocklistOut,
        summary="Blocked profiles, newest block first",
        description="Cursor-paginated. Send the ETag back in If-None-Match: 304 when the "
        "page has not changed.",
        responses={304: {"description": "Not modified (If-None-Match matched)"}},
    )
    async def read_blocklist(
        _principal: Annotated[Principal, read],
        _once: SingleValuedQuery,
        platform: Annotated[
            str | None,
            Query(json_schema_extra=platform_schema),
            AfterValidator(lambda v: v if v is None else check_platform(v)),
            VALID_UNICODE,
        ] = None,
        since: Annotated[
            Instant | None,
            Query(description="ISO-8601 instant with offset: only blocks at or after it."),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
        cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH), VALID_UNICODE] = None,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        try:
            page = await service().blocklist(
                platform=platform, since=since, limit=limit, cursor=cursor
            )
        except InvalidCursorError as error:
            raise RequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("query", "cursor"),
                        "msg": f"Invalid cursor: {error}",
                    }
                ]
            ) from None
        body = _dumps(render_blocklist(page))
        etag = strong_etag(body)
        headers = {"ETag": etag, "Cache-Control": BLOCKLIST_CACHE_CONTROL}
        if if_none_match_matches(if_none_match, etag):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=JSON_MEDIA_TYPE, headers=headers)

    return router
