"""Runs a real Kannel on loopback for tests: bearerbox, the fake SMSC and smsbox.

Kannel's own `fakesmsc` plays the carrier: bearerbox acknowledges every message it
hands to it and reports it delivered (it cannot produce failures). Install Kannel with
`scripts/install-kannel.sh`.

    with KannelHarness() as kannel:
        gateway = KannelGateway(kannel.endpoint, kannel.username, kannel.password)
"""

from __future__ import annotations

import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import requests

from cloudsms_local.files import write_private
from cloudsms_local.ports import free_ports

FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
SMSC_ID = "fake"
START_TIMEOUT = 20.0


class KannelNotInstalled(RuntimeError):
    pass


def find_bearerbox() -> str | None:
    # Debian puts the boxes in /usr/sbin, which is not on every user's PATH
    return shutil.which("bearerbox") or shutil.which("bearerbox", path="/usr/sbin")


def kannel_installed() -> bool:
    return find_bearerbox() is not None and FAKESMSC.exists()


class KannelHarness:
    def __init__(
        self,
        workdir: Path | None = None,
        username: str = "cloudsms",
        password: str | None = None,
    ) -> None:
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="cloudsms-kannel-"))
        self.username = username
        self.password = password or secrets.token_urlsafe(12)
        self.admin_password = secrets.token_urlsafe(12)
        self.admin_port, self.smsbox_port, self.smsc_port, self.sendsms_port = free_ports(4)
        self.config_path = self.workdir / "kannel.conf"
        self._processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._logs: list[IO[bytes]] = []

    @property
    def endpoint(self) -> str:
        """What `KannelGateway` takes: the smsbox base URL."""
        return f"http://127.0.0.1:{self.sendsms_port}"

    @property
    def sendsms_url(self) -> str:
        return f"{self.endpoint}/cgi-bin/sendsms"

    @property
    def status_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}/cgi-bin/status.txt"

    def smsc_received(self) -> list[str]:
        """What reached the fake SMSC, one line a message: "<from> <to> <type> <data>"."""
        log = self.workdir / "fakesmsc.out"
        text = log.read_text(errors="replace") if log.exists() else ""
        return re.findall(r"Got message \d+: <(.*)>$", text, flags=re.MULTILINE)

    def start(self) -> KannelHarness:
        bearerbox = find_bearerbox()
        if bearerbox is None or not FAKESMSC.exists():
            raise KannelNotInstalled("Kannel is not installed: run scripts/install-kannel.sh")
        smsbox = str(Path(bearerbox).with_name("smsbox"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Its logs and the fake SMSC's output hold numbers and texts (verify codes too).
        self.workdir.chmod(0o700)
        write_private(self.config_path, self._config())
        try:
            self._spawn("bearerbox", [bearerbox, "-v", "2", str(self.config_path)])
            self._wait_until(lambda: _port_open(self.smsc_port), "bearerbox to listen")
            # the message argument keeps fakesmsc out of its interactive (stdin) mode;
            # -m 0 means it never sends it
            fakesmsc = [str(FAKESMSC), "-H", "127.0.0.1", "-r", str(self.smsc_port)]
            self._spawn("fakesmsc", [*fakesmsc, "-m", "0", "0 0 text unused"])
            self._wait_until(self._smsc_online, "the fake SMSC to connect")
            # smsbox exits when bearerbox is not ready yet, so it gets a second and retries
            time.sleep(1.0)
            self._start_smsbox(smsbox)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops smsbox, fakesmsc, then bearerbox; safe to call twice."""
        for _, process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()

    def __enter__(self) -> KannelHarness:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _config(self) -> str:
        return f"""\
group = core
admin-port = {self.admin_port}
admin-interface = 127.0.0.1
admin-password = "{self.admin_password}"
smsbox-port = {self.smsbox_port}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
dlr-storage = internal
log-file = "{self.workdir / "bearerbox.log"}"
# Warnings and errors only, here and on the boxes' console (-v 2): at 0 and 1 Kannel logs
# every message, with its number unmasked and its dlr-url, which holds the channel's
# receipt secret. (fakesmsc's own output, the carrier's side, still lists what it got.)
log-level = 2

group = smsc
smsc = fake
smsc-id = {SMSC_ID}
port = {self.smsc_port}
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.smsbox_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = 127.0.0.1
log-file = "{self.workdir / "smsbox.log"}"
log-level = 2

group = sendsms-user
username = "{self.username}"
password = "{self.password}"
default-sender = CloudSMS
# Kannel silently drops the parts of a long message beyond max-messages: a 1,500-char
# UCS-2 text is 23 parts.
max-messages = 30
concatenation = true
"""

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.out", "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        process = subprocess.Popen(
            command, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        self._processes.append((name, process))
        return process

    def _start_smsbox(self, smsbox: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            process = self._spawn("smsbox", [smsbox, "-v", "2", str(self.config_path)])
            while process.poll() is None and time.monotonic() < deadline:
                if _sendsms_answers(self.sendsms_url):
                    return
                time.sleep(0.2)
            if process.poll() is not None:
                # it gave up on bearerbox; a live one left at the deadline is stopped by stop()
                self._processes.remove(("smsbox", process))
            time.sleep(0.5)
        raise RuntimeError(f"smsbox did not start; see {self.workdir}/smsbox.out")

    def _smsc_online(self) -> bool:
        try:
            status = requests.get(
                self.status_url, params={"password": self.admin_password}, timeout=1
            ).text
        except requests.RequestException:
            return False
        return any(
            line.strip().startswith(f"{SMSC_ID}[") and "(online" in line
            for line in status.splitlines()
        )

    def _wait_until(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for name, process in self._processes:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited while waiting for {what}; see the logs in {self.workdir}"
                    )
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"timed out waiting for {what}; see the logs in {self.workdir}")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _sendsms_answers(url: str) -> bool:
    try:
        requests.get(url, timeout=1)
    except requests.RequestException:
        return False
    return True
