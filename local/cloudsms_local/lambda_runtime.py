"""Runs the template's functions in this process the way Lambda would.

Each function has a few "containers": copies of its handler module, made as invocations
need them, up to `concurrency`. A container runs one invocation at a time, because
Powertools resolvers and batch processors keep the current event on module-level
objects; several containers let one function serve its callers at once, as Lambda does
(a verify code on the otp queue does not wait for a bulk batch of the same function).
The `cloudsms` package itself is shared by every container, as it is by the functions.

Functions behind the APIs take turns, whichever function they are, in the order their
requests came: Powertools' event handler keeps the request it is
resolving on a class that every resolver in the process shares (in Lambda a process
serves one request at a time), so two at once would read each other's requests.
"""

from __future__ import annotations

import importlib.util
import json
import queue
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from cloudsms_local import collector
from cloudsms_local.template import ACCOUNT_ID, REGION, REPO_ROOT, LocalResources

# Containers per function: enough for the pollers of its queues (four each), receipts and
# API calls to overlap, few enough that one machine is not swamped by copies.
DEFAULT_CONCURRENCY = 8


@dataclass
class FakeLambdaContext:
    """What a handler may read from its Lambda context (a stand-in: no Lambda runs here)."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 30

    def __post_init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = (
            f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
        )
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


@dataclass
class Invocation:
    """Counts of what ran, for the benchmarks' cost model."""

    function: str
    duration_ms: float


class _Turns:
    """A lock taken in the order it was asked for. `threading.Lock` promises no order, and
    under load a receipt could then wait past its gateway's timeout and be sent again."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._issued = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._changed:
            ticket = self._issued
            self._issued += 1
            self._changed.wait_for(lambda: self._serving == ticket)

    def __exit__(self, *exc_info: object) -> None:
        with self._changed:
            self._serving += 1
            self._changed.notify_all()


@dataclass
class _Containers:
    """One function's containers: the idle ones, last used first (the warmest)."""

    idle: queue.LifoQueue[ModuleType] = field(default_factory=queue.LifoQueue)
    made: int = 0


_last = threading.local()


def dead_letter(resources: LocalResources, sqs: Any, function: str, event: Any) -> None:
    """An asynchronous invocation that failed goes to the function's dead-letter queue,
    if it has one, as Lambda sends it once its retries are spent (its body: the event)."""
    target = resources.functions[function].get("DeadLetterQueue", {}).get("TargetArn")
    if not target:
        return
    queue_name = target["Fn::GetAtt"][0]
    sqs.send_message(QueueUrl=resources.physical[queue_name], MessageBody=json.dumps(event))


def last_duration_ms() -> float:
    """How long the handler of this thread's last invocation ran, in milliseconds."""
    return float(getattr(_last, "duration_ms", 0.0))


class LocalLambda:
    def __init__(self, resources: LocalResources, concurrency: int = DEFAULT_CONCURRENCY):
        self.resources = resources
        self.concurrency = concurrency
        self._containers: dict[str, _Containers] = {}
        self._guard = threading.Lock()
        # Function URL handlers use no resolver (the receipt webhook is a plain handler),
        # so they need not wait for a turn.
        self._api_functions = {route.function for route in resources.routes}
        self._api_turns = _Turns()
        self.invocations: list[Invocation] = []

    def _load(self, function: str, copy: int) -> ModuleType:
        module_name, _ = self.resources.handler(function)
        path = REPO_ROOT / (module_name.replace(".", "/") + ".py")
        unique = f"{module_name}__{function}__{copy}"
        spec = importlib.util.spec_from_file_location(unique, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[unique] = module
        spec.loader.exec_module(module)
        return module

    @contextmanager
    def _container(self, function: str) -> Iterator[ModuleType]:
        """An idle container of the function, a new one while there are fewer than
        `concurrency`, else the first to become idle."""
        with self._guard:
            containers = self._containers.setdefault(function, _Containers())
            try:
                module: ModuleType | None = containers.idle.get_nowait()
            except queue.Empty:
                module = None
            copy = containers.made
            if module is None and copy < self.concurrency:
                containers.made += 1
        if module is None and copy < self.concurrency:
            try:
                module = self._load(function, copy)
            except BaseException:
                with self._guard:
                    containers.made -= 1
                raise
        elif module is None:
            module = containers.idle.get()
        try:
            yield module
        finally:
            containers.idle.put(module)

    def _turn(self, function: str) -> AbstractContextManager[Any]:
        return self._api_turns if function in self._api_functions else nullcontext()

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        _last.duration_ms = 0.0
        _, attribute = self.resources.handler(function)
        setting = self.resources.function_setting
        with self._turn(function), self._container(function) as module:
            context = FakeLambdaContext(
                function_name=f"cloudsms-local-{function}",
                memory_limit_in_mb=int(setting(function, "MemorySize", 128)),
                timeout_seconds=int(setting(function, "Timeout", 3)),
            )
            started = time.perf_counter()
            collector.busy()
            try:
                return getattr(module, attribute)(event, context)
            finally:
                collector.busy()
                elapsed = (time.perf_counter() - started) * 1000
                self.invocations.append(Invocation(function, elapsed))
                # What Lambda would bill: the handler's run, not the wait for a container.
                _last.duration_ms = elapsed
