"""SQL storage (SQLAlchemy 2.x Core, async): SQLite by default, PostgreSQL in production."""
