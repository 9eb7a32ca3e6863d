"""The authorization server's issuer identifier (RFC 8414 §2): the check of a configured
one, and the base URL that stands in for it when none is configured (local use).

The issuer is never taken from a request: the Host header is the client's choice, and
the metadata that names the issuer is publicly cacheable, so an issuer built from a forged
Host could be served from a shared cache to everyone else."""

from __future__ import annotations

import ipaddress
import string
from urllib.parse import urlsplit

HTTPS = "https://"
HTTP = "http://"
_DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 §2.3 unreserved characters, and the "/" between segments.
_PATH_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-._~/")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_issuer(url: str) -> str:
    """``url`` unchanged if it is an issuer identifier, else ``ValueError`` saying why.

    RFC 8414 §2: a URL with the ``https`` scheme and no query or fragment component
    (``http`` only for a loopback host, for local use).  A path is allowed (§3.1 inserts
    the well-known suffix before it); credentials in the URL are not.  The value is kept
    as given: clients compare issuers as strings (§3.3)."""
    if not url.isascii() or not url.isprintable() or " " in url:
        raise ValueError("the issuer must be a URL of printable ASCII without spaces")
    if "?" in url or "#" in url:
        raise ValueError("the issuer must have no query or fragment (RFC 8414 §2)")
    if not url.startswith((HTTPS, HTTP)):
        raise ValueError("the issuer must be an absolute https:// URL")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError("the issuer is not a valid URL") from None
    if "@" in parts.netloc:
        raise ValueError("the issuer must carry no credentials")
    if not parts.hostname:
        raise ValueError("the issuer must name a host")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError("the issuer must use https (http only for a loopback host)")
    if not _PATH_CHARACTERS.issuperset(parts.path):
        # A "%" escape or a "{name}" would not name one literal path: the well-known
        # path of §3.1 is routed, and requests arrive decoded.
        raise ValueError("the issuer's path may hold only letters, digits, '-._~' and '/'")
    return url


def served_base_url(host: str, port: int, tls: bool) -> str:
    """The base URL the server listens on, from its settings: ``http(s)://HOST:PORT``
    (an IPv6 address in brackets, the scheme's default port left out)."""
    scheme = "https" if tls else "http"
    name = f"[{host}]" if ":" in host else host
    suffix = "" if _DEFAULT_PORTS[scheme] == port else f":{port}"
    return f"{scheme}://{name}{suffix}"
