"""The Anti Grazer reports API (reports, profiles, blocklist) behind the bearer guard."""
