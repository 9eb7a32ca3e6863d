"""Load benchmarks for the Anti Grazer API (DESIGN.md §6); not tests, never run by pytest."""
