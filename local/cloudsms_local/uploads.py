"""S3 ObjectCreated notifications, locally: the emulator notifies an SQS queue (the one
notification target it delivers to), and this poller hands each event to the function
the template's S3 event names, as Lambda would."""

from __future__ import annotations

import json
import threading
from typing import Any

from cloudsms_local.lambda_runtime import LocalLambda, dead_letter
from cloudsms_local.template import ACCOUNT_ID, REGION, LocalResources

NOTIFICATION_QUEUE = "cloudsms-local-s3-notifications"


class UploadNotifier:
    def __init__(
        self,
        session: Any,
        endpoint: str,
        lambdas: LocalLambda,
        resources: LocalResources,
        stop: threading.Event,
    ):
        self.s3 = session.client("s3", endpoint_url=endpoint, region_name=REGION)
        self.sqs = session.client("sqs", endpoint_url=endpoint, region_name=REGION)
        self.lambdas = lambdas
        self.resources = resources
        self.stop = stop
        self.routes: list[tuple[str, str, str]] = []  # (bucket name, prefix, function)
        self.queue_url = self.sqs.create_queue(QueueName=NOTIFICATION_QUEUE)["QueueUrl"]
        queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{NOTIFICATION_QUEUE}"
        by_bucket: dict[str, list[dict[str, Any]]] = {}
        for source in resources.bucket_sources:
            bucket = resources.physical[source.bucket]
            self.routes.append((bucket, source.prefix, source.function))
            rule = {"Key": {"FilterRules": [{"Name": "prefix", "Value": source.prefix}]}}
            by_bucket.setdefault(bucket, []).append(
                {"QueueArn": queue_arn, "Events": source.events, "Filter": rule}
            )
        for bucket, configurations in by_bucket.items():
            self.s3.put_bucket_notification_configuration(
                Bucket=bucket,
                NotificationConfiguration={"QueueConfigurations": configurations},
            )
        self.thread = threading.Thread(target=self.run, daemon=True, name="s3-notifications")

    def start(self) -> UploadNotifier:
        self.thread.start()
        return self

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.poll_once()
            except Exception as error:  # noqa: BLE001 - keep serving after one bad event
                print(f"[uploads] {type(error).__name__}: {error}", flush=True)
                self.stop.wait(1)

    def poll_once(self) -> None:
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        for message in answer.get("Messages", []):
            event = json.loads(message["Body"])
            # The emulator first sends an s3:TestEvent without Records.
            for record in event.get("Records", []):
                self._deliver(record)
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _deliver(self, record: dict[str, Any]) -> None:
        bucket = record["s3"]["bucket"]["name"]
        from urllib.parse import unquote_plus

        key = unquote_plus(record["s3"]["object"]["key"])
        for route_bucket, prefix, function in self.routes:
            if bucket == route_bucket and key.startswith(prefix):
                try:
                    self.lambdas.invoke(function, {"Records": [record]})
                except Exception as error:  # noqa: BLE001 - Lambda's to handle: below
                    print(f"[uploads] {function} failed on {key}: {error}", flush=True)
                    # Lambda retries twice, then dead-letters it; here, at once.
                    dead_letter(self.resources, self.sqs, function, {"Records": [record]})
