"""`cloudsms`: the operator's console command.

Creates tenants and reads their usage, issues and revokes API keys, adds and grants
channels and reads their statistics, adds product packages and orders them for tenants,
straight against the stack's AWS resources: the local stack (`--local`, the default) or
a deployed one (`--stack NAME`, with the caller's AWS credentials). Each change it makes
is recorded in the audit trail under the caller's AWS identity (`audit-list` reads it).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

# A deployed stack's resources are named in its functions' environment (the template's
# Globals): the CLI takes one function's, so it finds every table, queue, bucket and
# secret prefix the functions use, with no list here to keep in step with the template.
CONFIGURED_FUNCTION = "AdminFunction"


def _target_local(state_file: Path) -> None:
    if not state_file.exists():
        sys.exit(f"no local stack: {state_file} is missing (start one with `make run`)")
    try:
        state = json.loads(state_file.read_text())
        os.environ.update(state["environment"])
        os.environ["AWS_ENDPOINT_URL"] = state["aws_endpoint_url"]
    except OSError as error:
        sys.exit(f"cloudsms: cannot read {state_file}: {error.strerror}")
    except KeyError as error:
        sys.exit(f"cloudsms: {state_file} is not a local stack's state file: no {error}")
    except (ValueError, TypeError) as error:
        sys.exit(f"cloudsms: {state_file} is not a local stack's state file: {error}")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def _target_stack(stack: str, region: str | None) -> None:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    # The first AWS call of every command: a mistyped stack, another region, missing
    # credentials or permissions are refused in one line, not a traceback.
    where = f"stack {stack} in {region}" if region else f"stack {stack}"
    try:
        cloudformation = boto3.client("cloudformation", region_name=region)
        function = cloudformation.describe_stack_resource(
            StackName=stack, LogicalResourceId=CONFIGURED_FUNCTION
        )["StackResourceDetail"]["PhysicalResourceId"]
        configuration = boto3.client("lambda", region_name=region).get_function_configuration(
            FunctionName=function
        )
    except (BotoCoreError, ClientError) as error:
        sys.exit(f"cloudsms: {where}: {error} (check --stack, --region and your AWS credentials)")
    os.environ.update(configuration["Environment"]["Variables"])
    if region:
        os.environ["AWS_REGION"] = region


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2, default=_json_value))


def _json_value(value: Any) -> str:
    # A time as ISO 8601, as every other command and the API write it (str() would write
    # "2026-11-28 07:35:45+00:00", which scripts reading ISO 8601 trip over).
    return value.isoformat() if isinstance(value, datetime) else str(value)


DEFAULT_STATE_FILE = Path(".local/stack.json")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cloudsms", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--local",
        type=Path,
        nargs="?",
        const=DEFAULT_STATE_FILE,
        help="the local stack's state file (default .local/stack.json)",
    )
    target.add_argument("--stack", help="a deployed CloudFormation stack name")
    parser.add_argument("--region", help="AWS region of --stack")
    commands = parser.add_subparsers(dest="command", required=True)

    tenant = commands.add_parser("tenant-create", help="create a tenant")
    tenant.add_argument("tenant_id")
    tenant.add_argument("--name", required=True)
    tenant.add_argument(
        "--time-zone", help="an IANA name; default: the stack's DefaultTimeZone (Asia/Shanghai)"
    )
    tenant.add_argument(
        "--sending-window",
        metavar="HH:MM-HH:MM",
        help="when in its time zone its missions may be scheduled; default 08:00-22:00",
    )
    window = commands.add_parser(
        "tenant-sending-window",
        help="set when, in its time zone, a tenant's missions may be scheduled"
        " (missions scheduled already keep their times)",
    )
    window.add_argument("tenant_id")
    window.add_argument("window", metavar="HH:MM-HH:MM", help="or 'default': the stack's own")
    limit = commands.add_parser(
        "tenant-request-limit",
        help="set how fast a tenant's keys may send messages, create or preview missions "
        "(429 past it)",
    )
    limit.add_argument("tenant_id")
    limit.add_argument(
        "requests_per_second",
        help="requests a second on average; 0: not limited; 'default': the stack's "
        "(TenantRequestRate, 50 a second in bursts of 100)",
    )
    limit.add_argument("--burst", help="requests at once after a pause; default twice the rate")
    countries = commands.add_parser(
        "tenant-countries",
        help="set the countries a tenant may send to, against SMS pumping (replacing its list)",
    )
    countries.add_argument("tenant_id")
    countries.add_argument(
        "countries",
        nargs="+",
        metavar="COUNTRY",
        help="ISO 3166-1 alpha-2 codes (PH CN); 'all': every country",
    )
    commands.add_parser(
        "tenant-list",
        help="every tenant, with its channels, request limit, countries and whether it is disabled",
    )
    disable = commands.add_parser(
        "tenant-disable",
        help="cut a tenant off: its keys, sessions and accounts stop working, its "
        "scheduled missions fail and its messages not yet handed over are not sent "
        "(tenant-enable undoes it for what it sends next)",
    )
    disable.add_argument("tenant_id")
    enable = commands.add_parser("tenant-enable", help="let a disabled tenant send again")
    enable.add_argument("tenant_id")
    usage = commands.add_parser(
        "tenant-usage",
        help="a tenant's messages, their outcomes, segments and cost per day in its time "
        "zone, with the range's total, as its statistics show them (default: its last 7 days)",
    )
    usage.add_argument("tenant_id")
    usage.add_argument("--from", dest="start", help="first dispatching date, YYYY-MM-DD")
    usage.add_argument("--to", dest="end", help="last dispatching date, YYYY-MM-DD")

    issue = commands.add_parser("key-issue", help="issue an API key (shown once)")
    issue.add_argument("tenant_id")
    issue.add_argument("--role", default="tenant", choices=["tenant", "operator"])
    issue.add_argument("--name", default="")

    revoke = commands.add_parser("key-revoke", help="revoke an API key by its key id")
    revoke.add_argument("tenant_id")
    revoke.add_argument("key_id")

    listing = commands.add_parser("key-list", help="list a tenant's keys (never the keys)")
    listing.add_argument("tenant_id")

    channel = commands.add_parser("channel-add", help="add a business channel")
    channel.add_argument("route_id")
    channel.add_argument(
        "--type", required=True, choices=["simulator", "kannel", "jasmin", "http_json"]
    )
    _channel_options(channel, adding=True)

    update = commands.add_parser(
        "channel-update", help="change a business channel: only the options given change"
    )
    update.add_argument("route_id")
    _channel_options(update, adding=False)

    pause = commands.add_parser(
        "channel-pause",
        help="hold a channel's messages on the queue, none sent and none failed, until it is"
        " resumed (a gateway outage or maintenance); within seconds",
    )
    pause.add_argument("route_id")
    resume = commands.add_parser("channel-resume", help="send a paused channel's messages again")
    resume.add_argument("route_id")
    commands.add_parser("channel-list", help="list the business channels (never credentials)")
    show = commands.add_parser("channel-show", help="one business channel (never credentials)")
    show.add_argument("route_id")

    grant = commands.add_parser("channel-grant", help="let a tenant use a channel")
    grant.add_argument("tenant_id")
    grant.add_argument("route_id")
    senders = commands.add_parser(
        "tenant-sender-ids",
        help="register the sender ids (OA) a tenant may send as, replacing its list; none"
        " given: any sender id",
    )
    senders.add_argument("tenant_id")
    senders.add_argument("sender_ids", nargs="*", metavar="SENDER_ID")
    take = commands.add_parser("channel-revoke", help="take a channel away from a tenant")
    take.add_argument("tenant_id")
    take.add_argument("route_id")
    statistics = commands.add_parser(
        "channel-statistics",
        help="a channel's statistics per day, every tenant together (default: the last 7 "
        "days to the latest date any tenant is in)",
    )
    statistics.add_argument("route_id")
    statistics.add_argument("--from", dest="start", help="first dispatching date, YYYY-MM-DD")
    statistics.add_argument("--to", dest="end", help="last dispatching date, YYYY-MM-DD")

    package = commands.add_parser(
        "package-add",
        help="add a product package: prepaid (--sms-amount, --validity-days) or post-paid "
        "(--warning-usd, --prohibit-usd)",
    )
    package.add_argument("--name", required=True, help="the product name")
    package.add_argument("--channel", required=True, metavar="ROUTE", help="the channel it sells")
    payment = package.add_mutually_exclusive_group(required=True)
    payment.add_argument("--prepaid", dest="payment_type", action="store_const", const="prepaid")
    payment.add_argument("--postpaid", dest="payment_type", action="store_const", const="postpaid")
    package.add_argument(
        "--sms-amount", type=int, metavar="N", help="prepaid: the SMS (segments) it holds"
    )
    package.add_argument(
        "--validity-days", type=int, metavar="DAYS", help="prepaid: days usable after ordering"
    )
    package.add_argument(
        "--warning-usd", metavar="USD", help="post-paid: monthly spending that warns"
    )
    package.add_argument(
        "--prohibit-usd", metavar="USD", help="post-paid: monthly spending that stops sending"
    )
    commands.add_parser("package-list", help="list the product packages")

    order = commands.add_parser("order-add", help="order a package for a tenant")
    order.add_argument("tenant_id")
    order.add_argument("package_id")
    held = commands.add_parser("order-list", help="a tenant's orders, with what is left of each")
    held.add_argument("tenant_id")
    cancel = commands.add_parser(
        "order-cancel", help="cancel a tenant's order (one entered by mistake): it pays for nothing"
    )
    cancel.add_argument("tenant_id")
    cancel.add_argument("order_number")

    common = commands.add_parser(
        "template-add-common", help="add a common SMS template every tenant can use"
    )
    common.add_argument("--name", required=True)
    common.add_argument("--content", required=True, help="with ${Var} variables")
    common.add_argument(
        "--sms-type", required=True, choices=["verify_code", "business", "marketing"]
    )
    commands.add_parser("template-list-common", help="list the common SMS templates")
    commands.add_parser(
        "template-names-record",
        help="once after upgrading: record the names of templates saved before names were"
        " kept unique",
    )

    dead = commands.add_parser(
        "dead-letters",
        help="how many messages wait in each queue's dead-letter queue; with a queue, what"
        " they are: tenant, mission, messages still waiting, and whether poison",
    )
    dead.add_argument("queue", nargs="?", help="otp, bulk, callback or export")
    dead.add_argument("--max", type=int, help="show at most this many (default 100)")
    redrive = commands.add_parser(
        "redrive",
        help="send what waits in a queue's dead-letter queue back to the queue, once its "
        "cause is fixed (nothing a gateway took is sent again)",
    )
    redrive.add_argument(
        "queue",
        help="otp, bulk, callback or export; schedule: failed firings, whose missions'"
        " dispatches that stopped halfway are finished and those that never started fail;"
        " ingest: uploads whose ingest failed, ingested again",
    )
    redrive.add_argument("--max", type=int, help="move at most this many queue messages")
    redrive.add_argument(
        "--drop-poison",
        action="store_true",
        help="otp or bulk: delete, rather than move, the queue messages that can never send"
        " anything (as dead-letters QUEUE shows them)",
    )

    account = commands.add_parser(
        "account-add", help="add a portal account to a tenant (its temporary password, once)"
    )
    account.add_argument("account_name")
    account.add_argument("tenant_id")
    account.add_argument("--role", default="tenant_manager", help="tenant_manager")
    accounts_of = commands.add_parser("account-list", help="a tenant's portal accounts")
    accounts_of.add_argument("tenant_id")
    reset = commands.add_parser(
        "account-reset-password", help="a new temporary password (shown once); ends its sessions"
    )
    reset.add_argument("account_name")
    disable = commands.add_parser("account-disable", help="stop an account logging in")
    disable.add_argument("account_name")
    enable = commands.add_parser("account-enable", help="let a disabled account log in again")
    enable.add_argument("account_name")

    trail = commands.add_parser(
        "audit-list",
        help="the audit trail: who changed what (API and commands), newest first",
    )
    trail.add_argument("--tenant", help="one tenant's changes only")
    trail.add_argument("--since", help="changes made from this time: ISO 8601, UTC if no offset")
    trail.add_argument("--max", type=int, default=100, help="show at most this many (default 100)")
    return parser


# The commands that change something, each recorded in the audit trail when it succeeds
# (services/audit.py); the others only read.
AUDITED = frozenset(
    {
        "tenant-create",
        "tenant-sending-window",
        "tenant-request-limit",
        "tenant-countries",
        "tenant-disable",
        "tenant-enable",
        "tenant-sender-ids",
        "key-issue",
        "key-revoke",
        "channel-add",
        "channel-update",
        "channel-pause",
        "channel-resume",
        "channel-grant",
        "channel-revoke",
        "package-add",
        "order-add",
        "order-cancel",
        "template-add-common",
        "template-names-record",
        "account-add",
        "account-reset-password",
        "account-disable",
        "account-enable",
        "redrive",
    }
)


def _given(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[dict[str, str], tuple[str, ...]]:
    """What the command was given: its positional arguments (the names of what it
    changed) and the names of the options it was given (what it changed of them: a
    channel's `password_file` or its `price`). Never an option's value: a password or a
    secret file's may be among them."""
    command = next(
        action.choices[args.command]
        for action in parser._actions  # noqa: SLF001 - argparse keeps its subcommands here
        if isinstance(action, argparse._SubParsersAction)  # noqa: SLF001
    )
    positionals, options = {}, []
    for action in command._actions:  # noqa: SLF001
        value = getattr(args, action.dest, None)
        if not action.option_strings and value is not None:
            positionals[action.dest] = " ".join(value) if isinstance(value, list) else str(value)
        elif action.option_strings and value != action.default and action.dest != "help":
            options.append(action.dest)
    return positionals, tuple(sorted(options))


def _caller_arn() -> str:
    """Who runs the command: the AWS caller identity (STS needs no permission for it)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from cloudsms.adapters import aws

    try:
        identity = aws.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError):
        return "unknown AWS caller"
    return str(identity["Arn"])


def _audit_list(tenant_id: str | None, since: str | None, most: int) -> list[dict[str, Any]]:
    from cloudsms import clock
    from cloudsms.services import audit

    try:
        start = datetime.fromisoformat(since) if since else None
    except ValueError:
        sys.exit(f"cloudsms: --since {since!r} is not an ISO 8601 time")
    found: list[dict[str, Any]] = []
    cursor = None
    while len(found) < most:
        page = audit.list_entries(
            tenant_id, start, None, min(most - len(found), 100), cursor, clock.now()
        )
        found += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return found


def _channel_options(parser: argparse.ArgumentParser, adding: bool) -> None:
    """The options channel-add and channel-update share; channel-update changes only
    those given."""
    parser.add_argument("--endpoint", required=adding, help="the gateway's base URL")
    parser.add_argument("--username", required=adding)
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input"
        + (" instead of prompting" if adding else " (without it the password is kept)"),
    )
    parser.add_argument("--default-sender")
    parser.add_argument(
        "--throughput", type=int, default=0 if adding else None, help="segments per second"
    )
    parser.add_argument(
        "--direction",
        action="append",
        choices=["mainland_china", "international"],
        help="a direction the channel carries (repeat for both; default both)",
    )
    parser.add_argument(
        "--price",
        action="append",
        default=[],
        metavar="CODE=USD",
        help="price per segment: 'default=0.0035' or by country calling code '63=0.012'"
        + ("" if adding else "; replaces every price the channel had"),
    )
    parser.add_argument(
        "--receipts-per-part",
        action=argparse.BooleanOptionalAction,
        help="the gateway reports each part of a long message (default: for kannel only)",
    )
    parser.add_argument(
        "--error-codes",
        type=Path,
        metavar="FILE",
        help='what the carrier\'s receipt error codes mean (JSON: {"001": "Unknown subscriber"})'
        + ("" if adding else "; replaces every meaning the channel had ({} for none)"),
    )
    parser.add_argument(
        "--delivery-floor",
        type=_share_or_default,
        metavar="SHARE",
        help="the hourly sweep reports the channel when fewer of its final receipts of an"
        " hour than this share are DELIVRD (e.g. 0.9); 0: never; 'default': the stack's"
        " ChannelDeliveryFloor" + (", as when not given" if adding else ""),
    )
    parser.add_argument(
        "--http-json",
        type=Path,
        metavar="FILE",
        help="the http_json gateway's request and receipt mapping (JSON)",
    )
    parser.add_argument(
        "--receipt-secret-file",
        type=Path,
        metavar="FILE",
        help="a receipt secret of your own (at least 16 characters), for a hub whose callback"
        " URL is fixed" + ("; default: one is generated" if adding else ""),
    )
    if not adding:
        parser.add_argument(
            "--new-receipt-secret",
            action="store_true",
            help="generate a new receipt secret; the old one is accepted for the receipt"
            " timeout still",
        )


def _share_or_default(word: str) -> float | str:
    """A share as given (its range is the channel's to check, which names the field), or
    'default'. Kept as the word, not as None: the audit trail names the options whose
    value is not their default, and resetting the floor is a change."""
    if word == "default":
        return word
    try:
        return float(word)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a share from 0 to 1 or 'default': {word!r}"
        ) from None


def _channel_settings(args: argparse.Namespace) -> dict[str, Any]:
    """What the channel options given say, as the channel's field names."""
    given: dict[str, Any] = {
        "endpoint": args.endpoint,
        "username": args.username,
        "default_sender": args.default_sender,
        "throughput": args.throughput,
        "directions": args.direction,
        "receipts_per_part": args.receipts_per_part,
        "prices_usd": _prices(args.price) if args.price else None,
        "error_codes": _json_file(args.error_codes, "--error-codes"),
        "http_json": _json_file(args.http_json, "--http-json"),
        "receipt_secret": _read_secret(args.receipt_secret_file),
        "new_receipt_secret": getattr(args, "new_receipt_secret", False) or None,
    }
    settings = {name: value for name, value in given.items() if value is not None}
    if args.delivery_floor is not None:
        # 'default': null, back to the stack's
        floor = args.delivery_floor
        settings["delivery_floor"] = None if floor == "default" else floor
    return settings


def _json_file(path: Path | None, option: str) -> Any:
    if path is None:
        return None
    try:
        return json.loads(path.read_text())
    except OSError as error:
        sys.exit(f"cloudsms: {option}: cannot read {path}: {error.strerror}")
    except ValueError as error:
        sys.exit(f"cloudsms: {option}: {path} is not valid JSON ({error})")


def _password_from_stdin() -> str:
    """The first line of standard input: `echo "$UNSET" | cloudsms channel-add ...` would
    otherwise store an empty password, and the gateway refuse every message."""
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        sys.exit("cloudsms: --password-stdin: standard input held no password")
    return password


def _read_secret(path: Path | None) -> str | None:
    from cloudsms.errors import BadRequest

    if path is None:
        return None
    try:
        return path.read_text().strip()
    except OSError as error:
        raise BadRequest(f"--receipt-secret-file: cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise BadRequest(f"--receipt-secret-file: {path} is not UTF-8 text") from None


def _prices(pairs: list[str]) -> dict[str, Any]:
    """`--price default=0.0035 --price 63=0.012` as the channel's prices_usd."""
    prices: dict[str, Any] = {"by_country": {}}
    for pair in pairs:
        code, _, usd = pair.partition("=")
        if not usd:
            sys.exit(f"cloudsms: --price takes CODE=USD, not {pair!r}")
        if code == "default":
            prices["default"] = usd
        else:
            prices["by_country"][code] = usd
    return prices


def _with_state_file(argv: list[str], commands: set[str]) -> list[str]:
    """`--local` right before the command means the default state file; argparse alone
    would take the command for the file's name."""
    words = list(argv)
    for index, word in enumerate(words[:-1]):
        if word == "--local" and words[index + 1] in commands:
            words.insert(index + 1, str(DEFAULT_STATE_FILE))
            break
    return words


# The arguments that name a stored item. DynamoDB refuses an empty key, or one too long,
# with an error that does not say which argument; no name is longer than the API takes.
NAMES = ("tenant_id", "route_id", "key_id", "package_id", "order_number", "account_name")


def _check_names(args: argparse.Namespace, max_bytes: int) -> None:
    for name in NAMES:
        value = getattr(args, name, None)
        label = name.replace("_", " ")
        if value == "":
            sys.exit(f"cloudsms: the {label} is empty")
        if value is not None and len(value.encode()) > max_bytes:
            sys.exit(f"cloudsms: the {label} is too long: no {label} is over {max_bytes} bytes")


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    return next(
        set(action.choices)
        for action in parser._actions  # noqa: SLF001 - argparse keeps its subcommands here
        if isinstance(action, argparse._SubParsersAction)  # noqa: SLF001
    )


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    words = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(_with_state_file(words, _commands(parser)))
    if args.command == "channel-add" and not args.password_stdin and not sys.stdin.isatty():
        # The password is asked on the terminal; a script has none (getpass would fail).
        parser.error(
            "channel-add: no terminal to ask the password on: pipe it in with --password-stdin"
        )
    if args.stack:
        _target_stack(args.stack, args.region)
    else:
        _target_local(args.local or DEFAULT_STATE_FILE)

    # Imported only now: settings are read from the environment just set.
    from botocore.exceptions import BotoCoreError, ClientError
    from pynamodb.exceptions import PynamoDBException

    from cloudsms import clock
    from cloudsms.api import MAX_PATH_VALUE_BYTES
    from cloudsms.errors import CloudSmsError
    from cloudsms.observability import logger
    from cloudsms.services import (
        accounts,
        audit,
        channels,
        dead_letters,
        orders,
        templates,
        tenants,
    )
    from cloudsms.services.statistics import channel_statistics, tenant_usage
    from cloudsms.settings import get_settings
    from cloudsms.validation import validated

    # Standard output carries the answer alone, as JSON; the services' log lines go aside.
    log_handler = logger.registered_handler
    assert isinstance(log_handler, logging.StreamHandler)
    log_handler.setStream(sys.stderr)

    _check_names(args, MAX_PATH_VALUE_BYTES)
    # The tenant a change concerns when its arguments name none (an account's).
    concerned: str | None = None
    try:
        if args.command == "tenant-create":
            zone = args.time_zone or get_settings().default_time_zone
            created = tenants.create_tenant(args.tenant_id, args.name, zone, args.sending_window)
            _print(tenants.tenant_view(created))
        elif args.command == "tenant-sending-window":
            changed = tenants.set_sending_window(args.tenant_id, args.window)
            _print(tenants.tenant_view(changed))
        elif args.command == "tenant-request-limit":
            # Strings, read as the API reads its body: a refusal names the field.
            wanted = {"burst": args.burst} if args.burst is not None else {}
            if args.requests_per_second != "default":
                wanted["requests_per_second"] = args.requests_per_second
            _print(tenants.tenant_view(tenants.set_request_limit(args.tenant_id, wanted)))
        elif args.command == "tenant-countries":
            allowed = None if args.countries == ["all"] else args.countries
            _print(tenants.tenant_view(tenants.set_countries(args.tenant_id, allowed)))
        elif args.command == "tenant-list":
            _print([tenants.tenant_view(t) for t in tenants.list_tenants()])
        elif args.command == "tenant-disable":
            _print(tenants.tenant_view(tenants.disable_tenant(args.tenant_id, clock.now())))
        elif args.command == "tenant-enable":
            _print(tenants.tenant_view(tenants.enable_tenant(args.tenant_id)))
        elif args.command == "tenant-usage":
            tenant = tenants.get_tenant(args.tenant_id)
            used = tenant_usage(
                tenant.tenant_id, tenant.time_zone, clock.now(), args.start, args.end
            )
            _print({"tenant_id": tenant.tenant_id, "time_zone": tenant.time_zone, **used})
        elif args.command == "key-issue":
            issued = tenants.issue_key(args.tenant_id, args.role, args.name)
            _print({"key_id": issued.key_id, "key": issued.key, "note": "shown once: store it now"})
        elif args.command == "key-revoke":
            tenants.revoke_key(args.tenant_id, args.key_id)
            _print({"key_id": args.key_id, "revoked": True})
        elif args.command == "key-list":
            tenants.get_tenant(args.tenant_id)  # a mistyped tenant is not one without keys
            _print(
                [
                    {
                        "key_id": k.key_id,
                        "role": k.role,
                        "name": k.name,
                        "created_at": k.created_at,
                        "revoked_at": k.revoked_at,
                    }
                    for k in tenants.list_keys(args.tenant_id)
                ]
            )
        elif args.command == "channel-add":
            password = (
                _password_from_stdin()
                if args.password_stdin
                else getpass.getpass("gateway password: ")
            )
            settings = {"prices_usd": _prices([]), **_channel_settings(args)}
            _print(channels.add_channel(args.route_id, args.type, password=password, **settings))
        elif args.command == "channel-update":
            changes = _channel_settings(args)
            if args.password_stdin:
                changes["password"] = _password_from_stdin()
            _print(channels.change_channel(args.route_id, changes))
        elif args.command in ("channel-pause", "channel-resume"):
            paused = args.command == "channel-pause"
            _print(channels.change_channel(args.route_id, {"paused": paused}))
        elif args.command == "channel-list":
            _print(channels.all_channels())
        elif args.command == "channel-show":
            _print(channels.read_channel(args.route_id))
        elif args.command == "tenant-sender-ids":
            _print(tenants.tenant_view(tenants.set_sender_ids(args.tenant_id, args.sender_ids)))
        elif args.command == "channel-grant":
            channels.assign_channel(args.tenant_id, args.route_id)
            _print({"tenant_id": args.tenant_id, "route_id": args.route_id, "granted": True})
        elif args.command == "channel-revoke":
            channels.unassign_channel(args.tenant_id, args.route_id)
            _print({"tenant_id": args.tenant_id, "route_id": args.route_id, "granted": False})
        elif args.command == "channel-statistics":
            channels.read_channel(args.route_id)  # a channel that does not exist is an error
            _print(channel_statistics(args.route_id, clock.now(), args.start, args.end))
        elif args.command == "package-add":
            terms = {
                "product_name": args.name,
                "channel": args.channel,
                "payment_type": args.payment_type,
                "sms_amount": args.sms_amount,
                "validity_days": args.validity_days,
                "warning_usd": args.warning_usd,
                "prohibit_usd": args.prohibit_usd,
            }
            _print(orders.create_package(validated(orders.PackageFields, terms), clock.now()))
        elif args.command == "package-list":
            _print(orders.list_packages()["items"])
        elif args.command == "order-add":
            _print(orders.place_order(args.tenant_id, args.package_id, clock.now()))
        elif args.command == "order-list":
            _print(orders.list_orders(args.tenant_id, clock.now())["items"])
        elif args.command == "order-cancel":
            _print(orders.cancel_order(args.tenant_id, args.order_number, clock.now()))
        elif args.command in ("account-add", "account-reset-password"):
            issued_password = (
                accounts.create_account(args.account_name, args.tenant_id, role=args.role)
                if args.command == "account-add"
                else accounts.reset_password(args.account_name, clock.now())
            )
            concerned = issued_password.account["tenant_id"]
            _print(
                {
                    **issued_password.account,
                    "password": issued_password.password,
                    "note": "temporary, shown once: to be changed at the first log-in",
                }
            )
        elif args.command == "template-add-common":
            fields = {"name": args.name, "content": args.content, "sms_type": args.sms_type}
            _print(
                templates.create_template(
                    templates.COMMON, validated(templates.TemplateFields, fields)
                )
            )
        elif args.command == "template-list-common":
            _print(templates.list_templates(templates.COMMON, 100, None)["items"])
        elif args.command == "template-names-record":
            _print(templates.record_names())
        elif args.command == "account-list":
            _print(accounts.list_accounts(args.tenant_id))
        elif args.command == "account-disable":
            account = accounts.disable_account(args.account_name, clock.now())
            concerned = account["tenant_id"]
            _print(account)
        elif args.command == "account-enable":
            account = accounts.enable_account(args.account_name)
            concerned = account["tenant_id"]
            _print(account)
        elif args.command == "dead-letters":
            if args.queue:
                _print(dead_letters.contents(args.queue, args.max))
            else:
                _print(dead_letters.overview())
        elif args.command == "redrive":
            _print(dead_letters.redrive(args.queue, args.max, drop_poison=args.drop_poison))
        elif args.command == "audit-list":
            _print(_audit_list(args.tenant, args.since, args.max))
        if args.command in AUDITED:
            target, options = _given(parser, args)
            change = audit.Change(
                actor=_caller_arn(),
                action=args.command,
                # An account's change is its tenant's, though only the account is named.
                tenant_id=target.get("tenant_id") or concerned,
                target=target,
                fields=options,
            )
            audit.record(change, clock.now())
    except CloudSmsError as error:
        sys.exit(f"cloudsms: {error.message}")
    except (PynamoDBException, BotoCoreError, ClientError) as error:
        # AWS refused or could not be reached (a local stack stopped, say): its reason, in
        # one line, rather than a traceback.
        sys.exit(f"cloudsms: {error}")


if __name__ == "__main__":
    main()
