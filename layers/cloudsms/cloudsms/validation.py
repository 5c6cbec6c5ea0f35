"""Input checked against a pydantic model, with the problems named field by field: for
the API's bodies and for the console command alike. Never pydantic's own text, which
repeats the value given (an endpoint refused for holding a password would show it).
And JSON documents from outside read so that any bad one is a ValueError."""

import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from cloudsms.domain import content
from cloudsms.errors import BadRequest, cut

M = TypeVar("M", bound=BaseModel)


def _field(location: tuple[Any, ...]) -> str:
    # ("body", "to", 0) reads better as "to[0]"; the leading "body" says nothing. A key
    # the body should not have is named by its start (a JSON key may be 100 KB long).
    parts = [cut(str(p)) for p in location if p != "body"]
    return ".".join(parts) or "body"


def _reason(error: Any) -> str:
    # pydantic prefixes our validators' own words with "Value error, "; they read alone.
    return str(error.get("msg", "")).removeprefix("Value error, ")


def details(errors: Any) -> list[dict[str, str]]:
    """Each problem as {field, reason}."""
    return [_detail(e) for e in errors]


def _detail(error: Any) -> dict[str, str]:
    # Powertools places a body that is not JSON at ("body", <offset of the fault>), which
    # would read as a field named "0"; the whole body is at fault.
    if error.get("type") == "json_invalid":
        return {"field": "body", "reason": "not valid JSON"}
    return {"field": _field(tuple(error.get("loc", ()))), "reason": _reason(error)}


def validated(model: type[M], data: Any) -> M:
    """`data` as `model`, or a 400 naming each problem (as the resolver does for bodies)."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        found = details(error.errors())
        summary = "; ".join(f"{d['field']}: {d['reason']}" for d in found)
        raise BadRequest(summary, details=found) from error


def loads_json(document: str | bytes) -> Any:
    """`document` parsed. One nested deeper than the parser's recursion limit (a 2 KB
    body of brackets is) is invalid JSON like any other, a JSONDecodeError (a ValueError)
    that callers refuse with a 400, rather than a RecursionError that ends in a 502. So
    is a number longer than Python converts (4,300 digits): the parser raises a bare
    ValueError for it, which the resolver would not take for invalid JSON either."""
    try:
        return json.loads(document)
    except RecursionError as error:
        raise json.JSONDecodeError("nested too deeply", "", 0) from error
    except json.JSONDecodeError:
        raise
    except ValueError as error:
        raise json.JSONDecodeError("a number too long to read", "", 0) from error


def one_line_name(what: str) -> Callable[[Any], Any]:
    """A before-validator for a name (`what` says whose): trimmed, not blank, and one
    line of printable characters."""

    def valid(value: Any) -> Any:
        # Spaces around a name tell names apart to nobody; a blank name names nothing.
        # Checked before the length, whose own words ("at least 1 character") would puzzle.
        if isinstance(value, str):
            value = value.strip()
            if content.shows_nothing(value):
                raise ValueError(f"the {what} is empty")
            reason = content.not_one_line(value, what)
            if reason:
                raise ValueError(reason)
        return value

    return valid
