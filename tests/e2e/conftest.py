"""The local stack, started once as `cloudsms-local` would be, and driven over HTTP."""

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 30.0
# A revoked key stops working after this long; the tests wait it out.
AUTH_CACHE_SECONDS = 1
RECEIPT_DELAY = 0.3


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[dict[str, Any]]:
    """A running local stack: its state file's contents, plus "state_file" itself."""
    workdir = tmp_path_factory.mktemp("stack")
    state_file = workdir / "stack.json"
    log = (workdir / "stack.log").open("w+")
    environment = {**os.environ, "AUTH_CACHE_SECONDS": str(AUTH_CACHE_SECONDS)}
    # The stack chooses its own emulator endpoint; one inherited would point elsewhere.
    environment.pop("AWS_ENDPOINT_URL", None)
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
            str(RECEIPT_DELAY),
        ],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        state = _wait_for_state(process, state_file, log)
        yield {**state, "state_file": state_file}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_for_state(process: subprocess.Popen, state_file: Path, log) -> dict[str, Any]:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"the local stack exited with {process.returncode}:\n{log.read()}")
        if state_file.exists():
            # The stack writes the file in one go, but it may be read mid-write.
            try:
                return json.loads(state_file.read_text())
            except json.JSONDecodeError:
                pass
        time.sleep(0.1)
    log.seek(0)
    pytest.fail(f"the local stack did not start in {STARTUP_TIMEOUT:.0f} s:\n{log.read()}")


@pytest.fixture(scope="session")
def cloudsms_cli(stack) -> Iterator[Any]:
    """Runs the operator's `cloudsms` command against the stack; returns its JSON answer.

    Each command runs as `cloudsms.cli.main` in a fork of one process that has imported
    it already (cli_forks.py): the same command, two seconds faster than a new
    interpreter, which the tests wait for dozens of times."""
    forks = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("cli_forks.py")), str(stack["state_file"])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def run(*arguments: str) -> Any:
        assert forks.stdin is not None and forks.stdout is not None
        forks.stdin.write(json.dumps(arguments) + "\n")
        forks.stdin.flush()
        answered, _, _ = select.select([forks.stdout], [], [], CLI_TIMEOUT)
        assert answered, f"cloudsms {' '.join(arguments)}: no answer in {CLI_TIMEOUT:.0f} s"
        line = forks.stdout.readline()
        assert line, f"cloudsms {' '.join(arguments)}: the process running it exited"
        done = json.loads(line)
        assert done["returncode"] == 0, done["stderr"]
        return json.loads(done["stdout"])

    yield run
    assert forks.stdin is not None
    forks.stdin.close()
    try:
        forks.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        forks.kill()
        forks.wait()
