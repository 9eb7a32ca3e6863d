"""Reading registered JWT claims (RFC 7519 §4.1) as every verifier of ours reads them: a
NumericDate (§2), and an audience (§4.1.3).  The guard's remote verifiers read an
introspection answer's members with the same rules (RFC 7662 §2.2)."""

from __future__ import annotations

from datetime import UTC, datetime


def numeric_date(value: object) -> datetime | None:
    """A NumericDate (RFC 7519 §2: seconds since the epoch, a JSON number) as a UTC
    datetime; None when absent; ``ValueError`` for anything else (a boolean, a string, a
    number out of range)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("not a NumericDate")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError) as error:
        raise ValueError("NumericDate out of range") from error


def audience_contains(aud: object, audience: str) -> bool:
    """``aud`` (a string or an array of strings, RFC 7519 §4.1.3) names ``audience``."""
    if isinstance(aud, str):
        return aud == audience
    return isinstance(aud, list) and audience in aud
