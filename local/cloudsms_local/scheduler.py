"""EventBridge Scheduler, locally: the emulator stores schedules but never fires them,
so this fires each due one-time schedule by invoking its target with the schedule's
input, then deletes it (ActionAfterCompletion: DELETE). A schedule fires once; a
deleted one never fires.

Scheduler invokes a function asynchronously, so a firing the function fails is
Lambda's to handle: it goes to the function's dead-letter queue (template.yaml), or
nowhere. (Lambda retries it twice first; here it is not retried.)"""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cloudsms_local.lambda_runtime import LocalLambda, dead_letter
from cloudsms_local.template import REGION, LocalResources

_AT = re.compile(r"^at\((?P<when>[0-9T:-]+)\)$")


class SchedulerFirer:
    def __init__(
        self,
        session: Any,
        endpoint: str,
        lambdas: LocalLambda,
        resources: LocalResources,
        group: str,
        now: Any,
        stop: threading.Event,
        interval: float = 1.0,
    ):
        self.client = session.client("scheduler", endpoint_url=endpoint, region_name=REGION)
        self.sqs = session.client("sqs", endpoint_url=endpoint, region_name=REGION)
        self.resources = resources
        self.lambdas = lambdas
        self.group = group
        self.now = now
        self.stop = stop
        self.interval = interval
        self.functions = {
            arn: logical
            for (logical, attribute), arn in resources.attributes.items()
            if attribute == "Arn" and logical in resources.functions
        }
        self.fired: set[tuple[str, str]] = set()
        self.thread = threading.Thread(target=self.run, daemon=True, name="scheduler")

    def start(self) -> SchedulerFirer:
        self.thread.start()
        return self

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            try:
                self.fire_due()
            except Exception as error:  # noqa: BLE001 - keep firing after one bad schedule
                print(f"[scheduler] {type(error).__name__}: {error}", flush=True)

    def fire_due(self) -> int:
        fired = 0
        names = [
            s["Name"]
            for page in self.client.get_paginator("list_schedules").paginate(GroupName=self.group)
            for s in page.get("Schedules", [])
        ]
        for name in names:
            schedule = self.client.get_schedule(Name=name, GroupName=self.group)
            found = _AT.match(schedule["ScheduleExpression"])
            if not found:
                continue
            zone = ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC")
            due = datetime.fromisoformat(found["when"]).replace(tzinfo=zone)
            identity = (name, schedule["ScheduleExpression"])
            if due > self.now() or identity in self.fired:
                continue
            self.fired.add(identity)
            # Deleted before the target runs: the target may create a new schedule of
            # the same name (a rescheduled mission), which must not be deleted with it.
            self.client.delete_schedule(Name=name, GroupName=self.group)
            target = schedule["Target"]
            function = self.functions.get(target["Arn"])
            if function is None:
                print(f"[scheduler] {name}: no local function for {target['Arn']}", flush=True)
                continue
            payload = json.loads(target.get("Input") or "{}")
            try:
                self.lambdas.invoke(function, payload)
            except Exception as error:  # noqa: BLE001 - Lambda's to handle: see above
                print(f"[scheduler] {name} failed: {error}", flush=True)
                dead_letter(self.resources, self.sqs, function, payload)
            fired += 1
        return fired


class RateRunner:
    """Runs the template's `rate(...)` scheduled functions at their rate, as EventBridge
    would. `every` overrides the rate (a demo need not wait an hour for the sweep)."""

    def __init__(
        self,
        lambdas: LocalLambda,
        resources: LocalResources,
        stop: threading.Event,
        every: float | None = None,
    ):
        self.lambdas = lambdas
        self.stop = stop
        self.threads = [
            threading.Thread(
                target=self.run,
                args=(source.function, every or source.seconds),
                daemon=True,
                name=f"rate-{source.function}",
            )
            for source in resources.rate_sources
        ]

    def start(self) -> RateRunner:
        for thread in self.threads:
            thread.start()
        return self

    def run(self, function: str, seconds: float) -> None:
        while not self.stop.wait(seconds):
            try:
                self.lambdas.invoke(function, {})
            except Exception as error:  # noqa: BLE001 - the next run tries again
                print(f"[rate] {function} failed: {error}", flush=True)
