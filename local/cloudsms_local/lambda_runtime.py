"""Runs the template's functions in this process the way Lambda would.

Each function gets its own copy of its handler module (as each Lambda function has its
own containers) and runs one invocation at a time, because Powertools resolvers and
batch processors keep the current event on module-level objects.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from cloudsms_local.template import ACCOUNT_ID, REGION, REPO_ROOT, LocalResources


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


class LocalLambda:
    def __init__(self, resources: LocalResources):
        self.resources = resources
        self._modules: dict[str, tuple[ModuleType, str]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.invocations: list[Invocation] = []

    def _load(self, function: str) -> tuple[ModuleType, str]:
        with self._guard:
            if function not in self._modules:
                module_name, attribute = self.resources.handler(function)
                path = REPO_ROOT / (module_name.replace(".", "/") + ".py")
                unique = f"{module_name}__{function}"
                spec = importlib.util.spec_from_file_location(unique, path)
                assert spec and spec.loader
                module = importlib.util.module_from_spec(spec)
                sys.modules[unique] = module
                spec.loader.exec_module(module)
                self._modules[function] = (module, attribute)
                self._locks[function] = threading.Lock()
            return self._modules[function]

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        module, attribute = self._load(function)
        props = self.resources.functions[function]
        context = FakeLambdaContext(
            function_name=f"cloudsms-local-{function}",
            timeout_seconds=int(props.get("Timeout", 30)),
        )
        with self._locks[function]:
            started = time.perf_counter()
            try:
                return getattr(module, attribute)(event, context)
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                self.invocations.append(Invocation(function, elapsed))
