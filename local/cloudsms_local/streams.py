"""Reads a table's stream and invokes its function with batches of records, as Lambda's
event source mapping for DynamoDB streams does: in order, one batch at a time, a failed
batch tried again from its first record, never skipped.

The events are tumbling-window events (they name the shard), as the template's event
source asks for; the window's state is passed back empty.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from cloudsms_local.emulator import STREAM_RECORDS_PATH
from cloudsms_local.template import REGION, LocalResources

Invoke = Callable[[dict[str, Any]], Any]
RETRY_SECONDS = 1.0
IDLE_SECONDS = 0.2


class StreamReader:
    """Where one consumer is in a table's (single-shard, emulated) stream."""

    def __init__(self, streams: Any, stream_arn: str, batch_size: int):
        self.streams = streams
        self.stream_arn = stream_arn
        self.batch_size = batch_size
        self.shard_id = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"][
            "Shards"
        ][0]["ShardId"]
        self.position: str | None = None  # the last sequence number handed on

    def read(self, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` records after the position, without moving it."""
        if self.position is None:
            where = {"ShardIteratorType": "TRIM_HORIZON"}
        else:
            where = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.position}
        iterator = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=self.shard_id, **where
        )["ShardIterator"]
        records = self.streams.get_records(ShardIterator=iterator, Limit=limit)["Records"]
        return [_as_lambda_gives(record) for record in records]

    def event(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "Records": records,
            "shardId": self.shard_id,
            "eventSourceARN": self.stream_arn,
            "window": {
                "start": (now - timedelta(seconds=60)).isoformat(),
                "end": now.isoformat(),
            },
            "state": {},
            "isFinalInvokeForWindow": False,
            "isWindowTerminatedEarly": False,
        }

    def deliver(self, invoke: Invoke, records: list[dict[str, Any]]) -> None:
        """Invokes with the records; the position moves only when the invocation succeeds."""
        invoke(self.event(records))
        self.position = records[-1]["dynamodb"]["SequenceNumber"]

    def drain(self, invoke: Invoke) -> int:
        """Delivers everything the stream holds now; returns how many records."""
        delivered = 0
        while records := self.read(self.batch_size):
            self.deliver(invoke, records)
            delivered += len(records)
        return delivered


class EmulatedShardReader(StreamReader):
    """Reads the emulator's stream shard through its stream-records route (see
    emulator.py): Lambda reads a stream inside AWS, and moto's Streams API would cost the
    emulator milliseconds a record."""

    def __init__(self, emulator_url: str, table_name: str, batch_size: int):
        self.http = requests.Session()
        self.url = emulator_url + STREAM_RECORDS_PATH
        self.table_name = table_name
        self.batch_size = batch_size
        shard = self._get(0, 0)
        self.shard_id = shard["shard_id"]
        self.stream_arn = shard["stream_arn"]
        self.position: str | None = None
        self._next = 0  # index of the next record in the shard

    def _get(self, start: int, limit: int) -> dict[str, Any]:
        query = {"table": self.table_name, "start": str(start), "limit": str(limit)}
        response = self.http.get(self.url, params=query, timeout=30)
        response.raise_for_status()
        return dict(response.json())

    def read(self, limit: int) -> list[dict[str, Any]]:
        return [_as_lambda_gives(r) for r in self._get(self._next, limit)["records"]]

    def deliver(self, invoke: Invoke, records: list[dict[str, Any]]) -> None:
        super().deliver(invoke, records)
        self._next += len(records)


def _as_lambda_gives(record: dict[str, Any]) -> dict[str, Any]:
    """A record as Lambda passes it on: the creation time in epoch seconds, the stream ARN."""
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = created.timestamp()
    return {**record, "dynamodb": stream, "awsRegion": REGION}


class StreamPoller:
    """A thread that feeds a function with its table's stream, as the event source does."""

    def __init__(
        self,
        reader: StreamReader,
        invoke: Invoke,
        function: str,
        batching_window_seconds: float,
        stop: threading.Event,
    ):
        self.reader = reader
        self.invoke = invoke
        self.function = function
        self.window = batching_window_seconds
        self.stop = stop
        self.thread = threading.Thread(target=self.run, daemon=True, name=f"stream-{function}")

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                records = self._batch()
                if not records:
                    self.stop.wait(IDLE_SECONDS)
                    continue
                self.reader.deliver(self.invoke, records)
            except Exception as error:  # noqa: BLE001 - the batch comes back, in order
                print(f"[stream {self.function}] {type(error).__name__}: {error}", flush=True)
                self.stop.wait(RETRY_SECONDS)

    def _batch(self) -> list[dict[str, Any]]:
        """A full batch, or what came within the batching window after the first record."""
        records = self.reader.read(self.reader.batch_size)
        if not records or len(records) >= self.reader.batch_size or not self.window:
            return records
        self.stop.wait(self.window)
        return self.reader.read(self.reader.batch_size)


def start_stream_pollers(
    emulator_url: str,
    invoke: Callable[[str, dict[str, Any]], Any],
    resources: LocalResources,
    stop: threading.Event,
) -> list[StreamPoller]:
    """A poller for each function the template feeds with a table's stream."""
    pollers = []
    for source in resources.stream_sources:
        reader = EmulatedShardReader(
            emulator_url, resources.physical[source.table], source.batch_size
        )
        poller = StreamPoller(
            reader,
            functools.partial(invoke, source.function),
            source.function,
            source.batching_window_seconds,
            stop,
        )
        poller.thread.start()
        pollers.append(poller)
    return pollers
