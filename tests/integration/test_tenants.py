"""Creating tenants: an id that is safe in S3 keys and counter keys, a name, and a conflict
only when the tenant already exists."""

import pytest

from cloudsms.errors import BadRequest, Conflict
from cloudsms.services import tenants


@pytest.mark.parametrize("tenant_id", ["acme", "t2", "portal-orders", "cli_tenant", "a" * 40])
def test_a_tenant_is_created_with_a_valid_id(aws, tenant_id):
    created = tenants.create_tenant(tenant_id, "Acme", "Asia/Shanghai")

    assert tenants.get_tenant(tenant_id).name == created.name == "Acme"


@pytest.mark.parametrize(
    "tenant_id",
    ["", "a b", "x/y", "../etc", "demo#2026-11-26", "a" * 41, "x" * 300, "ÄÖ", "Acme", "-acme"],
)
def test_a_tenant_id_outside_the_rule_is_refused_naming_the_rule(aws, tenant_id):
    with pytest.raises(BadRequest, match="1 to 40 lowercase letters, digits"):
        tenants.create_tenant(tenant_id, "Acme", "Asia/Shanghai")


@pytest.mark.parametrize("name", ["", "   "])
def test_a_tenant_without_a_name_is_refused(aws, name):
    with pytest.raises(BadRequest, match="a tenant needs a name"):
        tenants.create_tenant("acme", name, "Asia/Shanghai")


def test_a_tenant_created_twice_is_a_conflict(aws):
    tenants.create_tenant("acme", "Acme", "Asia/Shanghai")

    with pytest.raises(Conflict, match="tenant acme already exists"):
        tenants.create_tenant("acme", "Acme again", "Asia/Shanghai")


def test_the_keys_of_a_tenant_that_does_not_exist_are_refused_not_an_empty_list(
    tenant, monkeypatch
):
    # A mistyped tenant id in `cloudsms key-list` read as "this tenant has no keys".
    import logging

    from cloudsms import cli
    from cloudsms.observability import logger

    monkeypatch.setattr(cli, "_target_local", lambda state_file: None)
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = handler.stream  # the command sends the log to this test's stderr: put it back
    try:
        with pytest.raises(SystemExit, match="cloudsms: tenant acmee does not exist"):
            cli.main(["key-list", "acmee"])
    finally:
        handler.setStream(stream)


def test_the_keys_are_listed_with_iso_8601_times_as_every_other_answer(tenant, monkeypatch, capsys):
    # json's default=str wrote "2026-11-28 07:35:45.022103+00:00", a time no other
    # command or route writes, and not what a script parsing ISO 8601 expects.
    import json
    import logging
    from datetime import datetime

    from cloudsms import cli
    from cloudsms.observability import logger

    key_id = tenants.issue_key("acme").key_id
    tenants.revoke_key("acme", key_id)
    monkeypatch.setattr(cli, "_target_local", lambda state_file: None)
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = handler.stream  # the command sends the log to this test's stderr: put it back
    try:
        cli.main(["key-list", "acme"])
    finally:
        handler.setStream(stream)

    [listed] = [k for k in json.loads(capsys.readouterr().out) if k["key_id"] == key_id]
    for written in (listed["created_at"], listed["revoked_at"]):
        assert "T" in written
        assert datetime.fromisoformat(written).isoformat() == written
