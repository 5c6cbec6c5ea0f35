"""Channel throughput limits under moto: one token bucket in DynamoDB shared by every
consumer, and the messages it cannot pay for yet put back on the queue."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend

from cloudsms import cache
from cloudsms.adapters import queues
from cloudsms.services import channels, submission, tenants
from cloudsms.services.submission import submit_queue_message
from cloudsms.services.throughput import Bucket, TokenBuckets, take_tokens
from cloudsms.store import batches
from cloudsms.store.messages import MessageModel
from cloudsms.store.throughput import DynamoBucketStore, ThroughputModel
from functions.send import app as send_app
from functions.send import submit as submit_app
from tests.integration.conftest import FakeContext, api_event
from tests.integration.submit_records import FakeClock, event, queued_records

RATE = 20  # segments per second
CAPACITY_LOW = 2  # the "LOW" channel's bucket: 2 segments a second, one second's worth
CAPACITY = Bucket(RATE, 1.0).capacity
NOW = 1_800_000_000.0


@pytest.fixture
def atomic_updates(monkeypatch) -> None:
    """moto applies an update in several Python steps, where DynamoDB applies each one
    atomically: a lock makes the emulator behave as DynamoDB does, so that these tests
    test the bucket's conditions and not moto's threading."""
    original = DynamoDBBackend.update_item
    lock = threading.Lock()

    def update_item(self, *args, **kwargs):
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "update_item", update_item)


def _two_consumers_take(moment: float, batches: int) -> int:
    """Two consumers, each with its own view of the bucket, take batches of three
    segments at the same moment; returns the segments they were granted in all."""
    store = DynamoBucketStore()
    start = threading.Barrier(2)

    def consumer(buckets: TokenBuckets) -> int:
        start.wait()
        granted = 0
        for _ in range(batches):
            granted += 3 * buckets.take("LOW", RATE, [3], moment).messages
        return granted

    with ThreadPoolExecutor(2) as pool:
        results = pool.map(consumer, [TokenBuckets(store, 1.0), TokenBuckets(store, 1.0)])
        return sum(results)


def test_two_consumers_at_once_never_take_more_than_a_full_bucket(aws, atomic_updates):
    granted = _two_consumers_take(NOW, batches=20)

    # Six messages of three fill 18 of the 20 tokens; one more starts on the two left
    # and books the slot after the bucket (a long message is not left waiting for a
    # whole bucket), and then nothing is left for anyone.
    assert granted == CAPACITY // 3 * 3 + 3


def test_a_long_message_is_not_starved_by_short_ones_taking_each_token(aws, atomic_updates):
    # Given a channel of 2 segments a second, whose every token a mission's consumer
    # takes as soon as it comes back (one-segment messages)
    store = DynamoBucketStore()
    mission, verify_code = TokenBuckets(store, 1.0), TokenBuckets(store, 1.0)
    now, mission_at, code_at, sent_at = NOW, NOW, NOW + 5.0, None
    while now < NOW + 30.0 and sent_at is None:
        now = round(now + 0.05, 2)
        if now >= mission_at:
            grant = mission.take("LOW", 2, [1], now)
            mission_at = now if grant.messages else now + grant.wait_seconds
        # When a verify code of two segments comes, and tries again when told to
        if now >= code_at:
            grant = verify_code.take("LOW", 2, [2], now)
            code_at = now + grant.wait_seconds
            sent_at = now if grant.messages else None

    # Then it goes at once, rather than after the mission
    assert sent_at is not None and sent_at <= NOW + 6.0


def test_two_consumers_get_no_more_than_the_throughput_refilled_in_a_window(aws, atomic_updates):
    # Given the bucket emptied at NOW
    _two_consumers_take(NOW, batches=20)

    # When both take as much as they can half a second later
    granted = _two_consumers_take(NOW + 0.5, batches=20)

    # Then the window held what half a second refills, and the bucket's leftover
    assert granted <= RATE * 0.5 + 3
    assert granted >= RATE * 0.5 - 3


def test_a_channel_without_a_limit_takes_no_tokens(aws, tenant):
    channel = channels.get_channel("SIM")

    grant = take_tokens(channel, [1] * 500, FakeClock().now())

    assert grant.messages == 500
    assert ThroughputModel.count() == 0


# --- submission through a limited channel ---------------------------------------------------


def _simulator_channel(carrier_simulator, route: str, throughput: int) -> str:
    """Channel `route`: the carrier simulator at `throughput` segments a second, acme's."""
    channels.add_channel(
        route,
        "simulator",
        carrier_simulator.url,
        carrier_simulator.username,
        carrier_simulator.password,
        "CloudSMS",
        throughput=throughput,
    )
    channels.assign_channel("acme", route)
    return route


@pytest.fixture
def low_channel(tenant, carrier_simulator) -> str:
    """Channel "LOW": the carrier simulator, limited to 2 segments a second."""
    return _simulator_channel(carrier_simulator, "LOW", 2)


@pytest.fixture
def carried(monkeypatch) -> list[tuple[dict[str, Any], int]]:
    """Queue messages put back on the queue (body, delay), as well as sent."""
    original = queues.enqueue
    seen: list[tuple[dict[str, Any], int]] = []

    def enqueue(queue_url, bodies, delay_seconds=0):
        bodies = list(bodies)
        seen.extend(
            (body, delay_seconds(body) if callable(delay_seconds) else delay_seconds)
            for body in bodies
        )
        return original(queue_url, bodies, delay_seconds)

    monkeypatch.setattr(queues, "enqueue", enqueue)
    return seen


def _send(context, channel: str, count: int) -> list[str]:
    from functions.send import app as send_app

    numbers = [f"+6392153475{n}6" for n in range(count)]  # the simulator delivers a 6
    body = {"to": numbers, "text": "Hi", "sms_type": "business", "channel": channel}
    response = send_app.lambda_handler(api_event("POST", "/v1/sms", "/v1/sms", body=body), context)
    return [m["uid"] for m in json.loads(response["body"])["messages"]]


def test_a_throttled_channel_sends_what_its_bucket_pays_for_and_puts_back_the_rest(
    aws, low_channel, carrier_simulator, context, carried
):
    uids = _send(context, low_channel, 5)
    carried.clear()
    [record] = queued_records(aws)

    response = submit_app.lambda_handler(event(record), context)

    [(body, delay)] = carried
    assert response == {"batchItemFailures": []}
    assert len(carrier_simulator.submissions) == 2
    # The third's slot came while the second was handed over: the rest come back at once.
    assert (body["uids"], delay) == (uids[2:], 0)


def test_a_throttled_batch_drains_at_the_channels_rate_and_sends_each_message_once(
    aws, low_channel, carrier_simulator, context, carried
):
    # Given five messages on a channel that takes two segments a second
    uids = _send(context, low_channel, 5)
    carried.clear()
    clock = FakeClock()
    raw, sent_per_hop = queued_records(aws)[0]["body"], []

    # When each put-back queue message comes after its delay
    while raw is not None:
        before = len(carrier_simulator.submissions)
        submit_queue_message(raw, 1, clock.now)
        sent_per_hop.append(len(carrier_simulator.submissions) - before)
        raw = None
        if carried:
            body, delay = carried.pop()
            raw = json.dumps(body)
            clock.advance(delay)

    # Then no hop sent more than the bucket holds, and every message went once
    assert all(0 < sent <= CAPACITY_LOW for sent in sent_per_hop)
    assert sum(sent_per_hop) == 5
    assert sorted(s["to"] for s in carrier_simulator.submissions) == sorted(
        MessageModel.get("acme", uid).to for uid in uids
    )
    assert {MessageModel.get("acme", uid).dr_state for uid in uids} == {"SUBMITTED"}


def test_a_verify_code_goes_at_the_next_slot_of_a_channel_a_mission_keeps_empty(
    aws, low_channel, carrier_simulator, context, carried, monkeypatch
):
    monkeypatch.setattr(submission, "pause", lambda seconds: None)
    # Given a channel of 2 segments a second whose bucket a mission's consumer has just
    # emptied, as it does each time tokens come back
    take_tokens(channels.get_channel(low_channel), [1, 1], datetime.now(UTC))
    body = {
        "to": ["+639215347566"],
        "text": "Your code is 123456",
        "sms_type": "verify_code",
        "channel": low_channel,
    }
    send_app.lambda_handler(api_event("POST", "/v1/sms", "/v1/sms", body=body), context)
    carried.clear()
    [record] = queued_records(aws, "OtpSubmitQueue")

    # When the verify code's queue message is taken
    submit_app.lambda_handler(event(record), context)

    # Then the code is handed over at the channel's next slot, not put back behind the
    # mission's next messages
    assert len(carrier_simulator.submissions) == 1
    assert carried == []


def test_a_consumer_hands_messages_to_the_gateway_at_their_slots(
    aws, low_channel, carrier_simulator, context, carried, monkeypatch
):
    from cloudsms.services import submission

    # Given two messages on a channel that takes two segments a second
    _send(context, low_channel, 2)
    clock = FakeClock()
    pauses: list[tuple[float, int]] = []  # (seconds, messages the gateway had by then)

    def pause(seconds: float) -> None:
        pauses.append((seconds, len(carrier_simulator.submissions)))
        clock.advance(seconds)

    monkeypatch.setattr(submission, "pause", pause)

    # When one consumer takes both from a full bucket
    submit_queue_message(queued_records(aws)[0]["body"], 1, clock.now)

    # Then it handed the first over at once and the second one slot (1.05 / 2 s) later
    assert [(round(seconds, 3), had) for seconds, had in pauses] == [(0.525, 1)]
    assert len(carrier_simulator.submissions) == 2


def test_a_slow_claim_does_not_crowd_the_next_message_into_its_second(
    aws, low_channel, carrier_simulator, context, carried, monkeypatch
):
    from cloudsms.carriers.registry import gateway_for
    from cloudsms.services import submission, transitions

    # Given two messages on a channel that takes two segments a second, and a first claim
    # that takes 0.3 s (a loaded table) while the second is quick, on a fake clock
    _send(context, low_channel, 2)
    clock = FakeClock()
    handed_over: list[float] = []
    claim, claims = transitions.claim, []

    def slow_claim(*args: Any) -> bool:
        if not claims:
            clock.advance(0.3)
        claims.append(args)
        return claim(*args)

    def watched_gateway(channel: Any) -> Any:
        gateway = gateway_for(channel)

        class Watched:
            def submit(self, submission_: Any) -> Any:
                handed_over.append(clock.now().timestamp())
                return gateway.submit(submission_)

        return Watched()

    monkeypatch.setattr(transitions, "claim", slow_claim)
    monkeypatch.setattr(submission, "pause", clock.advance)

    # When one consumer takes both from a full bucket
    submit_queue_message(queued_records(aws)[0]["body"], 1, clock.now, watched_gateway)

    # Then the second went one slot (1.05 / 2 s) after the late first, not at its own slot
    assert len(handed_over) == 2
    assert handed_over[1] - handed_over[0] >= 0.525 - 1e-6


def test_a_throttled_batch_drains_at_the_channels_rate_not_slower(
    aws, low_channel, carrier_simulator, context, carried, monkeypatch
):
    from cloudsms.services import submission

    # Given five messages on a channel that takes two segments a second (slots 0.525 s
    # apart), and a consumer whose waits pass on a fake clock
    _send(context, low_channel, 5)
    carried.clear()
    clock = FakeClock()
    start = clock.now()
    monkeypatch.setattr(submission, "pause", clock.advance)
    raw = queued_records(aws)[0]["body"]

    # When each put-back queue message comes after its delay
    while raw is not None:
        submit_queue_message(raw, 1, clock.now)
        raw = None
        if carried:
            body, delay = carried.pop()
            raw = json.dumps(body)
            clock.advance(delay)

    # Then the last went four slots after the first: no second lost between hops
    elapsed = (clock.now() - start).total_seconds()
    assert len(carrier_simulator.submissions) == 5
    assert elapsed <= 4 * 0.525 + 0.01


# --- pacing a mission, and backing off when throttled -----------------------------------------

SLOT = 1.05 / 2  # the "LOW" channel's slot interval, margin included
LONG_TEXT = "x" * 200  # two segments


@pytest.fixture
def two_per_queue_message(monkeypatch) -> None:
    """A mission's recipients go two to a queue message, so a short list makes several."""
    from cloudsms.services import dispatch
    from cloudsms.settings import get_settings

    settings = get_settings().model_copy(update={"recipients_per_queue_message": 2})
    monkeypatch.setattr(dispatch, "get_settings", lambda: settings)


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    """The handlers' clock, and the consumers' waits for their slots, on a fake clock."""
    from cloudsms import clock

    fake = FakeClock()
    monkeypatch.setattr(clock, "now", fake.now)
    monkeypatch.setattr(submission, "pause", fake.advance)
    return fake


def _numbers(count: int) -> list[str]:
    return [f"+639215{n:05d}6" for n in range(count)]  # the simulator delivers a 6


def _dispatch_mission(channel: str, count: int, content: str = "Hi") -> dict[str, Any]:
    from tests.integration import missions_api as api
    from tests.unit import numberlist_corpus as corpus

    data = corpus.xlsx([["Phone Number"], *([n] for n in _numbers(count))])
    status, mission = api.create_with_list(data, channel=channel, content=content)
    assert (status, mission["status"]) == (201, "Sent"), mission
    return mission


def test_a_missions_queue_messages_are_due_at_its_channels_pace(
    aws, low_channel, fake_clock, two_per_queue_message, carried
):
    # Given a channel of 2 segments a second, and a mission of six two-segment messages
    dispatched_at = fake_clock.now()

    # When it is dispatched, two recipients to a queue message
    _dispatch_mission(low_channel, 6, content=LONG_TEXT)

    # Then each queue message is due after the segments queued before it, at the channel's
    # pace, and is delayed until then (whole seconds)
    due = [datetime.fromisoformat(body["not_before"]) for body, _ in carried]
    assert [(d - dispatched_at).total_seconds() for d in due] == pytest.approx(
        [0, 4 * SLOT, 8 * SLOT]
    )
    assert [delay for _, delay in carried] == [0, 3, 5]


def test_a_mission_on_a_channel_without_a_limit_is_not_paced(
    aws, tenant, fake_clock, two_per_queue_message, carried
):
    _dispatch_mission("SIM", 6)

    assert len(carried) == 3
    assert [("not_before" in body, delay) for body, delay in carried] == [(False, 0)] * 3


def _mission_body(channel: str, count: int, not_before: datetime | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tenant_id": "acme",
        "mission_id": "M1",
        "channel": channel,
        "sms_type": "marketing",
        "recipients": [
            {"uid": f"M1{row:012X}", "to": to, "text": "Hi", "encoding": "GSM-7", "segments": 1}
            for row, to in enumerate(_numbers(count), start=1)
        ],
    }
    if not_before is not None:
        body["not_before"] = not_before.isoformat()
    return body


@pytest.mark.parametrize(("early", "delay"), [(100, 100), (2000, 900)])
def test_a_queue_message_received_before_its_turn_goes_back_whole_unread(
    aws, low_channel, carrier_simulator, fake_clock, carried, monkeypatch, early, delay
):
    # Given a mission's queue message due later than SQS delivered it
    body = _mission_body(low_channel, 2, fake_clock.now() + timedelta(seconds=early))
    reads: list[int] = []
    monkeypatch.setattr(batches, "get", _counted_message_reads(reads))

    # When it is received
    submit_queue_message(json.dumps(body), 1, fake_clock.now)

    # Then it goes back whole for the rest of its wait (15 minutes at most), its messages
    # unread, unwritten and unsent, and the channel's bucket untouched
    assert carried == [(body, delay)]
    assert (reads, carrier_simulator.submissions) == ([], [])
    assert MessageModel.count("acme") == 0
    assert ThroughputModel.count() == 0


@pytest.mark.parametrize("late", [-0.8, 0, 30])
def test_a_queue_message_received_at_or_after_its_turn_is_sent(
    aws, low_channel, carrier_simulator, fake_clock, carried, late
):
    # Given a mission's queue message due a moment from now (SQS delays are whole
    # seconds), now, or a while ago
    body = _mission_body(low_channel, 2, fake_clock.now() - timedelta(seconds=late))

    submit_queue_message(json.dumps(body), 1, fake_clock.now)

    assert len(carrier_simulator.submissions) == 2
    assert carried == []


def test_a_queue_message_paced_on_a_channel_whose_limit_was_lifted_since_goes_at_once(
    aws, low_channel, carrier_simulator, fake_clock, carried
):
    # Given a mission's queue message paced at its channel's 2 a second, due in 10 minutes
    body = _mission_body(low_channel, 2, fake_clock.now() + timedelta(minutes=10))

    # When the operator lifts the channel's limit (throughput 0) to let it go
    channels.change_channel(low_channel, {"throughput": 0})
    cache.clear_all()  # a warm consumer reads the change within CHANNEL_CACHE_SECONDS
    submit_queue_message(json.dumps(body), 1, fake_clock.now)

    # Then it waits for no pace: a channel without a limit has none
    assert len(carrier_simulator.submissions) == 2
    assert carried == []


def test_a_disabled_tenants_queue_message_is_refused_at_once_not_at_its_turn(
    aws, low_channel, carrier_simulator, fake_clock, carried
):
    # Given a mission's queue message paced at its channel's 2 a second, due in 10 minutes
    from cloudsms.services import tenants

    body = _mission_body(low_channel, 2, fake_clock.now() + timedelta(minutes=10))

    # When its tenant is disabled before then
    tenants.disable_tenant("acme", fake_clock.now())
    cache.clear_all()  # a warm consumer reads its tenant again within TENANT_CACHE_SECONDS
    submit_queue_message(json.dumps(body), 1, fake_clock.now)

    # Then its messages are refused now: nothing waits for a turn only to be refused then
    assert (carried, carrier_simulator.submissions) == ([], [])
    assert {m.dr_state for m in MessageModel.query("acme")} == {"LOCAL_REJECTED"}
    assert MessageModel.count("acme") == 2


def _counted_message_reads(counted: list[int]) -> Any:
    """A batch read that also notes how many messages each batch read of messages asks for."""
    batch_get = batches.get

    def get(model: Any, keys: Any, **kwargs: Any) -> Any:
        if model is MessageModel:
            counted.append(len(keys))
        return batch_get(model, keys, **kwargs)

    return get


def _empty_the_bucket(channel: str, now: datetime, urgent: bool = False) -> None:
    """Another consumer takes every token there is, as a busy mission's does."""
    while take_tokens(channels.get_channel(channel), [1], now, urgent=urgent).messages:
        pass


@pytest.mark.parametrize("kind", ["one-off", "mission"])
def test_a_queue_message_throttled_hop_after_hop_waits_longer_each_time(
    aws, low_channel, carrier_simulator, fake_clock, carried, context, monkeypatch, kind
):
    # Given a queue message on a channel whose every token other consumers take first,
    # and waits drawn at the top of their range
    monkeypatch.setattr(submission, "spread", lambda: 1.0)
    if kind == "one-off":
        _send(context, low_channel, 1)
        carried.clear()
        raw = queued_records(aws)[0]["body"]
    else:
        raw = json.dumps(_mission_body(low_channel, 1, fake_clock.now()))

    # When it comes back after each delay, to find the bucket empty again, and from its
    # second hop (when it asks for the next free slot) that slot booked too, as verify
    # codes and other throttled queue messages do
    delays, counts = [], []
    for hop in range(8):
        _empty_the_bucket(low_channel, fake_clock.now(), urgent=hop > 0)
        submit_queue_message(raw, 1, fake_clock.now)
        body, delay = carried.pop()
        delays.append(delay)
        counts.append(body["throttled"])
        raw = json.dumps(body)
        fake_clock.advance(delay)

    # Then it waits twice as long each hop, up to 32 s, and the count goes with it
    assert delays == [1, 2, 4, 8, 16, 32, 32, 32]
    assert counts == [1, 2, 3, 4, 5, 6, 7, 8]
    assert carrier_simulator.submissions == []


def test_a_missions_queue_message_that_finds_the_bucket_empty_goes_back_whole_unread(
    aws, low_channel, carrier_simulator, fake_clock, carried, monkeypatch
):
    # Given a mission's queue message throttled twice in a row, on a channel whose every
    # token, and the next free slot after them, other consumers have just taken, and
    # waits drawn at the top of their range
    monkeypatch.setattr(submission, "spread", lambda: 1.0)
    body = {**_mission_body(low_channel, 2, None), "throttled": 2}
    _empty_the_bucket(low_channel, fake_clock.now(), urgent=True)
    reads: list[int] = []
    monkeypatch.setattr(batches, "get", _counted_message_reads(reads))

    # When it is received
    submit_queue_message(json.dumps(body), 1, fake_clock.now)

    # Then it goes back whole for its third hop's wait, its messages unread and unsent
    assert carried == [({**body, "throttled": 3}, 4)]
    assert (reads, carrier_simulator.submissions) == ([], [])
    assert MessageModel.count("acme") == 0


def test_a_missions_long_message_on_a_channel_short_ones_keep_empty_still_goes_each_hop(
    aws, low_channel, carrier_simulator, fake_clock, carried
):
    # Given a mission's queue message of two-segment messages, on a channel whose every
    # token another mission's one-segment messages take as it comes back
    body = _mission_body(low_channel, 2, None)
    for recipient in body["recipients"]:
        recipient["text"], recipient["segments"] = "Hi " * 60, 2
    _empty_the_bucket(low_channel, fake_clock.now())

    # When it is received
    submit_queue_message(json.dumps(body), 1, fake_clock.now)

    # Then its first message goes at the channel's next free slot, as the bucket lets a
    # long message do, rather than wait for two tokens the short ones never leave
    assert len(carrier_simulator.submissions) == 1
    [(rest, _)] = carried
    assert [r["uid"] for r in rest["recipients"]] == [body["recipients"][1]["uid"]]


def test_a_missions_queue_message_throttled_before_goes_at_the_next_free_slot(
    aws, low_channel, carrier_simulator, fake_clock, carried
):
    # Given a mission's queue message throttled once, on a channel whose every token
    # another mission's consumer takes the moment it is back
    body = {**_mission_body(low_channel, 2, None), "throttled": 1}
    _empty_the_bucket(low_channel, fake_clock.now())

    # When it comes back
    submit_queue_message(json.dumps(body), 1, fake_clock.now)

    # Then its first message goes at the channel's next free slot, rather than back on
    # the queue for a token the other mission takes first every time; the rest go on
    # at the channel's pace, counted afresh
    assert len(carrier_simulator.submissions) == 1
    [(rest, _)] = carried
    assert [r["uid"] for r in rest["recipients"]] == [body["recipients"][1]["uid"]]
    assert "throttled" not in rest


def test_recipients_outside_their_quiet_hours_are_held_for_them_not_throttled_meanwhile(
    aws, low_channel, carrier_simulator, carried
):
    # Given a mission's queue message for a Manila number at 03:00 there, recipients'
    # quiet hours on, and its channel's every token just taken by another consumer
    night_in_manila = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)
    body = {**_mission_body(low_channel, 1, None), "quiet_hours": True}
    _empty_the_bucket(low_channel, night_in_manila)

    # When it is received
    submit_queue_message(json.dumps(body), 1, lambda: night_in_manila)

    # Then it is held for its window, a 15-minute hop, not put back every few seconds
    [(held, delay)] = carried
    assert "throttled" not in held
    assert delay == 900
    assert carrier_simulator.submissions == []


def test_a_throttled_queue_message_that_sends_some_goes_on_at_the_channels_pace(
    aws, low_channel, carrier_simulator, fake_clock, carried, monkeypatch
):
    # Given a queue message throttled several hops in a row, and a bucket that now has
    # room for one of its three messages
    monkeypatch.setattr(submission, "spread", lambda: 1.0)
    body = {**_mission_body(low_channel, 3, None), "throttled": 5}
    take_tokens(channels.get_channel(low_channel), [1], fake_clock.now())

    submit_queue_message(json.dumps(body), 1, fake_clock.now)

    # Then the rest come back when the bucket can pay for the next, counted afresh
    [(rest, delay)] = carried
    assert len(carrier_simulator.submissions) == 1
    assert "throttled" not in rest
    assert delay <= 1


def test_a_verify_code_throttled_hop_after_hop_is_not_held_back_longer(
    aws, low_channel, carrier_simulator, fake_clock, carried, context, monkeypatch
):
    # Given a verify code on a channel whose slots other codes have booked past its bucket
    monkeypatch.setattr(submission, "spread", lambda: 1.0)
    body = {
        "to": [_numbers(1)[0]],
        "text": "Your code is 123456",
        "sms_type": "verify_code",
        "channel": low_channel,
    }
    send_app.lambda_handler(api_event("POST", "/v1/sms", "/v1/sms", body=body), context)
    carried.clear()
    raw = queued_records(aws, "OtpSubmitQueue")[0]["body"]

    # When it comes back after each delay, to find the slots booked again
    delays = []
    for _ in range(5):
        _empty_the_bucket(low_channel, fake_clock.now(), urgent=True)
        submit_queue_message(raw, 1, fake_clock.now)
        queued, delay = carried.pop()
        delays.append(delay)
        raw = json.dumps(queued)
        fake_clock.advance(delay)

    # Then it tries again as soon as the next slot is free, every time
    assert carrier_simulator.submissions == []
    assert max(delays) <= 2
    assert "throttled" not in queued


def _sqs_record(raw: str) -> dict[str, Any]:
    from tests.integration.conftest import EVENTS

    record = json.loads((EVENTS / "sqs_submit.json").read_text())["Records"][0]
    return {**record, "body": raw}


class SimulatedQueue:
    """A submit queue whose messages each come to a consumer of their own the moment their
    delay is over (as to 200 concurrent consumers), on the handlers' clock."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waiting: list[tuple[datetime, int, str]] = []
        self.received = 0

    def enqueue(self, queue_url, bodies, delay_seconds=0) -> int:
        for body in bodies:
            delay = delay_seconds(body) if callable(delay_seconds) else delay_seconds
            due = self.clock.now() + timedelta(seconds=delay)
            self.waiting.append((due, len(self.waiting), json.dumps(body)))
        return 1

    def drain(self, context) -> None:
        """The submit function takes each queue message as it comes, until none is left."""
        while self.waiting:
            self.waiting.sort()
            due, _, raw = self.waiting.pop(0)
            if due > self.clock.now():
                self.clock.advance((due - self.clock.now()).total_seconds())
            answer = submit_app.lambda_handler(event(_sqs_record(raw)), context)
            assert answer == {"batchItemFailures": []}
            self.received += 1


@pytest.fixture
def simulated_queue(fake_clock, monkeypatch) -> SimulatedQueue:
    queue = SimulatedQueue(fake_clock)
    monkeypatch.setattr(queues, "enqueue", queue.enqueue)
    monkeypatch.setattr(submission, "pause", lambda seconds: None)
    return queue


def test_a_paced_mission_is_delivered_whole_with_about_one_receipt_per_queue_message(
    aws, tenant, carrier_simulator, fake_clock, two_per_queue_message, context, simulated_queue
):
    # Given a channel of 10 segments a second (a bucket holds a few queue messages of two)
    _simulator_channel(carrier_simulator, "TEN", 10)
    start = fake_clock.now()

    # When a mission of 40 one-segment messages (20 queue messages) is dispatched, and the
    # submit function takes each queue message as it comes
    _dispatch_mission("TEN", 40)
    queue_messages = len(simulated_queue.waiting)
    simulated_queue.drain(context)

    # Then every recipient got the message once, at the channel's pace, and the queue
    # messages were received about once each, not once a second until their turn
    assert sorted(s["to"] for s in carrier_simulator.submissions) == _numbers(40)
    assert (fake_clock.now() - start).total_seconds() <= 40 * 1.05 / 10 + 1
    assert queue_messages == 20
    assert simulated_queue.received <= 22


def test_two_missions_on_one_channel_read_each_message_about_once(
    aws, tenant, carrier_simulator, two_per_queue_message, context, simulated_queue, monkeypatch
):
    # Given a channel of 10 segments a second, and the message reads counted
    _simulator_channel(carrier_simulator, "TEN", 10)
    read: list[int] = []
    monkeypatch.setattr(batches, "get", _counted_message_reads(read))

    # When two missions of 40 are dispatched on it at once, each paced at its whole rate,
    # so that about half their queue messages are throttled, some hop after hop
    _dispatch_mission("TEN", 40)
    _dispatch_mission("TEN", 40, content="Hello")
    simulated_queue.drain(context)

    # Then every recipient got each message once, and a throttled hop read no messages
    # (each read its two from the tenant's partition, about twice per message in all)
    assert len(carrier_simulator.submissions) == 80
    assert len({(s["to"], s["text"]) for s in carrier_simulator.submissions}) == 80
    assert simulated_queue.received > 60
    assert sum(read) <= 88


# --- another tenant's messages on a channel a mission keeps busy --------------------------


class SideBySideConsumers:
    """A submit queue whose messages each come to a consumer of their own the moment
    their delay is over, the consumers running side by side on the handlers' clock: one
    waiting for its message's slot lets the others run, as concurrent invocations do
    (SimulatedQueue runs each to its end first). One runs at a time, so a run is the same
    every time. A put-back queue message comes back at once, so a mission's consumer takes
    each token the moment it is back: the worst case for everyone else, which SQS's own
    latency in AWS only makes a matter of luck."""

    def __init__(self, clock: FakeClock, context: Any) -> None:
        self.clock, self.context = clock, context
        self.due: list[tuple[datetime, int, Any]] = []  # (when, order, what then runs)
        self.order = 0
        self.turn_over = threading.Semaphore(0)
        self.failure: BaseException | None = None

    def at(self, when: datetime, action: Any) -> None:
        self.order += 1
        self.due.append((when, self.order, action))

    def enqueue(self, queue_url, bodies, delay_seconds=0) -> int:
        for body in bodies:
            delay = delay_seconds(body) if callable(delay_seconds) else delay_seconds
            raw = json.dumps(body)
            self.at(self.clock.now() + timedelta(seconds=delay), lambda raw=raw: self._consume(raw))
        return 1

    def pause(self, seconds: float) -> None:
        """A consumer waiting for its slot: the others run meanwhile."""
        resume = threading.Event()

        def wake() -> None:
            resume.set()
            self.turn_over.acquire()

        self.at(self.clock.now() + timedelta(seconds=seconds), wake)
        self.turn_over.release()
        resume.wait()

    def _consume(self, raw: str) -> None:
        def consumer() -> None:
            try:
                answer = submit_app.lambda_handler(event(_sqs_record(raw)), self.context)
                assert answer == {"batchItemFailures": []}
            except BaseException as error:
                self.failure = error
            finally:
                self.turn_over.release()

        threading.Thread(target=consumer, daemon=True).start()
        self.turn_over.acquire()

    def run_until(self, done: Any) -> None:
        """Runs what is due, in order of time, until `done()` or nothing is left."""
        while self.due and not done():
            self.due.sort(key=lambda item: item[:2])
            when, _, action = self.due.pop(0)
            if when > self.clock.now():
                self.clock.advance((when - self.clock.now()).total_seconds())
            action()
            if self.failure:
                raise self.failure


@pytest.fixture
def side_by_side(fake_clock, context, monkeypatch) -> SideBySideConsumers:
    consumers = SideBySideConsumers(fake_clock, context)
    monkeypatch.setattr(queues, "enqueue", consumers.enqueue)
    monkeypatch.setattr(submission, "pause", consumers.pause)
    monkeypatch.setattr(submission, "spread", lambda: 1.0)
    return consumers


def _handed_over(carrier_simulator, text: str) -> int:
    return sum(text in submitted["text"] for submitted in carrier_simulator.submissions)


def test_another_tenants_message_is_not_starved_by_a_mission_taking_each_token(
    aws, low_channel, carrier_simulator, fake_clock, side_by_side
):
    # Given tenant acme's mission of 240 on a channel of 2 segments a second (about two
    # minutes), whose consumers take each token the moment it is back
    mission_ends = 240 * SLOT
    _dispatch_mission(low_channel, 240)
    start, sent = fake_clock.now(), {}
    tenants.create_tenant("beta", "Beta", "Asia/Shanghai")
    channels.assign_channel("beta", low_channel)
    notice = {"to": [_numbers(1)[0]], "text": "Your parcel", "channel": low_channel}

    # When tenant beta sends one business message on the channel half a minute in
    def beta_sends() -> None:
        sent["at"] = fake_clock.now()
        body = {**notice, "sms_type": "business"}
        send_app.lambda_handler(
            api_event("POST", "/v1/sms", "/v1/sms", tenant_id="beta", body=body), FakeContext()
        )

    side_by_side.at(start + timedelta(seconds=30), beta_sends)
    side_by_side.run_until(lambda: _handed_over(carrier_simulator, "Your parcel") > 0)

    # Then it is handed to the gateway within two of the longest throttled waits, while
    # the mission still has messages waiting, not when the mission is done
    waited = (fake_clock.now() - sent["at"]).total_seconds()
    assert waited <= 2 * submission.THROTTLED_BACKOFF_MAX_SECONDS
    assert (fake_clock.now() - start).total_seconds() < mission_ends
    assert _handed_over(carrier_simulator, "Hi") < 240
