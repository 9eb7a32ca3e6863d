"""``anti-grazer clients limits`` and the limit options of ``clients create`` (issue 18 item
1): a client's own amounts (0: no limit), log-only and enforced limits, a reset to the
server's defaults, and what ``clients show`` prints of the limits as they hold with the
server's settings."""

from __future__ import annotations

import json

import pytest

from anti_grazer.protocol.models import ClientLimits
from tests.cli.helpers import DEFAULT_LIMITS, UNKNOWN_ID, Cli, create, limit_shown


def limits(run: Cli, client_id: str, *options: str, env: dict[str, str] | None = None) -> object:
    result = run("clients", "limits", client_id, *options, "--json", env=env)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["client_id"] == client_id
    return shown["limits"]


def own_limits(run: Cli, client_id: str) -> ClientLimits:
    client = run.client(client_id)
    assert client is not None
    return client.limits


def test_without_options_it_shows_the_servers_defaults(run: Cli) -> None:
    client_id = str(create(run)["client_id"])
    assert limits(run, client_id) == DEFAULT_LIMITS
    indented = run("clients", "limits", client_id)
    assert (
        indented.stdout
        == json.dumps({"client_id": client_id, "limits": DEFAULT_LIMITS}, indent=2) + "\n"
    )


def test_amounts_and_modes_are_stored_and_shown(run: Cli) -> None:
    client_id = str(create(run)["client_id"])
    shown = limits(
        run,
        client_id,
        *("--tokens-per-hour", "5", "--requests-per-hour", "0"),
        *("--burst-per-minute", "20", "--log-only", "burst_per_minute"),
        *("--new-reporters-per-day", "50"),
    )
    assert shown == {
        "tokens_per_hour": limit_shown(5, 3600, own=True),
        "tokens_per_day": limit_shown(1000, 86400),
        "requests_per_hour": limit_shown(None, 3600, "off", own=True),
        "burst_per_minute": limit_shown(20, 60, "log-only", own=True),
        "new_reporters_per_day": limit_shown(50, 86400, own=True),
    }
    assert own_limits(run, client_id) == ClientLimits(
        tokens_per_hour=5,
        requests_per_hour=0,
        burst_per_minute=20,
        new_reporters_per_day=50,
        log_only=frozenset({"burst_per_minute"}),
    )
    show = json.loads(run("clients", "show", client_id, "--json").stdout)
    assert show["limits"] == shown


def test_changes_keep_what_they_do_not_name_and_reset_goes_back_to_the_default(
    run: Cli,
) -> None:
    client_id = str(create(run)["client_id"])
    limits(run, client_id, "--tokens-per-hour", "5", "--log-only", "tokens_per_day")
    limits(run, client_id, "--enforce", "tokens_per_day")
    assert own_limits(run, client_id) == ClientLimits(
        tokens_per_hour=5, enforced=frozenset({"tokens_per_day"})
    )
    assert limits(run, client_id, "--reset", "tokens_per_hour", "--reset", "tokens_per_day") == (
        DEFAULT_LIMITS
    )
    assert own_limits(run, client_id) == ClientLimits()


def test_the_servers_settings_decide_what_a_client_without_its_own_gets(run: Cli) -> None:
    """``RATE_LIMIT_*`` defaults and ``RATE_LIMIT_LOG_ONLY``; a client's ``--enforce``
    wins over the server's log-only; with rate limits off every limit is off."""
    client_id = str(create(run)["client_id"])
    limits(run, client_id, "--enforce", "burst_per_minute")
    env = {
        "ANTI_GRAZER_RATE_LIMIT_TOKENS_PER_DAY": "50",
        "ANTI_GRAZER_RATE_LIMIT_LOG_ONLY": "tokens_per_day,burst_per_minute",
    }
    shown = limits(run, client_id, env=env)
    assert isinstance(shown, dict)
    assert shown["tokens_per_day"] == limit_shown(50, 86400, "log-only")
    assert shown["burst_per_minute"] == limit_shown(100, 60, "enforced", own=True)
    off = limits(run, client_id, env={"ANTI_GRAZER_RATE_LIMITS_ENABLED": "false"})
    assert isinstance(off, dict)
    assert {entry["mode"] for entry in off.values()} == {"off"}


def test_create_takes_the_same_options(run: Cli) -> None:
    created = create(
        run, "svc", "--scope", "a", "--tokens-per-day", "10", "--log-only", "tokens_per_day"
    )
    client = run.client(str(created["client_id"]))
    assert client is not None
    assert client.limits == ClientLimits(tokens_per_day=10, log_only=frozenset({"tokens_per_day"}))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ("--log-only", "tokens_per_day", "--enforce", "tokens_per_day"),
            "Error: a limit cannot be both log-only and enforced: tokens_per_day\n",
        ),
        (("--burst-per-minute", "-1"), "is not in the range x>=0"),
        (("--log-only", "requests_per_second"), "'requests_per_second' is not one of"),
    ],
)
def test_inconsistent_options_are_refused_and_change_nothing(
    run: Cli, options: tuple[str, ...], message: str
) -> None:
    client_id = str(create(run)["client_id"])
    result = run("clients", "limits", client_id, *options)
    assert result.exit_code != 0
    assert message in result.output
    assert own_limits(run, client_id) == ClientLimits()


def test_an_unknown_client_is_an_error(run: Cli) -> None:
    create(run)
    result = run("clients", "limits", UNKNOWN_ID, "--tokens-per-hour", "1")
    assert result.exit_code == 1
    assert result.output == f"Error: no client with id {UNKNOWN_ID!r}\n"
