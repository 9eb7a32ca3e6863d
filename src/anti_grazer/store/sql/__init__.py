"""What both SQL backends share (SQLAlchemy 2.x Core, async): the schema (``tables``,
``types``, the Alembic ``migrations``, ``migrate``, ``schema_version``), engine creation
(``engine``), the statements (``statements``, compiled once for the SQLite threads by
``prepared``), records as rows (``rows``), the store logic that runs alike through the
engine (``stores``, ``reports``), group commit (``group_commit``) and the keys the server
makes for itself (``keys``).  It imports neither adapter (``store.sqlite``,
``store.postgres``)."""
