"""Verify-code latency: from `POST /v1/sms` answered 202 to the carrier gateway being
handed the message (the simulator records when), for single verify codes sent one by
one while a 10,000-recipient mission drains, and with the local stack idle: before the
mission and after its last receipt, the quieter of the two windows counting.

Verify codes go to the otp submit queue, bulk missions to the bulk queue; the design
promises that a verify code never waits behind a large mission.

Target: p95 under load at most 1.5 x p95 idle.
Run alone: python -m bench.otp_latency [--messages N] [--idle-codes N] [--every SECONDS]
"""

from __future__ import annotations

import argparse
import math
import threading
import time
from dataclasses import dataclass

from bench import figure, write_result
from bench._local import BENCH_THREAD, RECEIPT_DELAY, LocalRun, verify_number
from bench.end_to_end import MESSAGES, warm_up

RATIO_TARGET = 1.5
IDLE_CODES = 100  # a window: its p95 is its 95th-fastest code, which a few outliers do not set
EVERY = 0.5  # seconds between two verify codes while the mission drains
IDLE_EVERY = 0.25  # and with the stack idle (one is long done before the next)
SUBMIT_TIMEOUT = 600.0
MISSION_PREFIX = "+63917"  # bench._local.mission_number


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value at least `share` of them reach."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class VerifyCodes:
    """Sends verify codes one by one, each to a number of its own, and keeps when each
    was accepted."""

    def __init__(self, run: LocalRun) -> None:
        self.run = run
        self.numbers: list[str] = []
        self.requested: dict[str, float] = {}
        self.accepted: dict[str, float] = {}
        self.api_ms: dict[str, float] = {}

    def send(self) -> None:
        number = verify_number(len(self.numbers))
        self.numbers.append(number)
        self.requested[number] = time.time()
        self.accepted[number] = self.run.send_verify_code(number)
        self.api_ms[number] = (self.accepted[number] - self.requested[number]) * 1000

    def send_until(self, done: threading.Event, every: float, at_least: int) -> None:
        sent = 0
        while sent < at_least or not done.is_set():
            due = time.monotonic() + every
            self.send()
            sent += 1
            time.sleep(max(0.0, due - time.monotonic()))

    def latencies_ms(self, numbers: list[str], since: dict[str, float]) -> list[float]:
        """Waits until the gateway has every one of them; milliseconds from `since`
        (when each was accepted, or requested) to when the gateway was handed it."""
        deadline = time.monotonic() + SUBMIT_TIMEOUT
        while True:
            handed = {s["to"]: s["time"].timestamp() for s in self.run.submissions()}
            if all(n in handed for n in numbers):
                return [(handed[n] - since[n]) * 1000 for n in numbers]
            if time.monotonic() > deadline:
                raise TimeoutError("verify codes did not reach the gateway")
            time.sleep(0.2)


@dataclass(frozen=True)
class Window:
    """Verify codes sent in one window, and their latencies in milliseconds."""

    numbers: list[str]
    accepted_ms: list[float]  # accepted (202) → handed to the gateway
    requested_ms: list[float]  # POST sent → handed to the gateway
    api_ms: list[float]  # POST sent → 202


def idle_window(codes: VerifyCodes, count: int) -> Window:
    """`count` verify codes, IDLE_EVERY apart, with nothing else going on."""
    first = len(codes.numbers)
    for _ in range(count):
        due = time.monotonic() + IDLE_EVERY
        codes.send()
        time.sleep(max(0.0, due - time.monotonic()))
    numbers = codes.numbers[first:]
    return Window(
        numbers,
        codes.latencies_ms(numbers, codes.accepted),
        codes.latencies_ms(numbers, codes.requested),
        [codes.api_ms[n] for n in numbers],
    )


def mission_submitted(run: LocalRun) -> int:
    return sum(1 for s in run.submissions() if s["to"].startswith(MISSION_PREFIX))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--idle-codes", type=int, default=IDLE_CODES)
    parser.add_argument("--every", type=float, default=EVERY)
    parser.add_argument("--receipt-delay", type=float, default=RECEIPT_DELAY)
    args = parser.parse_args(argv)

    with LocalRun(args.receipt_delay) as run:
        warm_up(run)
        codes = VerifyCodes(run)

        before = idle_window(codes, args.idle_codes)

        mission = run.create_mission(args.messages)
        sent = int(mission["phone_number_amount"])
        drained = threading.Event()
        sender = threading.Thread(
            target=codes.send_until,
            args=(drained, args.every, args.idle_codes),
            name=f"{BENCH_THREAD}verify-codes",
        )
        sender.start()
        deadline = time.monotonic() + SUBMIT_TIMEOUT
        while mission_submitted(run) < sent:
            if time.monotonic() > deadline:
                raise TimeoutError("the mission did not drain")
            time.sleep(1)
        drained.set()
        sender.join()
        loaded_numbers = codes.numbers[len(before.numbers) :]
        loaded = Window(
            loaded_numbers,
            codes.latencies_ms(loaded_numbers, codes.accepted),
            codes.latencies_ms(loaded_numbers, codes.requested),
            [codes.api_ms[n] for n in loaded_numbers],
        )
        run.wait_for_receipts(mission["mission_id"], sent, SUBMIT_TIMEOUT)
        after = idle_window(codes, args.idle_codes)

    # The quieter idle window is the baseline: a busy neighbour on the machine can only
    # make an idle window slower, and a slower baseline would flatter the ratio.
    idle = min(before, after, key=lambda w: percentile(w.accepted_ms, 0.95))
    idle_p95 = percentile(idle.accepted_ms, 0.95)
    loaded_p95 = percentile(loaded.accepted_ms, 0.95)
    figures = {
        "p95_under_load_to_idle_ratio": figure(loaded_p95 / idle_p95, RATIO_TARGET),
        "p95_under_load_ms": figure(loaded_p95, RATIO_TARGET * idle_p95),
        "p50_under_load_ms": figure(percentile(loaded.accepted_ms, 0.5)),
        "p95_idle_ms": figure(idle_p95),
        "p50_idle_ms": figure(percentile(idle.accepted_ms, 0.5)),
        "p95_idle_before_mission_ms": figure(percentile(before.accepted_ms, 0.95)),
        "p95_idle_after_mission_ms": figure(percentile(after.accepted_ms, 0.95)),
        "max_under_load_ms": figure(max(loaded.accepted_ms)),
        "api_p95_idle_ms": figure(percentile(idle.api_ms, 0.95)),
        "api_p95_under_load_ms": figure(percentile(loaded.api_ms, 0.95)),
        "from_request_p95_idle_ms": figure(percentile(idle.requested_ms, 0.95)),
        "from_request_p95_under_load_ms": figure(percentile(loaded.requested_ms, 0.95)),
    }
    write_result(
        "otp_latency",
        figures,
        f"python -m bench.otp_latency --messages {args.messages} --idle-codes "
        f"{args.idle_codes} --every {args.every} --receipt-delay {args.receipt_delay}",
        parameters={
            "mission_messages": sent,
            "idle_codes_per_window": args.idle_codes,
            "codes_under_load": len(loaded.numbers),
            "seconds_between_codes": args.every,
            "receipt_delay_seconds": args.receipt_delay,
            "lambda_concurrency": run.stack.lambdas.concurrency,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
