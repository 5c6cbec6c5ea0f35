"""Which cursors a list that reads DynamoDB takes: only the last keys it gave out."""

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from cloudsms.errors import BadRequest
from cloudsms.services.pages import decode_cursor, decode_last_key, encode_cursor, one_page

ACME = ("tenant_id", "acme")
LAST = {"tenant_id": {"S": "acme"}, "uid": {"S": "M1-000002"}}


def _crafted(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_a_cursor_the_list_gave_out_is_its_last_key():
    assert decode_last_key(encode_cursor(LAST), ACME, ("uid",), starts_with="M1") == LAST


def test_a_scan_takes_any_partition():
    last = {"route_id": {"S": "SIM"}}

    assert decode_last_key(encode_cursor(last), None, ("route_id",)) == last


def test_no_cursor_is_the_first_page():
    assert decode_last_key(None, ACME, ("uid",)) is None


@pytest.mark.parametrize(
    "last_key",
    [
        {"x": 1},
        {"tenant_id": {"S": "demo"}, "uid": {"S": "M1-000002"}},  # another tenant's
        {"tenant_id": {"S": "acme"}},  # no range key
        {**LAST, "text": {"S": "Hello"}},  # not a key attribute
        {"tenant_id": {"S": "acme"}, "uid": {"N": "1"}},  # the table's uid is a string
        {"tenant_id": {"S": "acme"}, "uid": {"S": ""}},
        {"tenant_id": {"S": "acme"}, "uid": {"S": "M1-" + "9" * 1024}},
        {"tenant_id": {"S": "acme"}, "uid": {"S": "M1", "N": "1"}},
        {"tenant_id": {"S": "acme"}, "uid": "M1-000002"},
        {"tenant_id": {"S": "acme"}, "uid": {"S": "M2-000002"}},  # another mission's
    ],
)
def test_a_cursor_that_is_not_the_lists_last_key_is_refused(last_key):
    with pytest.raises(BadRequest, match="the cursor is not one this API gave out"):
        decode_last_key(_crafted(last_key), ACME, ("uid",), starts_with="M1")


@dataclass
class _Item:
    owner: str
    number: str


def _read(count: int) -> Iterator[_Item]:
    """What a read of DynamoDB yields; it may give a last evaluated key either way."""
    yield from (_Item("acme", f"+6391755501{n:02d}") for n in range(count))


def test_a_page_that_ends_the_list_has_no_cursor_though_it_fills_its_size():
    items, cursor = one_page(_read(3), 3, ("owner", "number"))

    assert ([i.number for i in items], cursor) == (
        ["+639175550100", "+639175550101", "+639175550102"],
        None,
    )


def test_a_page_with_more_after_it_gives_the_key_of_its_last_item():
    items, cursor = one_page(_read(4), 3, ("owner", "number"))

    assert len(items) == 3
    assert decode_cursor(cursor) == {"owner": {"S": "acme"}, "number": {"S": "+639175550102"}}
