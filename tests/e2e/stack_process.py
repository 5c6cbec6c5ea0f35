"""A local stack of a test module's own, for tests that need settings of their own or
would load the shared stack for minutes: started as `cloudsms-local` would be, with
extra environment, and stopped (with whatever it still had to do) when the module ends."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

STARTUP_TIMEOUT = 60.0
# A stack still busy with a large mission is not waited for: its state is thrown away.
STOP_TIMEOUT = 5.0


@contextmanager
def own_stack(
    workdir: Path,
    environment: dict[str, str],
    receipt_delay: float = 0.3,
    arguments: tuple[str, ...] = (),
) -> Iterator[dict[str, Any]]:
    """The running stack's state file contents, plus "state_file" itself."""
    state_file = workdir / "stack.json"
    log = (workdir / "stack.log").open("w+")
    env = {**os.environ, **environment}
    # The stack chooses its own emulator endpoint; one inherited would point elsewhere.
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cloudsms_local.stack",
            "--port",
            "0",
            "--state-file",
            str(state_file),
            "--quiet",
            "--receipt-delay",
            str(receipt_delay),
            *arguments,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield {**_wait_for_state(process, state_file, log), "state_file": state_file}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_for_state(process: subprocess.Popen, state_file: Path, log: Any) -> dict[str, Any]:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"the local stack exited with {process.returncode}:\n{log.read()}")
        if state_file.exists():
            try:
                return json.loads(state_file.read_text())  # type: ignore[no-any-return]
            except json.JSONDecodeError:
                pass  # read mid-write
        time.sleep(0.1)
    log.seek(0)
    pytest.fail(f"the local stack did not start in {STARTUP_TIMEOUT:.0f} s:\n{log.read()}")


def cli(stack: dict[str, Any], *arguments: str, stdin: str | None = None) -> Any:
    """The operator's `cloudsms` command against the stack; its JSON answer."""
    script = Path(sys.executable).parent / "cloudsms"
    done = subprocess.run(
        [str(script), "--local", str(stack["state_file"]), *arguments],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
