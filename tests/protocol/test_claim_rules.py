"""The claim rules of a workload binding (protocol/claim_rules.py): ``NAME=PATTERN`` as an
operator writes it, and the ``*`` glob every rule matches a token's claim with (claims
are RFC 7519 §4 name/value pairs, compared as strings only)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anti_grazer.protocol.claim_rules import (
    ClaimRuleError,
    claim_rules,
    glob_matches,
    read_claim_rules,
    render_claim_rules,
    unmatched_rule,
)


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("org/app", "org/app", True),
        ("org/app", "org/app2", False),
        ("org/app", "ORG/APP", False),
        ("system:serviceaccount:prod:*", "system:serviceaccount:prod:reporter", True),
        ("system:serviceaccount:prod:*", "system:serviceaccount:prod:", True),
        ("system:serviceaccount:prod:*", "system:serviceaccount:prod-x:reporter", False),
        ("repo:org/*", "repo:org/app:ref:refs/heads/main", True),  # crosses ':' and '/'
        ("repo:org/*:ref:refs/heads/main", "repo:org/app:ref:refs/heads/main", True),
        ("repo:org/*:ref:refs/heads/main", "repo:org/app:ref:refs/heads/dev", False),
        ("*", "", True),
        ("a*b*c", "abc", True),
        ("a*b*c", "aXbYbZc", True),
        ("a*b*c", "acb", False),
        ("ab*ba", "aba", False),  # the two ends may not overlap
        ("*.*", "no dot", False),
        ("a?c", "abc", False),  # '?' is a plain character
        ("a?c", "a?c", True),
        ("[ab]", "a", False),  # so are brackets
    ],
)
def test_a_star_stands_for_any_run_of_characters(pattern: str, value: str, matches: bool) -> None:
    assert glob_matches(pattern, value) is matches


@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=40))
def test_a_star_matches_whatever_is_between(prefix: str, middle: str, suffix: str) -> None:
    """``P*S`` matches ``P + anything + S``; a pattern without ``*`` only itself."""
    if "*" not in prefix + suffix:
        assert glob_matches(f"{prefix}*{suffix}", prefix + middle + suffix)
        assert glob_matches(prefix + suffix, prefix + suffix)


def test_rules_parse_sort_and_survive_storage() -> None:
    rules = claim_rules(["sub=repo:org/app:*", "repository=org/app", "x=a=b"])
    assert rules == (("repository", "org/app"), ("sub", "repo:org/app:*"), ("x", "a=b"))
    assert read_claim_rules(render_claim_rules(rules)) == rules
    assert render_claim_rules(rules) == '{"repository":"org/app","sub":"repo:org/app:*","x":"a=b"}'


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([], "a binding needs at least one --claim rule (e.g. sub=...)"),
        (["sub"], "a claim rule is NAME=PATTERN, e.g. sub=repo:org/app:*: 'sub'"),
        (["sub="], "a claim rule is NAME=PATTERN, e.g. sub=repo:org/app:*: 'sub='"),
        (["=x"], "a claim rule is NAME=PATTERN, e.g. sub=repo:org/app:*: '=x'"),
        (["sub=a", "sub=b"], "each claim may be named by one rule only"),
        (["aud=x"], "the claim 'aud' is checked by the server itself; bind on others"),
        (["sub=a\nb"], "a claim rule is printable and at most 512 characters"),
    ],
)
def test_unusable_rules_are_refused(rules: list[str], message: str) -> None:
    with pytest.raises(ClaimRuleError) as refused:
        claim_rules(rules)
    assert str(refused.value) == message


def test_every_rule_must_match_a_string_claim() -> None:
    rules = claim_rules(["repository=org/*", "ref=refs/heads/main"])
    claims: dict[str, object] = {"repository": "org/app", "ref": "refs/heads/main"}
    assert unmatched_rule(rules, claims) is None
    assert unmatched_rule(rules, {**claims, "ref": "refs/heads/dev"}) == "ref"
    assert unmatched_rule(rules, {"ref": "refs/heads/main"}) == "repository"
    for value in (1, None, ["org/app"], {"name": "org/app"}, True):
        assert unmatched_rule(rules, {**claims, "repository": value}) == "repository"
