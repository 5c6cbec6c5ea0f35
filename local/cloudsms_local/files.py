"""Files of the local stack that hold its keys and passwords."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Writes `text` to a file only its owner can read: it holds the local stack's keys or
    passwords. The mode is set on creation, so there is no moment others could read it."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # a file left by an earlier run keeps its old mode otherwise
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
