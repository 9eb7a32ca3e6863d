"""The lockout's rules (``protocol.lockout``; issue 18 item 2): how long a lockout lasts,
and what failures are counted under.  Its behaviour through HTTP is
``tests/web/test_lockout.py``."""

from __future__ import annotations

import pytest

from anti_grazer.protocol.lockout import UNKNOWN_ADDRESS, Attempt, LockoutPolicy, address_of

POLICY = LockoutPolicy()


def test_the_lockout_doubles_with_each_failure_and_is_bounded() -> None:
    """1 minute at the 5th failure within the window, twice as long at each after it,
    15 minutes at most, however many failures."""
    lockouts = [POLICY.lock_for(failures, POLICY.failures) for failures in range(5, 12)]
    assert lockouts == [60, 120, 240, 480, 900, 900, 900]
    assert POLICY.lock_for(10**9, POLICY.failures) == 900


@pytest.mark.parametrize(
    ("source", "counted_as"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        (None, UNKNOWN_ADDRESS),
        ("", UNKNOWN_ADDRESS),
        ("/run/anti-grazer.sock", UNKNOWN_ADDRESS),
    ],
)
def test_addresses_are_counted_by_host(source: str | None, counted_as: str) -> None:
    """An IPv6 host commonly holds a whole /64: counting its addresses apart would give
    it 2^64 times the failures."""
    assert address_of(source) == counted_as


def test_an_id_of_any_size_makes_keys_of_one_size() -> None:
    """The presented id is attacker's input: its keys are a digest of it, the same for a
    known id and a made-up one, so the keys tell nothing and stay small."""
    short = Attempt("ag_ci_x", "192.0.2.7")
    huge = Attempt("x" * 16384, "192.0.2.7")
    assert len(huge.lock_keys[0]) == len(short.lock_keys[0])
    assert "x" * 40 not in huge.lock_keys[0]
    assert short.lock_keys[1] == huge.lock_keys[1] == "locked:192.0.2.7"
    assert short.failure_keys[0] != huge.failure_keys[0]
    assert Attempt("ag_ci_x", "192.0.2.8").lock_keys[0] != short.lock_keys[0]
