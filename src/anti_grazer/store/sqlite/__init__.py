"""The SQLite adapter: the storage ports on a SQLite file, its reads on one reader thread
and its token writes on one writer thread (with group commit and a WAL checkpointer)."""
