"""``private_key_jwt`` under pressure: an assertion replayed to another server instance on
the same database (RFC 7523 §3 item 7), and arbitrary ``client_assertion`` strings, which
are OAuth errors, never a 5xx."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
from hypothesis import given
from hypothesis import strategies as st
from joserfc.jwk import Key

from anti_grazer.protocol.models import Client
from tests.client_assertions import (
    ISSUER,
    assertion_claims,
    assertion_form,
    sign_assertion,
)
from tests.clock import FrozenClock
from tests.http_helpers import TOKEN, assert_invalid_client, assert_issued, assert_oauth_4xx
from tests.support import create_app, property_settings, running, settings_for


async def test_a_replay_to_another_instance_is_refused(
    tmp_path: Path, client: Client, key: Key, clock: FrozenClock, database_url: str
) -> None:
    """Two app instances on one database (here the test's, a SQLite file unless the run
    is on PostgreSQL): the ``jti`` one accepted is a replay for the other (RFC 7523 §3
    item 7, "the authorization server MAY ensure that JWTs are not replayed"), in
    either order."""
    settings = settings_for(database_url, issuer=ISSUER)
    first, second = create_app(settings, clock=clock), create_app(settings, clock=clock)
    async with running(first) as one, running(second) as two:
        assertion = sign_assertion(key, assertion_claims(client.client_id, clock.now()))
        assert_issued(await one.post(TOKEN, data=assertion_form(assertion)), "profiles:read")
        assert_invalid_client(await two.post(TOKEN, data=assertion_form(assertion)))
        other = sign_assertion(key, assertion_claims(client.client_id, clock.now()))
        assert_issued(await two.post(TOKEN, data=assertion_form(other)), "profiles:read")
        assert_invalid_client(await one.post(TOKEN, data=assertion_form(other)))


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
_claim_names = st.sampled_from(["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "cty", "x"])
_jws_shaped = st.builds(
    lambda header, claims, signature: ".".join(
        (_segment(json.dumps(header).encode()), _segment(json.dumps(claims).encode()), signature)
    ),
    st.dictionaries(st.sampled_from(["alg", "kid", "crit", "jku", "typ", "cty"]), _json_values),
    st.dictionaries(_claim_names, _json_values),
    st.text(alphabet="ABCxyz0129-_", max_size=20),
)
_assertions = st.one_of(
    st.text(max_size=200),
    st.from_regex(r"\A[A-Za-z0-9_\-]{0,40}(\.[A-Za-z0-9_\-=]{0,40}){0,5}\Z"),
    _jws_shaped,
)


@property_settings
@given(assertion=_assertions)
async def test_any_client_assertion_is_an_oauth_error_never_a_5xx(
    http: httpx.AsyncClient, client: Client, assertion: str
) -> None:
    """RFC 7523 §3.2: whatever the string, the answer is an RFC 6749 §5.2 error (400
    when the form itself is bad, else 401 ``invalid_client``), never a 5xx."""
    response = await http.post(TOKEN, data=assertion_form(assertion, client_id=client.client_id))
    assert assert_oauth_4xx(response) in {"invalid_client", "invalid_request"}
