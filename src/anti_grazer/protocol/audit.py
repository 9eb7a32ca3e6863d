"""The audit trail: every administrative and security event, recorded in the database
(``AuditStore``) and written as one JSON log line (logger ``anti_grazer.audit``), each
with its time, actor, subject and outcome.

An actor is ``cli:<OS user>`` for a command, ``client:<client id>`` for a request made
by an authenticated client, ``server`` for what the server decides itself (a lockout).
The subject names what the event is about: a client id, a key id, a token's public
label (``token_label``, never the token), an issuer URL, ``platform/profile``.  No event
holds a secret: the details are the handful of public values each kind names."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict, Unpack

from anti_grazer.protocol.ports import AuditStore, Clock

logger = logging.getLogger("anti_grazer.audit")

SUCCESS = "success"
REFUSED = "refused"

CLIENT_CREATED = "client.created"
CLIENT_CHANGED = "client.changed"
CLIENT_DISABLED = "client.disabled"
CLIENT_ENABLED = "client.enabled"
CLIENT_DELETED = "client.deleted"
SECRET_ROTATED = "secret.rotated"  # noqa: S105 - an event kind
SECRET_RETIRED = "secret.retired"  # noqa: S105 - an event kind
KEY_CREATED = "key.created"
KEY_ACTIVATED = "key.activated"
KEY_RETIRED = "key.retired"
KEY_WITHDRAWN = "key.withdrawn"
KEY_DELETED = "key.deleted"
TOKEN_REVOKED = "token.revoked"  # noqa: S105 - an event kind
TOKENS_REVOKED = "tokens.revoked"  # every token of a client at once
LOCKOUT_STARTED = "lockout.started"
TRUST_ADDED = "trust.added"
TRUST_REMOVED = "trust.removed"
BINDING_ADDED = "binding.added"
BINDING_REMOVED = "binding.removed"
PROFILE_MODERATED = "profile.moderated"

KINDS = (
    CLIENT_CREATED,
    CLIENT_CHANGED,
    CLIENT_DISABLED,
    CLIENT_ENABLED,
    CLIENT_DELETED,
    SECRET_ROTATED,
    SECRET_RETIRED,
    KEY_CREATED,
    KEY_ACTIVATED,
    KEY_RETIRED,
    KEY_WITHDRAWN,
    KEY_DELETED,
    TOKEN_REVOKED,
    TOKENS_REVOKED,
    LOCKOUT_STARTED,
    TRUST_ADDED,
    TRUST_REMOVED,
    BINDING_ADDED,
    BINDING_REMOVED,
    PROFILE_MODERATED,
)

Detail = str | int | bool | None


def cli_actor(os_user: str) -> str:
    return f"cli:{os_user}"


def client_actor(client_id: str) -> str:
    return f"client:{client_id}"


SERVER_ACTOR = "server"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One event as recorded.  ``client_id`` is the client it concerns (as actor or
    subject), for ``audit list --client``; ``details`` are public values only."""

    at: datetime
    kind: str
    actor: str
    subject: str | None
    outcome: str = SUCCESS
    client_id: str | None = None
    details: Mapping[str, Detail] = field(default_factory=dict)


class EventFields(TypedDict, total=False):
    """An event's optional fields (``AuditEvent``'s): its outcome (``SUCCESS`` unless
    given), the client it concerns and its public details."""

    outcome: str
    client_id: str | None
    details: Mapping[str, Detail] | None


class AuditTrail:
    """Records events in ``store`` at ``clock``'s time and logs each one."""

    def __init__(self, store: AuditStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def record(
        self, kind: str, actor: str, subject: str | None, **fields: Unpack[EventFields]
    ) -> AuditEvent:
        """Store the event, then log it (a line that says it was stored)."""
        event = self.event(kind, actor, subject, **fields)
        await self.store.record(event)
        self.logged(event)
        return event

    def event(
        self, kind: str, actor: str, subject: str | None, **fields: Unpack[EventFields]
    ) -> AuditEvent:
        """The event, at the clock's time, for a store that records it with the change
        it tells of (``TokenStore.revoke_token``); ``logged`` once it was stored."""
        if kind not in KINDS:
            raise ValueError(f"unknown audit event kind {kind!r}")
        return AuditEvent(
            self.clock.now(),
            kind,
            actor,
            subject,
            fields.get("outcome", SUCCESS),
            fields.get("client_id"),
            dict(fields.get("details") or {}),
        )

    @staticmethod
    def logged(event: AuditEvent) -> None:
        """The JSON log line of a stored ``event`` (never a secret: events hold none)."""
        logger.info(
            "audit",
            extra={
                "kind": event.kind,
                "actor": event.actor,
                "subject": event.subject,
                "outcome": event.outcome,
                "client_id": event.client_id,
                **{f"detail_{name}": value for name, value in event.details.items()},
            },
        )
