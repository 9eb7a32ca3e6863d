"""A file readable and writable by its owner only (0600), in folders of the owner only
(0700) where we create them: the SQLite database holds every client's secret digest and
every token's digest, and is not for other users of the machine to read.

The mode is given to ``open``/``mkdir`` themselves, so nothing changes the process umask
(which would reach every file its other threads and its host application create)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def create_private_folders(folder: Path) -> None:
    """Create ``folder`` and its missing parents, each 0700; existing ones stay as they
    are (``Path.mkdir(parents=True)`` would give the parents the default mode)."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            path.mkdir(mode=FOLDER_MODE)


def create_private_file(path: Path) -> None:
    """Create the empty file ``path`` (0600), and its missing folders (0700), unless it
    exists: an existing file keeps its mode and content."""
    create_private_folders(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        return
    os.close(descriptor)
