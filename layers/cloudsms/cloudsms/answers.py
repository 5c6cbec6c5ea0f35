"""What the models of the Web API's answers share.

The services build their answers as plain dicts; the models beside them describe those
bodies for the OpenAPI document (scripts/openapi.py, through cloudsms.api.answers) and
for the contract test, which holds every answer to them. Nothing validates an answer
against them at runtime: that would cost every request, POST /v1/sms's too.
"""

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def sometimes(description: str) -> Any:
    """A field some answers leave out, rather than set to null: not required, and never
    null when it is there."""
    return Field(None, description=description, json_schema_extra=_no_default)


class Page(BaseModel, Generic[T]):
    """A page of a list."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Pass it back as `cursor` for the next page; null on the last page"
    )


def first_page_total() -> Any:
    return sometimes(
        "First page only (no cursor): how many items the list holds, counted up to 10,000"
    )


def first_page_total_exact() -> Any:
    return sometimes(
        "First page only: whether `total` is exact; false when there are at least that many"
    )


class CountedPage(Page[T], Generic[T]):
    """A page of a list whose first page also says how many items the list holds."""

    total: int = first_page_total()
    total_exact: bool = first_page_total_exact()
