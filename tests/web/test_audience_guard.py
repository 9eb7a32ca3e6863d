"""The audience of our own ``/v1`` API (RFC 9700 §2.3, RFC 8707 §2, RFC 9068 §4): a token
meant for another API is refused with RFC 6750 §3.1 ``invalid_token``, opaque or JWT;
``API_AUDIENCE`` unset, tokens without any audience still pass, as before audiences
existed, and set, every token must name it.  JWTs carry the audience as ``aud``, one
string or an array (RFC 7519 §4.1.3), and introspection tells any API a token's
audience without judging it."""

from __future__ import annotations

import httpx
import pytest

from anti_grazer.protocol.models import JWT
from anti_grazer.store.runtime import OpenedStores
from anti_grazer.web.edge import Edge
from tests.clock import FrozenClock
from tests.http_helpers import INTROSPECT, assert_active, assert_invalid_token, basic, read_profile
from tests.jwt_helpers import AUDIENCE, assert_issued_jwt, claims_of, first_key, jwt_settings
from tests.support import Registered, create_app, issue, register, request_token, running

REPORTS = "https://reports.example.com/"
OURS = "https://anti-grazer.example.com/v1"


@pytest.fixture
def app(database_url: str, clock: FrozenClock) -> Edge:
    """The app with JWT access tokens on; its default audience ``AUDIENCE``."""
    return create_app(jwt_settings(database_url), clock=clock)


@pytest.fixture
async def api_client(sql: OpenedStores, clock: FrozenClock) -> Registered:
    """An opaque client that may ask for another API (its default) and for ours."""
    return await register(sql.clients, clock, audiences=(REPORTS, AUDIENCE))


@pytest.fixture
async def jwt_client(sql: OpenedStores, clock: FrozenClock) -> Registered:
    await first_key(sql.signing_keys, clock)
    return await register(sql.clients, clock, token_format=JWT, audiences=(REPORTS, AUDIENCE))


async def test_a_token_for_another_api_is_refused(
    http: httpx.AsyncClient, api_client: Registered
) -> None:
    """RFC 9700 §2.3: a resource server refuses a token audience-restricted to another
    one: 401 ``invalid_token``, its exact body and ``WWW-Authenticate`` (RFC 6750 §3)."""
    token = await issue(http, api_client)  # its default audience: REPORTS
    assert_invalid_token(await read_profile(http, token))


async def test_a_token_naming_our_audience_passes(
    http: httpx.AsyncClient, api_client: Registered
) -> None:
    """A token for our API, alone or among others (RFC 8707 §2 several resources)."""
    for resources in ((AUDIENCE,), (REPORTS, AUDIENCE)):
        token = await issue(http, api_client, None, resources)
        assert (await read_profile(http, token)).status_code == 200


async def test_a_token_without_audience_passes_unless_api_audience_is_set(
    database_url: str, clock: FrozenClock, http: httpx.AsyncClient, registered: Registered
) -> None:
    """API_AUDIENCE unset: an opaque token of a client registered without audiences has
    no specific audience restriction and passes, as before audiences existed.  Set, our
    API accepts only tokens that name it."""
    unrestricted = await issue(http, registered)
    assert (await read_profile(http, unrestricted)).status_code == 200
    strict = create_app(jwt_settings(database_url, api_audience=AUDIENCE), clock=clock)
    async with running(strict) as strict_http:
        assert_invalid_token(await read_profile(strict_http, unrestricted))
        ours = await issue(strict_http, registered, None, (AUDIENCE,))
        assert (await read_profile(strict_http, ours)).status_code == 200


async def test_api_audience_names_the_api_apart_from_the_default(
    database_url: str, clock: FrozenClock, sql: OpenedStores
) -> None:
    """With API_AUDIENCE set apart from AUDIENCE, a token must name API_AUDIENCE: the
    server's default audience is then another API's."""
    both = await register(sql.clients, clock, audiences=(OURS, AUDIENCE))
    app = create_app(jwt_settings(database_url, api_audience=OURS), clock=clock)
    async with running(app) as http:
        assert (await read_profile(http, await issue(http, both))).status_code == 200
        default = await issue(http, both, None, (AUDIENCE,))
        assert_invalid_token(await read_profile(http, default))


async def test_jwt_aud_is_a_string_or_an_array(
    http: httpx.AsyncClient, jwt_client: Registered
) -> None:
    """RFC 7519 §4.1.3: one audience is a single string, several an array, in the order
    asked (RFC 8707 §2); introspection's ``aud`` has the same shape (RFC 7662 §2.2)."""
    default = await request_token(http, jwt_client.client_id, jwt_client.secret)
    assert claims_of(assert_issued_jwt(default, "profiles:read"))["aud"] == REPORTS
    both = await request_token(
        http, jwt_client.client_id, jwt_client.secret, None, (AUDIENCE, REPORTS)
    )
    token = assert_issued_jwt(both, "profiles:read")
    assert claims_of(token)["aud"] == [AUDIENCE, REPORTS]
    auth = basic(jwt_client.client_id, jwt_client.secret)
    members = assert_active(
        await http.post(INTROSPECT, data={"token": token}, headers={"Authorization": auth})
    )
    assert members["aud"] == [AUDIENCE, REPORTS]


async def test_a_jwt_for_another_api_is_refused_but_introspected(
    http: httpx.AsyncClient, jwt_client: Registered
) -> None:
    """RFC 9068 §4: our API refuses a JWT whose ``aud`` does not name it; introspection
    answers it active with its ``aud``, for the API it is meant for to judge."""
    token = assert_issued_jwt(
        await request_token(http, jwt_client.client_id, jwt_client.secret), "profiles:read"
    )
    assert_invalid_token(await read_profile(http, token))
    auth = basic(jwt_client.client_id, jwt_client.secret)
    members = assert_active(
        await http.post(INTROSPECT, data={"token": token}, headers={"Authorization": auth})
    )
    assert members["aud"] == REPORTS
    ours = await request_token(http, jwt_client.client_id, jwt_client.secret, None, (AUDIENCE,))
    assert (await read_profile(http, assert_issued_jwt(ours, "profiles:read"))).status_code == 200
