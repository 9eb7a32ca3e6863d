"""RFC 8707 resource indicators (protocol/audience.py): which values are resource
indicators (§2), which audiences we register, the audience a token request gets, and
``aud``'s shape (RFC 7519 §4.1.3)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from anti_grazer.protocol.audience import (
    MALFORMED,
    audience_claim,
    audience_contains,
    audience_problem,
    grant_audience,
    resource_problem,
)
from anti_grazer.protocol.errors import InvalidTargetError
from tests.support import make_client

REPORTS = "https://reports.example.com/"
CALENDAR = "urn:example:calendar"
SERVER = "https://as.example.com"


@pytest.mark.parametrize(
    "value",
    [
        REPORTS,
        CALENDAR,
        "https://api.example.com:8443/v1/reports?tenant=a",
        "HTTPS://API.EXAMPLE.COM/%7Euser",
        "urn:uuid:33336dcd-a239-444a-90ae-76d381c3e6d5",
        "https://[2001:db8::1]/",
        "x:",
    ],
)
def test_absolute_uris_are_resource_indicators(value: str) -> None:
    """§2: "MUST be an absolute URI, as specified by Section 4.3 of [RFC3986]" (a
    query is allowed there, only discouraged; an empty hier-part is one too)."""
    assert resource_problem(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "reports",
        "/v1/reports",
        "//reports.example.com/",
        ":x",
        "1x:y",
        "ht tp://x",
        "https://x/a b",
        "https://x/%zz",
        "https://x/é",
        "https://x/\n",
        'https://x/"',
        "https://x/<a>",
    ],
)
def test_anything_else_is_not_an_absolute_uri(value: str) -> None:
    assert resource_problem(value) == (
        "is not an absolute URI (RFC 3986 §4.3: a scheme, ':', then URI characters)"
    )


@pytest.mark.parametrize("value", [REPORTS + "#x", REPORTS + "#", "urn:a#b", "#"])
def test_a_fragment_is_refused(value: str) -> None:
    """§2: "The URI MUST NOT include a fragment component"."""
    assert resource_problem(value) == "has a fragment (RFC 8707 §2: it MUST NOT)"


def test_we_register_no_query() -> None:
    """§2: a resource "SHOULD NOT include a query component"; we register none."""
    assert audience_problem(REPORTS + "?a=1") == (
        "has a query (RFC 8707 §2: it SHOULD NOT; not accepted here)"
    )
    assert audience_problem(REPORTS) is None
    assert audience_problem(REPORTS + "#x") == "has a fragment (RFC 8707 §2: it MUST NOT)"


def test_the_requested_resources_are_the_audience_once_each_in_order() -> None:
    """§2: several resources, each allowed: all of them, once, in the order asked."""
    client = replace(make_client(), audiences=(REPORTS, CALENDAR))
    assert grant_audience([CALENDAR, REPORTS, CALENDAR], client, SERVER) == (CALENDAR, REPORTS)


def test_no_resource_is_the_default_audience() -> None:
    """§2: "a pre-defined default resource value": the client's first audience; a
    client registered without any gets no specific audience."""
    client = replace(make_client(), audiences=(CALENDAR, REPORTS))
    assert grant_audience([], client, SERVER) == (CALENDAR,)
    assert grant_audience([], make_client(), SERVER) == ()


def test_a_client_without_audiences_may_name_the_servers() -> None:
    assert grant_audience([SERVER], make_client(), SERVER) == (SERVER,)
    with pytest.raises(InvalidTargetError):
        grant_audience([SERVER], make_client(), None)


@pytest.mark.parametrize(
    ("requested", "description"),
    [
        ([SERVER], "The requested resource is invalid or not allowed for this client"),
        (
            [REPORTS, "https://other.example/"],
            "The requested resource is invalid or not allowed for this client",
        ),
        (["reports"], MALFORMED),
        ([REPORTS + "#x"], MALFORMED),
    ],
)
def test_an_unacceptable_resource_is_invalid_target(requested: list[str], description: str) -> None:
    """§2 ``invalid_target``: "invalid, missing, unknown, or malformed" (400)."""
    client = replace(make_client(), audiences=(REPORTS,))
    with pytest.raises(InvalidTargetError) as raised:
        grant_audience(requested, client, SERVER)
    assert (raised.value.code, raised.value.status) == ("invalid_target", 400)
    assert raised.value.description == description


def test_aud_is_a_string_for_one_audience_and_an_array_for_several() -> None:
    """RFC 7519 §4.1.3."""
    assert audience_claim((REPORTS,)) == REPORTS
    assert audience_claim((REPORTS, CALENDAR)) == [REPORTS, CALENDAR]
    with pytest.raises(ValueError, match="no aud"):
        audience_claim(())


@pytest.mark.parametrize(
    ("aud", "named"),
    [
        (REPORTS, True),
        ([CALENDAR, REPORTS], True),
        (CALENDAR, False),
        ([CALENDAR], False),
        (None, False),
        ([], False),
        ({"aud": REPORTS}, False),
        (REPORTS.upper(), False),
    ],
)
def test_audience_contains(aud: object, named: bool) -> None:
    """RFC 7519 §4.1.3 as RFC 9068 §4 and RFC 7662 §2.2 read it: a string, or an array
    holding it; compared exactly."""
    assert audience_contains(aud, REPORTS) is named
