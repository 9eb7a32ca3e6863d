"""Errors every store raises alike."""


class DuplicateClientError(ValueError):
    """A client with this id already exists."""


class UnknownClientError(LookupError):
    """No client has this id."""
