"""Fixtures of the command line's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import Cli


@pytest.fixture
def run(tmp_path: Path) -> Cli:
    """``anti-grazer`` on a SQLite file in a folder that does not exist yet."""
    return Cli(tmp_path / "var" / "cli.db")
