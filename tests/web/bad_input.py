"""What the bad-input tests of the OAuth endpoints send: raw requests (header values as
bytes), hypothesis strategies of header values, text and Authorization values, and
token request bodies of a chosen size."""

from __future__ import annotations

from base64 import b64encode
from urllib.parse import quote

import httpx
from hypothesis import strategies as st

MAX_BODY_BYTES = 16384  # the default of Settings.max_body_bytes
GRANT = b"grant_type=client_credentials"


async def raw_post(
    http: httpx.AsyncClient,
    url: str,
    content: bytes,
    headers: dict[str, str | bytes],
) -> httpx.Response:
    return await http.post(url, content=content, headers=raw_headers(headers))


def raw_headers(headers: dict[str, str | bytes] | dict[str, bytes]) -> list[tuple[bytes, bytes]]:
    """Header values as the bytes to send (text as latin-1, as HTTP/1.1 carries it)."""
    return [
        (name.encode("ascii"), value if isinstance(value, bytes) else value.encode("latin-1"))
        for name, value in headers.items()
    ]


def padded(size: int) -> bytes:
    """A valid token request body of exactly ``size`` bytes."""
    prefix = GRANT + b"&pad="
    return prefix + b"x" * (size - len(prefix))


# --- strategies -------------------------------------------------------------------------


# What an HTTP parser lets through in a field value: no CR, LF or NUL.
header_bytes = st.binary(max_size=120).map(
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")
)


# Text as Starlette sees it (headers are decoded as latin-1).
latin1_text = st.text(
    alphabet=st.characters(min_codepoint=0x01, max_codepoint=0xFF, exclude_characters="\r\n"),
    max_size=60,
)


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


not_utf8 = st.binary(min_size=1, max_size=60).filter(_not_utf8)


authorization_values = st.one_of(
    header_bytes,
    latin1_text.map(lambda t: t.encode("latin-1")),
    st.binary(max_size=80).map(lambda b: b"Basic " + b64encode(b)),
    st.tuples(latin1_text, latin1_text).map(
        lambda pair: ("Basic " + b64encode(":".join(pair).encode()).decode()).encode()
    ),
    not_utf8.map(lambda b: ("Basic " + b64encode(b"id:" + b).decode()).encode()),
    not_utf8.map(lambda b: ("Basic " + b64encode(b"id:" + quote(b).encode()).decode()).encode()),
    st.sampled_from(
        [b"Basic", b"Basic ", b"Bearer x", b"basic ====", b"Basic YQ==", b"Basic Og=="]
    ),
)
