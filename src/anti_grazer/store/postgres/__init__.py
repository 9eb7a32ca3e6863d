"""The PostgreSQL adapter: the storage ports on PostgreSQL (asyncpg), token inserts in
shared transactions (group commit) and cache invalidation across instances (LISTEN/NOTIFY)."""
