"""``anti-grazer profiles``: moderate one reported profile (``reports.moderation``); every
change is recorded in the audit trail (``profile.moderated``)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from anti_grazer.cli.common import audited, json_option, settings_or_exit, with_stores
from anti_grazer.protocol.audit import PROFILE_MODERATED
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.reports.models import ProfileRecord, Report
from anti_grazer.reports.moderation import Moderation, ProfileFile
from anti_grazer.reports.service import profile_status
from anti_grazer.store.runtime import OpenedStores

T = TypeVar("T")


def _moment(record: ProfileRecord | None, name: str) -> str | None:
    value = getattr(record, name) if record is not None else None
    return value.isoformat() if value is not None else None


def describe_profile(
    platform: str, profile_id: str, record: ProfileRecord | None
) -> dict[str, Any]:
    return {
        "platform": platform,
        "profile_id": profile_id,
        "status": profile_status(record).value,
        "reporters": record.reporters if record is not None else 0,
        "clients": record.clients if record is not None else 0,
        "first_reported_at": _moment(record, "first_reported_at"),
        "blocked_at": _moment(record, "blocked_at"),
        "cleared_at": _moment(record, "cleared_at"),
    }


def _describe_report(report: Report) -> dict[str, Any]:
    return {
        "client_id": report.client_id,
        "reporter_id": report.reporter_id,
        "reason": report.reason,
        "created_at": report.created_at.isoformat(),
    }


def _moderate(
    platform: str,
    profile_id: str,
    action: str,
    operation: Callable[[Moderation], Awaitable[T]],
    details: Callable[[T], dict[str, str | int | bool | None]],
) -> T:
    """Run ``operation`` on the profile and record it in the audit trail."""
    if platform not in settings_or_exit().platforms:
        raise click.BadParameter(f"unknown platform {platform!r}", param_hint="PLATFORM")

    async def action_on(stores: OpenedStores) -> T:
        result = await operation(Moderation(stores.reports, SystemClock()))
        if result is None:  # nothing to moderate: nothing happened
            return result
        await audited(
            stores.audit,
            PROFILE_MODERATED,
            f"{platform}/{profile_id}",
            details={"action": action, **details(result)},
        )
        return result

    return with_stores(action_on)


@click.group()
def profiles() -> None:
    """Moderate reported profiles: review, clear, block, unblock."""


@profiles.command()
@click.argument("platform")
@click.argument("profile_id")
@json_option()
def show(platform: str, profile_id: str, as_json: bool) -> None:
    """A profile's status, counts and newest reports."""

    async def action(stores: OpenedStores) -> ProfileFile:
        return await Moderation(stores.reports, SystemClock()).show(platform, profile_id)

    found = with_stores(action)
    shown = {
        **describe_profile(platform, profile_id, found.record),
        "reports": [_describe_report(report) for report in found.reports],
    }
    click.echo(json.dumps(shown, indent=None if as_json else 2))


@profiles.command()
@click.argument("platform")
@click.argument("profile_id")
def clear(platform: str, profile_id: str) -> None:
    """The profile was wrongly reported: delete its reports and lift its block; only
    reports made from now on count towards a new block."""
    removed = _moderate(
        platform,
        profile_id,
        "clear",
        lambda moderation: moderation.clear(platform, profile_id),
        lambda removed: {"reports_removed": removed},
    )
    click.echo(f"{platform}/{profile_id} cleared ({removed} reports removed)")


@profiles.command()
@click.argument("platform")
@click.argument("profile_id")
def block(platform: str, profile_id: str) -> None:
    """Block the profile now, whatever its reports."""
    record = _moderate(
        platform,
        profile_id,
        "block",
        lambda moderation: moderation.block(platform, profile_id),
        lambda _: {},
    )
    blocked = record.blocked_at.isoformat() if record.blocked_at else "-"
    click.echo(f"{platform}/{profile_id} blocked (since {blocked})")


@profiles.command()
@click.argument("platform")
@click.argument("profile_id")
def unblock(platform: str, profile_id: str) -> None:
    """Lift the profile's block; its reports stay, and a new report blocks it again if
    the rules say so."""
    record = _moderate(
        platform,
        profile_id,
        "unblock",
        lambda moderation: moderation.unblock(platform, profile_id),
        lambda _: {},
    )
    if record is None:
        raise click.ClickException(f"{platform}/{profile_id} was never reported nor blocked")
    click.echo(f"{platform}/{profile_id} unblocked")
