"""`make run`: the whole platform on one machine.

Starts the AWS emulator (moto server), creates every resource from template.yaml, serves
the APIs and the portal, polls the queues, runs the carrier simulator, and sets up a demo
tenant with an API key and a simulator channel. With `--kannel` (`make run KANNEL=1`) it
also runs a real Kannel on loopback (bearerbox, its fake SMSC and smsbox) and gives the
demo tenant a Kannel channel, `KANNEL`, to try the platform against a real gateway.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from cloudsms_local.files import write_private
from cloudsms_local.ports import free_port
from cloudsms_local.template import REGION, REPO_ROOT

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
KANNEL_ROUTE = "KANNEL"
# X-Ray has no daemon here, and EMF metrics would flood the console.
LOCAL_ONLY = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    # Tenants' callback receivers on this machine are the point of running locally.
    "CALLBACK_LOOPBACK_ALLOWED": "true",
}


class LocalStack:
    def __init__(
        self,
        port: int = 3000,
        receipt_delay: float = 1.0,
        state_file: Path | None = None,
        demo: bool = True,
        quiet: bool = False,
        sweep_every: float | None = None,
        emulator_in_process: bool = False,
        one_at_a_time: bool = False,
        kannel: bool = False,
    ):
        self.port = port
        self.sweep_every = sweep_every
        # The emulator runs in a process of its own unless its state must be read here.
        self.emulator_in_process = emulator_in_process
        self.one_at_a_time = one_at_a_time
        self.receipt_delay = receipt_delay
        self.state_file = state_file
        self.demo = demo
        self.quiet = quiet
        self.kannel = kannel
        self.stop_event = threading.Event()
        self.state: dict[str, Any] = {}

    def start(self) -> LocalStack:
        from cloudsms_local.emulator import Emulator

        os.environ.update(FAKE_CREDENTIALS)
        self.moto = Emulator(free_port(), in_process=self.emulator_in_process).start()
        endpoint = self.moto.url
        api_port = self.port or free_port()
        api_url = f"http://127.0.0.1:{api_port}"

        import boto3

        from cloudsms_local import collector, iam, urgency
        from cloudsms_local.template import create_resources

        # Verify codes first (see urgency.py), and full garbage collections only while
        # idle (collector.py), except when each invocation is to run nearly alone (the
        # cost benchmark): holding others back would then only lengthen their durations,
        # and a collection counts in the invocation's billed time as it does in Lambda.
        if not self.one_at_a_time:
            urgency.install()
            collector.install()

        session = boto3.Session()
        # One server serves the API, the portal and the function URLs (under paths of
        # their own).
        resources = create_resources(
            session, endpoint, api_urls={"Api": api_url}, function_url_base=api_url
        )
        # A function's AWS requests are checked against its policies, as IAM would.
        iam.enforce(resources.functions, resources.policies)
        # Set before any cloudsms module reads its settings.
        os.environ.update(resources.environment)
        os.environ.update(LOCAL_ONLY)
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING" if self.quiet else "INFO")

        from cloudsms_local.api_gateway import LocalApiGateway
        from cloudsms_local.lambda_runtime import DEFAULT_CONCURRENCY, LocalLambda
        from cloudsms_local.pollers import start_pollers
        from cloudsms_local.scheduler import RateRunner, SchedulerFirer
        from cloudsms_local.simulator import CarrierSimulator
        from cloudsms_local.streams import start_stream_pollers
        from cloudsms_local.uploads import UploadNotifier

        # One container a function and one batch a queue when asked: each invocation then
        # runs nearly alone, so its duration is its own work (the cost benchmark).
        containers = 1 if self.one_at_a_time else DEFAULT_CONCURRENCY
        self.lambdas = LocalLambda(resources, concurrency=containers)
        self.gateway = LocalApiGateway(
            self.lambdas,
            resources.routes,
            resources.authorizers,
            static_dir=REPO_ROOT / "web",
            gateway_responses=resources.gateway_responses,
            port=api_port,
            function_urls=resources.function_urls,
        ).start()
        self.simulator = CarrierSimulator(receipt_delay=self.receipt_delay).start()
        sqs = session.client("sqs", endpoint_url=endpoint, region_name=REGION)
        self.pollers = start_pollers(
            sqs,
            self.lambdas,
            resources,
            self.stop_event,
            per_queue=1 if self.one_at_a_time else None,
        )
        # Looked up at each call, so that a wrapper put on `invoke` later sees these too.
        self.stream_pollers = start_stream_pollers(
            endpoint,
            lambda function, event: self.lambdas.invoke(function, event),
            resources,
            self.stop_event,
        )
        self.uploads = UploadNotifier(
            session, endpoint, self.lambdas, resources, self.stop_event
        ).start()
        from cloudsms import clock

        self.scheduler = SchedulerFirer(
            session,
            endpoint,
            self.lambdas,
            resources,
            group=resources.environment["SCHEDULE_GROUP"],
            now=clock.now,
            stop=self.stop_event,
        ).start()
        self.rates = RateRunner(
            self.lambdas, resources, self.stop_event, every=self.sweep_every
        ).start()
        self.resources = resources
        self.state = {
            "api_url": api_url,
            "receipt_url": resources.environment["RECEIPT_BASE_URL"],
            "aws_endpoint_url": endpoint,
            "simulator_url": self.simulator.url,
            "upload_bucket": resources.environment["UPLOAD_BUCKET"],
            "environment": resources.environment,
        }
        if self.demo:
            self.state.update(self._create_demo())
        if self.kannel:
            self.state.update(self._add_kannel())
        if self.state_file:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            write_private(self.state_file, json.dumps(self.state, indent=2))
        return self

    def _create_demo(self) -> dict[str, Any]:
        from cloudsms.services import accounts, channels, tenants

        tenants.create_tenant("demo", "Demo Enterprise", "Asia/Shanghai")
        channels.add_channel(
            "SIM",
            "simulator",
            self.simulator.url,
            self.simulator.username,
            self.simulator.password,
            default_sender="CloudSMS",
        )
        channels.assign_channel("demo", "SIM")
        key = tenants.issue_key("demo", role="tenant", name="demo key")
        # The operator's key in a tenant of its own, as the README advises on AWS.
        tenants.create_tenant("ops", "Operator", "Asia/Shanghai")
        operator = tenants.issue_key("ops", role="operator", name="demo operator")
        # A portal account as the guide's, with a temporary password to change at log-in.
        account = accounts.create_account("demo_admin", "demo")
        return {
            "tenant": "demo",
            "api_key": key.key,
            "operator_key": operator.key,
            "account_name": "demo_admin",
            "account_password": account.password,
            "channel": "SIM",
        }

    def _add_kannel(self) -> dict[str, Any]:
        """A real Kannel on loopback and a channel through it for the demo tenant."""
        from cloudsms.services import channels
        from cloudsms_local.kannel import KannelHarness

        workdir = (self.state_file.parent if self.state_file else REPO_ROOT / ".local") / "kannel"
        self.kannel_harness = KannelHarness(workdir=workdir).start()
        channels.add_channel(
            KANNEL_ROUTE,
            "kannel",
            self.kannel_harness.endpoint,
            self.kannel_harness.username,
            self.kannel_harness.password,
            default_sender="CloudSMS",
            # Kannel's fake SMSC reports a long message once, not each of its parts.
            receipts_per_part=False,
        )
        if self.demo:
            channels.assign_channel("demo", KANNEL_ROUTE)
        return {
            "kannel_channel": KANNEL_ROUTE,
            "kannel_endpoint": self.kannel_harness.endpoint,
            "kannel_logs": str(workdir),
        }

    def stop(self) -> None:
        self.stop_event.set()
        for poller in [*getattr(self, "pollers", []), *getattr(self, "stream_pollers", [])]:
            poller.thread.join(timeout=3)
        for part in ("gateway", "simulator", "kannel_harness", "moto"):
            thing = getattr(self, part, None)
            if thing is not None:
                thing.stop()


def curl_example(state: dict[str, Any]) -> str:
    body = json.dumps(
        {
            "to": ["+639215347566"],
            "text": "Your pin code is 123456",
            "sms_type": "verify_code",
            "channel": state["channel"],
        }
    )
    return (
        f"curl -s -X POST {state['api_url']}/v1/sms \\\n"
        f"  -H 'Authorization: Bearer {state['api_key']}' \\\n"
        f"  -H 'Content-Type: application/json' \\\n"
        f"  -d '{body}'"
    )


def kannel_line(state: dict[str, Any]) -> str:
    if "kannel_channel" not in state:
        return ""
    return (
        f"  channel:        {state['kannel_channel']} (real Kannel at "
        f"{state['kannel_endpoint']}, logs in {state['kannel_logs']})\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run CloudSMS on this machine.")
    parser.add_argument("--port", type=int, default=3000, help="API port (0: any free port)")
    parser.add_argument("--receipt-delay", type=float, default=1.0)
    parser.add_argument("--state-file", type=Path, default=REPO_ROOT / ".local" / "stack.json")
    parser.add_argument("--quiet", action="store_true", help="warnings only in the log")
    parser.add_argument(
        "--sweep-every",
        type=float,
        help="run the template's rate() functions (the receipt sweep) every N seconds "
        "instead of at their own rate",
    )
    parser.add_argument(
        "--kannel",
        action="store_true",
        help=f"also run a real Kannel on loopback, with channel {KANNEL_ROUTE} through it "
        "(install it with `make kannel`)",
    )
    args = parser.parse_args(argv)
    if args.kannel:
        from cloudsms_local.kannel import kannel_installed

        if not kannel_installed():
            parser.error("Kannel is not installed: `make run KANNEL=1` installs it first")

    stack = LocalStack(
        args.port,
        args.receipt_delay,
        args.state_file,
        quiet=args.quiet,
        sweep_every=args.sweep_every,
        kannel=args.kannel,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    try:
        stack.start()
        state = stack.state
        print(
            "\nCloudSMS is running.\n"
            f"  API and portal: {state['api_url']}\n"
            f"  receipts:       {state['receipt_url']}dlr/<channel>\n"
            f"  replies (MO):   {state['receipt_url']}mo/<channel>\n"
            f"  tenant:         {state['tenant']}\n"
            f"  API key:        {state['api_key']}  (shown once; also in {args.state_file})\n"
            f"  portal account: {state['account_name']}, temporary password "
            f"{state['account_password']} (changed at the first log-in)\n"
            f"  channel:        {state['channel']} "
            f"(carrier simulator at {state['simulator_url']})\n"
            f"{kannel_line(state)}"
            "\nSend a message:\n\n"
            f"{curl_example(state)}\n\n"
            f"Then: curl -s {state['api_url']}/v1/sms/<uid> "
            f"-H 'Authorization: Bearer {state['api_key']}'\n"
            "\nCtrl-C stops everything.\n",
            flush=True,
        )
        done.wait()
    finally:
        stack.stop()
        print("CloudSMS stopped.", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
