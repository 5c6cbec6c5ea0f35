"""Polls the queues that have SQS events and invokes their functions with real batches,
as Lambda's event source mappings do: successes are deleted, reported failures stay."""

from __future__ import annotations

import hashlib
import threading
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from cloudsms_local import urgency
from cloudsms_local.lambda_runtime import LocalLambda
from cloudsms_local.template import REGION, LocalResources


def sqs_event(queue_arn: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": hashlib.md5(m["Body"].encode()).hexdigest(),  # noqa: S324
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


class QueuePoller:
    def __init__(
        self,
        sqs: Any,
        lambdas: LocalLambda,
        queue_url: str,
        queue_arn: str,
        function: str,
        batch_size: int,
        stop: threading.Event,
        name: str = "",
        urgent: bool = False,
    ):
        self.sqs = sqs
        self.lambdas = lambdas
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.function = function
        self.batch_size = batch_size
        self.stop = stop
        self.urgent = urgent
        self.thread = threading.Thread(target=self.run, daemon=True, name=f"poll-{function}{name}")

    def run(self) -> None:
        with urgency.marked() if self.urgent else nullcontext():
            while not self.stop.is_set():
                try:
                    self.poll_once()
                except Exception as error:  # noqa: BLE001 - a poller must outlive a bad batch
                    print(f"[poller {self.function}] {type(error).__name__}: {error}", flush=True)
                    self.stop.wait(1)

    def poll_once(self) -> int:
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        if not messages:
            return 0
        with self._work():
            return self._process(messages)

    def _work(self) -> AbstractContextManager[Any]:
        return urgency.running() if self.urgent else nullcontext()

    def _process(self, messages: list[dict[str, Any]]) -> int:
        try:
            result = self.lambdas.invoke(self.function, sqs_event(self.queue_arn, messages))
        except Exception as error:  # noqa: BLE001 - a failed invocation fails the whole batch
            print(f"[poller {self.function}] invocation failed: {error}", flush=True)
            return 0
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )
        return len(messages)


# Batches of one queue worked at once. Lambda's SQS event source starts with five and adds
# more while the queue is full. Four per queue, with a function's eight containers (see
# lambda_runtime.py), leave a container free for the otp queue however busy the bulk one.
POLLERS_PER_QUEUE = 4
# The verify codes' queue: its work goes first on this machine (see urgency.py).
URGENT_QUEUES = frozenset({"OtpSubmitQueue"})


def start_pollers(
    sqs: Any,
    lambdas: LocalLambda,
    resources: LocalResources,
    stop: threading.Event,
    per_queue: int | None = None,
) -> list[QueuePoller]:
    pollers = []
    for source in resources.queue_sources:
        for n in range(per_queue or POLLERS_PER_QUEUE):
            poller = QueuePoller(
                sqs,
                lambdas,
                resources.physical[source.queue],
                resources.attributes[(source.queue, "Arn")],
                source.function,
                source.batch_size,
                stop,
                name=f"-{n}",
                urgent=source.queue in URGENT_QUEUES,
            )
            poller.thread.start()
            pollers.append(poller)
    return pollers
