"""Reading the item images of a DynamoDB stream record (DynamoDB JSON)."""

from collections.abc import Mapping
from typing import Any


def attribute(image: Mapping[str, Any] | None, name: str) -> str | None:
    """One text or number attribute of a stream image, as text; None when absent."""
    if not image or name not in image:
        return None
    typed = image[name]
    return typed.get("S", typed.get("N"))
