"""The README's code examples, as the tests that run them read them."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def example(name: str) -> str:
    """The Python block that follows ``<!-- example: NAME -->`` in the README."""
    match = re.search(
        rf"<!-- example: {re.escape(name)} -->\s*```python\n(.*?)```", README.read_text(), re.S
    )
    assert match is not None, f"README has no example {name!r}"
    return match.group(1)
