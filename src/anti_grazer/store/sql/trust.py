"""The ``TrustStore`` port over the ``trusted_issuers`` and ``federation_bindings`` tables,
the same on SQLite and PostgreSQL: every statement through the engine (the operator
changes them a few times a year; a federated request reads one binding, uncached, so an
unbinding counts at once on every instance)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from anti_grazer.protocol.claim_rules import read_claim_rules, render_claim_rules
from anti_grazer.protocol.models import FederationBinding, TrustedIssuer
from anti_grazer.protocol.ports import IssuerInUseError, MissingBindingTargetError
from anti_grazer.store.sql.tables import clients, federation_bindings, trusted_issuers

_issuers = trusted_issuers.c
_bindings = federation_bindings.c


def _issuer(row: Any) -> TrustedIssuer:  # a Row of any columns that include these
    return TrustedIssuer(row.issuer, row.audience, row.created_at, row.jwks_uri)


def _binding(row: Row[Any]) -> FederationBinding:
    return FederationBinding(
        row.client_id, row.issuer, read_claim_rules(row.claims), row.created_at
    )


async def _exists(connection: AsyncConnection, statement: Any) -> bool:
    return (await connection.execute(statement.limit(1))).first() is not None


class SqlTrustStore:
    """Trusted issuers and federation bindings in ``engine``'s database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add_issuer(self, trusted: TrustedIssuer) -> bool:
        row = {
            "issuer": trusted.issuer,
            "audience": trusted.audience,
            "jwks_uri": trusted.jwks_uri,
            "created_at": trusted.created_at,
        }
        try:
            async with self.engine.begin() as connection:
                await connection.execute(insert(trusted_issuers).values(row))
        except IntegrityError:  # trusted already (the primary key)
            return False
        return True

    async def list_issuers(self) -> Sequence[TrustedIssuer]:
        async with self.engine.connect() as connection:
            result = await connection.execute(
                select(trusted_issuers).order_by(_issuers.created_at, _issuers.issuer)
            )
            return [_issuer(row) for row in result]

    async def remove_issuer(self, issuer: str, *, with_bindings: bool) -> bool:
        try:
            async with self.engine.begin() as connection:
                bound = await connection.execute(
                    select(_bindings.client_id)
                    .where(_bindings.issuer == issuer)
                    .order_by(_bindings.client_id)
                )
                client_ids = [row.client_id for row in bound]
                if client_ids and not with_bindings:
                    raise IssuerInUseError(client_ids)
                await connection.execute(
                    delete(federation_bindings).where(_bindings.issuer == issuer)
                )
                removed = await connection.execute(
                    delete(trusted_issuers).where(_issuers.issuer == issuer)
                )
        except IntegrityError:
            # A client was bound meanwhile: the foreign key kept the issuer.
            raise IssuerInUseError(()) from None
        return removed.rowcount > 0

    async def add_binding(self, binding: FederationBinding, *, replace: bool) -> bool:
        try:
            return await self._add_binding(binding, replace)
        except IntegrityError:
            # Raced by a binding of the same pair, or the client or issuer went meanwhile:
            # once more, against what is committed now.
            return await self._add_binding(binding, replace)

    async def _add_binding(self, binding: FederationBinding, replace: bool) -> bool:
        pair = (_bindings.client_id == binding.client_id) & (_bindings.issuer == binding.issuer)
        values = {
            "claims": render_claim_rules(binding.claims),
            "created_at": binding.created_at,
        }
        async with self.engine.begin() as connection:
            if not await _exists(
                connection,
                select(clients.c.client_id).where(clients.c.client_id == binding.client_id),
            ):
                raise MissingBindingTargetError("client")
            if not await _exists(
                connection, select(_issuers.issuer).where(_issuers.issuer == binding.issuer)
            ):
                raise MissingBindingTargetError("issuer")
            if await _exists(connection, select(_bindings.client_id).where(pair)):
                if not replace:
                    return False
                await connection.execute(update(federation_bindings).where(pair).values(values))
                return True
            await connection.execute(
                insert(federation_bindings).values(
                    client_id=binding.client_id, issuer=binding.issuer, **values
                )
            )
        return True

    async def remove_binding(self, client_id: str, issuer: str) -> bool:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                delete(federation_bindings).where(
                    (_bindings.client_id == client_id) & (_bindings.issuer == issuer)
                )
            )
        return result.rowcount > 0

    async def list_bindings(
        self, *, client_id: str | None = None, issuer: str | None = None
    ) -> Sequence[FederationBinding]:
        statement = select(federation_bindings).order_by(_bindings.client_id, _bindings.issuer)
        if client_id is not None:
            statement = statement.where(_bindings.client_id == client_id)
        if issuer is not None:
            statement = statement.where(_bindings.issuer == issuer)
        async with self.engine.connect() as connection:
            return [_binding(row) for row in await connection.execute(statement)]

    async def find_binding(
        self, client_id: str, issuer: str
    ) -> tuple[TrustedIssuer, FederationBinding] | None:
        statement = (
            select(
                _issuers.issuer,
                _issuers.audience,
                _issuers.jwks_uri,
                _issuers.created_at,
                _bindings.client_id,
                _bindings.claims,
                _bindings.created_at.label("bound_at"),
            )
            .join(trusted_issuers, _issuers.issuer == _bindings.issuer)
            .where((_bindings.client_id == client_id) & (_bindings.issuer == issuer))
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(statement)).first()
        if row is None:
            return None
        binding = FederationBinding(
            row.client_id, row.issuer, read_claim_rules(row.claims), row.bound_at
        )
        return _issuer(row), binding
