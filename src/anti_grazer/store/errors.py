"""Errors every store raises alike."""


class DuplicateClientError(ValueError):
    """A client with this id already exists."""


class UnknownClientError(LookupError):
    """No client has this id."""


class DuplicateSigningKeyError(ValueError):
    """A signing key with this kid already exists."""
