"""What the operator of a deployed stack relies on, a year in: an upgrade or a `sam
delete` keeps the data, and the logs do not grow forever."""

from typing import Any

from cloudsms_local.template import load_template

RESOURCES: dict[str, Any] = load_template()["Resources"]
GLOBALS: dict[str, Any] = load_template()["Globals"]["Function"]


def _of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


def _backed_up(table: dict[str, Any]) -> bool:
    spec = table["Properties"].get("PointInTimeRecoverySpecification", {})
    return spec.get("PointInTimeRecoveryEnabled") is True


def test_every_table_worth_a_backup_and_the_bucket_outlive_a_replacement_and_a_stack_delete():
    keep = {n: r for n, r in _of_type("AWS::DynamoDB::Table").items() if _backed_up(r)}
    keep.update(_of_type("AWS::S3::Bucket"))

    lost = sorted(
        name
        for name, resource in keep.items()
        if resource.get("DeletionPolicy") != "Retain"
        or resource.get("UpdateReplacePolicy") != "Retain"
    )

    assert {"MessagesTable", "OrdersTable", "CountersTable", "UploadBucket"} <= keep.keys()
    assert lost == []


def test_the_tables_of_money_and_messages_are_backed_up():
    tables = _of_type("AWS::DynamoDB::Table")
    for name in ("OrdersTable", "CountersTable", "MessagesTable", "TenantsTable"):
        assert _backed_up(tables[name]), name


def _functions() -> dict[str, dict[str, Any]]:
    return _of_type("AWS::Serverless::Function")


def test_every_function_logs_to_a_group_that_forgets():
    group = GLOBALS.get("LoggingConfig", {}).get("LogGroup", {}).get("Ref")
    assert group in _of_type("AWS::Logs::LogGroup")
    retention = RESOURCES[group]["Properties"]["RetentionInDays"]
    assert retention == {"Ref": "LogRetentionDays"}
    assert load_template()["Parameters"]["LogRetentionDays"]["Default"] <= 365

    # A function's own LoggingConfig is merged with the global one by SAM: none may
    # name another group (which would keep its logs forever).
    elsewhere = sorted(
        name
        for name, function in _functions().items()
        if "LogGroup" in function["Properties"].get("LoggingConfig", {})
    )
    assert elsewhere == []
