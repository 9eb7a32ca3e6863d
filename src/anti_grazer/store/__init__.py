"""Storage adapters implementing ``anti_grazer.protocol.ports`` and
``anti_grazer.reports.ports``.  The server and the command line open them through one
seam, ``store.runtime.open_stores``; the adapters are ``store.sqlite`` and
``store.postgres``, over what both share in ``store.sql``, and ``store.memory`` for tests."""
