"""Storage adapters implementing ``anti_grazer.protocol.ports``."""
