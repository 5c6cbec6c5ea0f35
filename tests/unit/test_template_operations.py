"""What the operator of a deployed stack relies on, a year in: an upgrade or a `sam
delete` keeps the data, the logs do not grow forever, and a failure nobody is told
about by a dead-letter queue still reaches the alarm topic."""

import re
import tomllib
from typing import Any

from cloudsms_local.template import REPO_ROOT, load_template

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


def _alarms_on(metric: str, function: str) -> list[dict[str, Any]]:
    found = []
    for alarm in _of_type("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        dimensions = props.get("Dimensions", [])
        if (
            props.get("Namespace") == "AWS/Lambda"
            and props.get("MetricName") == metric
            and {"Name": "FunctionName", "Value": {"Ref": function}} in dimensions
        ):
            found.append(props)
    return found


def _reaches_the_operator(alarm: dict[str, Any]) -> bool:
    return {"Ref": "AlarmTopic"} in alarm.get("AlarmActions", [])


def _event_types(function: dict[str, Any]) -> set[str]:
    return {event["Type"] for event in function["Properties"].get("Events", {}).values()}


def test_a_function_no_dead_letter_queue_or_caller_watches_has_an_alarm_on_its_errors():
    # An API's caller sees its error; a queue's message ends in a dead-letter queue,
    # which has its alarm. A stream batch, an S3 upload, the hourly sweep and a
    # carrier's receipt fail where nobody else looks.
    unwatched = {
        name
        for name, function in _functions().items()
        if _event_types(function) & {"DynamoDB", "S3", "ScheduleV2"}
        or "FunctionUrlConfig" in function["Properties"]
    }
    assert unwatched == {
        "DlrWebhookFunction",
        "ReceiptSweepFunction",
        "CallbackEventsFunction",
        "IngestFunction",
        "CountersFunction",
    }

    silent = sorted(
        name
        for name in unwatched
        if not any(_reaches_the_operator(a) for a in _alarms_on("Errors", name))
    )
    assert silent == []


def test_a_stream_consumer_that_falls_behind_alarms_long_before_the_stream_forgets():
    # A DynamoDB stream keeps a change 24 hours; a batch retried without end holds up
    # its shard, and what is not read by then is lost (counters, callbacks).
    day_ms = 24 * 3600 * 1000
    consumers = [n for n, f in _functions().items() if "DynamoDB" in _event_types(f)]
    assert sorted(consumers) == ["CallbackEventsFunction", "CountersFunction"]

    for name in consumers:
        alarms = [a for a in _alarms_on("IteratorAge", name) if _reaches_the_operator(a)]
        assert alarms, name
        assert all(a["Threshold"] <= day_ms / 4 for a in alarms), name


def test_a_scheduled_firing_the_function_fails_waits_in_the_schedules_dead_letter_queue():
    # EventBridge Scheduler invokes its Lambda target asynchronously: its own retry
    # policy and dead-letter queue (services/scheduling.py) cover only a firing Lambda
    # did not accept. A firing the function failed is Lambda's to retry and to dead-letter;
    # without this the mission stayed Scheduled, past its time, and nothing said so.
    function = _functions()["ScheduleFunction"]["Properties"]

    assert function.get("DeadLetterQueue") == {
        "Type": "SQS",
        "TargetArn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]},
    }
    assert RESOURCES["ScheduleDeadLetterAlarm"]["Properties"]["AlarmActions"] == [
        {"Ref": "AlarmTopic"}
    ]


def test_an_upload_whose_ingest_fails_every_retry_waits_in_a_dead_letter_queue():
    # S3 invokes the ingest function asynchronously: without a dead-letter queue an event
    # whose retries failed was dropped, and its mission waited for its list until its
    # upload deadline (`cloudsms redrive ingest` ingests what waits there again).
    function = _functions()["IngestFunction"]["Properties"]

    assert function.get("DeadLetterQueue") == {
        "Type": "SQS",
        "TargetArn": {"Fn::GetAtt": ["IngestDeadLetterQueue", "Arn"]},
    }
    assert RESOURCES["IngestDeadLetterAlarm"]["Properties"]["AlarmActions"] == [
        {"Ref": "AlarmTopic"}
    ]


def test_the_bucket_forgets_what_an_upload_left_unfinished():
    # A multipart upload cut short (the export function's timeout mid-upload) leaves its
    # parts stored and billed, listed nowhere, until a rule aborts it.
    rules = RESOURCES["UploadBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]

    aborting = [
        rule
        for rule in rules
        if rule["Status"] == "Enabled"
        and "Prefix" not in rule
        and rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation", 0) >= 1
    ]
    assert aborting


def test_every_configured_stack_name_leaves_room_for_the_function_named_after_it():
    # Lambda names are at most 64 characters, and the schedule function's is the stack's
    # with "-schedule-fire" (its ARN must be known before it exists, for the schedules).
    samconfig = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    names = {
        section["parameters"]["stack_name"]
        for environment in samconfig.values()
        if isinstance(environment, dict)
        for section in environment.values()
        if isinstance(section, dict) and "stack_name" in section.get("parameters", {})
    }
    function_name = RESOURCES["ScheduleFunction"]["Properties"]["FunctionName"]

    assert names
    assert "${AWS::StackName}-schedule-fire" in str(function_name)
    assert all(len(f"{name}-schedule-fire") <= 64 for name in names), names


# Lambda gives a function CPU in proportion to its memory: one whole vCPU at 1,769 MB.
FULL_VCPU_MB = 1769


def _serving(method: str, path: str) -> str:
    """The function API Gateway sends `method path` to."""
    [name] = [
        name
        for name, function in _functions().items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
        and (event["Properties"]["Method"].upper(), event["Properties"]["Path"]) == (method, path)
    ]
    return name


def _memory(function: str) -> int:
    return int(_functions()[function]["Properties"].get("MemorySize", GLOBALS["MemorySize"]))


# The API's heaviest requests: each does seconds of CPU before it answers (README.md
# "Request time on Lambda", bench/request_cpu.py), which at the Globals' 512 MB (0.29
# vCPU) outlasts API Gateway's 29 s.
HEAVY_REQUESTS = [
    ("POST", "/v1/missions"),  # a 1 MB number list: up to 11 s of CPU where measured
    ("POST", "/v1/missions/preview"),
    ("POST", "/v1/blacklist/import"),  # 10,000 numbers read, looked up and written
    ("GET", "/v1/messages/export"),  # an .xlsx of up to 4.5 MB built in the response
]


def test_the_heaviest_requests_have_a_whole_vcpu():
    # More than a whole vCPU would not help: the work is one thread.
    for route in HEAVY_REQUESTS:
        assert _memory(_serving(*route)) == FULL_VCPU_MB, route


def test_verify_codes_do_not_pay_for_the_memory_of_the_heaviest_requests():
    # Lambda bills memory by the millisecond: a verify code waiting on DynamoDB and SQS
    # in a 1,769 MB function would cost 3.5 times what it costs at 512 MB.
    sms = _serving("POST", "/v1/sms")

    assert sms not in {_serving(*route) for route in HEAVY_REQUESTS}
    assert _memory(sms) <= 512


def test_the_export_in_the_response_is_built_within_the_time_a_request_has():
    # The export's file is built within the request: as .xlsx, 25,000 rows of short
    # texts took 12 s of CPU where measured (README.md "Request time on Lambda"), some
    # 18 s on a Lambda vCPU; longer logs are prepared in the background.
    from cloudsms.services import exports

    assert exports.MAX_ROWS <= 15_000
    assert _memory(_serving("GET", "/v1/messages/export")) == FULL_VCPU_MB


# Lambda's default concurrency for a whole account and Region, shared by every function.
ACCOUNT_CONCURRENCY = 1_000


def _maximum_concurrency(function: str, event: str) -> int | None:
    properties = _functions()[function]["Properties"]["Events"][event]["Properties"]
    maximum = properties.get("ScalingConfig", {}).get("MaximumConcurrency")
    if isinstance(maximum, dict):  # a parameter: its default
        maximum = load_template()["Parameters"][maximum["Ref"]]["Default"]
    return None if maximum is None else int(maximum)


def test_a_large_mission_leaves_concurrency_for_verify_codes_receipts_and_the_api():
    # An SQS event source scales to 1,000 concurrent batches (300 more a minute): a
    # 1,000,000-recipient mission is 10,000 queue messages on the bulk queue and some
    # 3,000,000 status events on the callback queue, and without a cap either would take
    # the account's whole concurrency, so that API requests, verify codes and carriers'
    # receipts were throttled. A cap keeps the backlog waiting on its queue instead.
    capped = {
        ("SubmitFunction", "BulkQueue"): _maximum_concurrency("SubmitFunction", "BulkQueue"),
        ("CallbackFunction", "CallbackQueue"): _maximum_concurrency(
            "CallbackFunction", "CallbackQueue"
        ),
    }

    assert None not in capped.values(), capped
    assert sum(v for v in capped.values() if v) <= ACCOUNT_CONCURRENCY // 2


def _published_metric_names() -> set[str]:
    """Every metric name the code publishes: `add_metric(name="…")` as written, or with
    a delivery state's value (`f"Messages{DrState.UNKNOWN.value}"`), and the counters'."""
    from cloudsms.domain.states import DrState
    from cloudsms.services.counters import _METRICS

    names = set(_METRICS.values())
    for folder in ("layers/cloudsms/cloudsms", "functions"):
        for source in (REPO_ROOT / folder).rglob("*.py"):
            for written in re.findall(r'add_metric\(\s*name=f?"([^"]+)"', source.read_text()):
                names.add(
                    re.sub(r"\{DrState\.(\w+)\.value\}", lambda m: DrState[m[1]].value, written)
                )
    return names


def _metrics_watched(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm watches: its own, or each of its metric math's."""
    if "MetricName" in alarm:
        return [alarm]
    return [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]


def test_every_alarm_on_the_platforms_metrics_names_one_the_code_publishes_as_it_publishes_it():
    # An alarm on a metric name or dimension set nobody publishes is never in alarm.
    # Powertools gives each metric one dimension, `service` (POWERTOOLS_SERVICE_NAME),
    # as long as the code adds none of its own.
    environment = GLOBALS["Environment"]["Variables"]
    namespace = environment["POWERTOOLS_METRICS_NAMESPACE"]
    service = [{"Name": "service", "Value": environment["POWERTOOLS_SERVICE_NAME"]}]
    sources = [*(REPO_ROOT / "layers").rglob("*.py"), *(REPO_ROOT / "functions").rglob("*.py")]
    assert [s for s in sources if re.search(r"add_dimension|single_metric", s.read_text())] == []
    published = _published_metric_names()

    watched = [
        (name, metric)
        for name, alarm in _of_type("AWS::CloudWatch::Alarm").items()
        for metric in _metrics_watched(alarm["Properties"])
        if metric["Namespace"] == namespace
    ]

    assert {
        "ReceiptsRefused",
        "MessagesSUBMIT_FAILED",
        "MessagesSubmitted",
        "ChannelsWithoutReceipts",
    } <= {metric["MetricName"] for _, metric in watched}
    for name, metric in watched:
        assert metric["MetricName"] in published, name
        assert metric.get("Dimensions") == service, name


def _in_alarm(alarm: dict[str, Any], value: float) -> bool:
    threshold = float(alarm["Threshold"])
    return {
        "GreaterThanThreshold": value > threshold,
        "GreaterThanOrEqualToThreshold": value >= threshold,
        "LessThanThreshold": value < threshold,
        "LessThanOrEqualToThreshold": value <= threshold,
    }[alarm["ComparisonOperator"]]


def test_an_smsc_refusing_every_message_its_gateway_took_sets_off_the_refusals_alarm():
    # Given a Kannel that takes every message (202) and an SMSC that refuses each in a
    # NACK receipt: each is counted in MessagesSubmitted when taken, and in
    # MessagesSUBMIT_FAILED when refused. The counters take the submission back, but only
    # within a batch of stream changes, never below zero: a quiet channel, one change a
    # batch, publishes every submission and none of the taking back.
    alarm = _of_type("AWS::CloudWatch::Alarm")["SubmissionsRefusedAlarm"]["Properties"]
    [share] = [m["Expression"] for m in alarm["Metrics"] if m.get("ReturnData")]
    assert "refused / (refused + FILL(submitted, 0))" in share
    # When 20 of them are refused in 15 minutes
    refused = submitted = 20

    # Then the share of refusals, a half at the least, is in alarm
    assert _in_alarm(alarm, refused / (refused + submitted))


def test_the_alarm_on_channels_without_receipts_keeps_its_state_between_two_sweeps():
    # Each hourly sweep publishes how many channels it found silent, 0 too, when its run
    # ends: runs of different lengths leave an hour's sliding window without any of
    # their datapoints for a while. That gap must not turn the alarm OK, and the next
    # run's datapoint back to ALARM (two e-mails an hour), while a channel stays silent.
    alarms = _of_type("AWS::CloudWatch::Alarm")
    for name in ("ChannelsWithoutReceiptsAlarm", "ChannelsDeliveringPoorlyAlarm"):
        alarm = alarms[name]["Properties"]
        assert (alarm["Period"], alarm["TreatMissingData"]) == (3600, "ignore"), name


def test_the_receipt_sweep_has_a_whole_vcpu():
    # Its eight shard threads wait on DynamoDB together, then share one processor (one
    # Python process) to decode the answers, some 10 ms per 100 messages where measured:
    # at 512 MB (0.29 vCPU) decoding, not DynamoDB, would bound the sweep.
    assert _memory("ReceiptSweepFunction") == FULL_VCPU_MB


def test_no_function_may_delete_an_audit_entry():
    # The trail is evidence: only its retention's TTL removes an entry. SAM's CRUD policy
    # allows DeleteItem; its read and write policies do not.
    def on_audit_table(template_policy: dict[str, Any]) -> bool:
        [(_, argument)] = template_policy.items()
        return isinstance(argument, dict) and argument.get("TableName") == {"Ref": "AuditTable"}

    granted = {
        (name, next(iter(policy)))
        for name, function in _functions().items()
        for policy in function["Properties"].get("Policies", [])
        if isinstance(policy, dict) and on_audit_table(policy)
    }

    assert ("AdminFunction", "DynamoDBWritePolicy") in granted
    assert [grant for grant in granted if grant[1] == "DynamoDBCrudPolicy"] == []
