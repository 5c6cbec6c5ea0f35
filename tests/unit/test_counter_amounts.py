"""What one change of a message item adds to the statistics counters."""

from cloudsms.services.counters import amounts, refunded


def _image(
    state: str,
    carrier_id: str | None = None,
    segments: int = 2,
    cost: int = 0,
    order_number: str | None = "CloudSMS_20261126000000",
) -> dict:
    image = {
        "tenant_id": {"S": "acme"},
        "uid": {"S": "U1"},
        "channel": {"S": "SIM"},
        "dispatch_day": {"S": "2026-11-26"},
        "dr_state": {"S": state},
        "segments": {"N": str(segments)},
    }
    if order_number:
        image["order_number"] = {"S": order_number}
    if carrier_id:
        image["carrier_message_id"] = {"S": carrier_id}
        image["cost"] = {"N": str(cost)}
    return image


def test_a_new_message_counts_in_the_total():
    assert amounts(None, _image("QUEUED")) == {"total": 1}


def test_a_claim_or_a_release_counts_nothing():
    assert amounts(_image("QUEUED"), _image("SUBMITTING")) == {}
    assert amounts(_image("SUBMITTING"), _image("QUEUED")) == {}


def test_an_accepted_submission_counts_submitted_segments_and_cost():
    accepted = _image("SUBMITTED", "C1", segments=2, cost=9000)
    assert amounts(_image("SUBMITTING"), accepted) == {
        "submitted": 1,
        "segments": 2,
        "cost": 9000,
    }


def test_the_cost_of_a_message_no_prepaid_order_paid_is_counted_as_postpaid_too():
    accepted = _image("SUBMITTED", "C1", cost=9000, order_number=None)
    assert amounts(_image("SUBMITTING", order_number=None), accepted) == {
        "submitted": 1,
        "segments": 2,
        "cost": 9000,
        "postpaid_cost": 9000,
    }
    # Sent back to its queue (the SMSC refused it for a while): taken back, both.
    assert amounts(accepted, _image("QUEUED", order_number=None)) == {
        "submitted": -1,
        "segments": -2,
        "cost": -9000,
        "postpaid_cost": -9000,
    }


def test_a_refusal_by_the_smsc_that_stands_takes_the_submission_back_and_fails_it():
    accepted = _image("SUBMITTED", "C1", segments=2, cost=9000)
    refused = _image("SUBMIT_FAILED", "C1", segments=2, cost=0)
    assert amounts(accepted, refused) == {
        "submitted": -1,
        "segments": -2,
        "cost": -9000,
        "failed": 1,
    }
    assert refunded(accepted, refused) == ("CloudSMS_20261126000000", 2)


def test_a_receipt_before_the_gateways_answer_counts_the_message_submitted_once():
    def price(image: dict) -> int:
        return 7 * int(image["segments"]["N"])

    # The receipt comes first (the answer is late, or lost): the gateway took it.
    assert amounts(_image("SUBMITTING"), _image("DELIVRD"), price) == {
        "submitted": 1,
        "segments": 2,
        "cost": 14,
        "delivered": 1,
    }
    # The answer recorded afterwards counts nothing more.
    assert amounts(_image("DELIVRD"), _image("DELIVRD", "C1", cost=14), price) == {}


def test_a_claim_whose_outcome_was_lost_is_never_counted_submitted():
    assert amounts(_image("SUBMITTING"), _image("UNKNOWN")) == {"no_notification": 1}


def test_final_states_count_in_their_outcome():
    submitted = _image("SUBMITTED", "C1")
    assert amounts(submitted, _image("DELIVRD", "C1")) == {"delivered": 1}
    assert amounts(submitted, _image("UNDELIV", "C1")) == {"failed": 1}
    assert amounts(submitted, _image("UNKNOWN", "C1")) == {"no_notification": 1}
    assert amounts(_image("SUBMITTING"), _image("SUBMIT_FAILED")) == {"failed": 1}
    assert amounts(_image("QUEUED"), _image("LOCAL_REJECTED")) == {"failed": 1}


def test_an_intermediate_receipt_counts_nothing():
    assert amounts(_image("SUBMITTED", "C1"), _image("ENROUTE", "C1")) == {}


def test_a_change_of_a_final_message_counts_nothing_more():
    delivered = _image("DELIVRD", "C1")
    assert amounts(delivered, delivered) == {}


def test_a_message_removed_by_its_retention_counts_nothing():
    assert amounts(_image("DELIVRD", "C1"), None) == {}


def test_a_record_that_is_not_a_message_is_left_out_of_a_batch(monkeypatch):
    from cloudsms.services import counters

    added = []
    monkeypatch.setattr(counters, "_add", lambda key, shard, changes: added.append(key))
    records = [
        {"dynamodb": {"SequenceNumber": "1", "NewImage": {"uid": {"S": "x"}}}},
        {"dynamodb": {"SequenceNumber": "2", "NewImage": _image("QUEUED")}},
    ]

    assert counters.count_changes(records, "shardId-1") == 1
    assert ("tenant#acme", "2026-11-26") in added


# --- what a prepaid order gets back ----------------------------------------------------------


def _charged(state: str, order: str | None = "CloudSMS_1", segments: int = 2) -> dict:
    return _image(state, segments=segments, order_number=order)


def test_a_charged_message_no_gateway_took_gives_its_segments_back_to_its_order():
    assert refunded(_charged("SUBMITTING"), _charged("SUBMIT_FAILED")) == ("CloudSMS_1", 2)
    assert refunded(_charged("QUEUED"), _charged("LOCAL_REJECTED", segments=3)) == (
        "CloudSMS_1",
        3,
    )
    assert refunded(None, _charged("LOCAL_REJECTED")) == ("CloudSMS_1", 2)


def test_a_message_a_gateway_took_keeps_its_charge_whatever_its_receipt_says():
    assert refunded(_charged("SUBMITTED"), _charged("UNDELIV")) is None
    assert refunded(_charged("SUBMITTED"), _charged("DELIVRD")) is None
    assert refunded(_charged("SUBMITTING"), _charged("UNKNOWN")) is None  # may have been sent
    assert refunded(_charged("SUBMITTED"), _charged("REJECTD")) is None  # by the network


def test_a_refusal_written_again_or_an_uncharged_message_gives_nothing_back():
    assert refunded(_charged("SUBMIT_FAILED"), _charged("SUBMIT_FAILED")) is None
    assert refunded(_charged("QUEUED", None), _charged("LOCAL_REJECTED", None)) is None


def test_a_refusal_after_a_receipt_that_overtook_the_answer_takes_back_what_was_counted():
    def price(image: dict) -> int:
        return 7 * int(image["segments"]["N"])

    # Part 1's acknowledgement overtakes the gateway's answer (or the answer is lost):
    # counted at the channel's price, with no cost recorded on the message yet.
    acknowledged = _image("ACCEPTD")
    assert amounts(_image("SUBMITTING"), acknowledged, price) == {
        "submitted": 1,
        "segments": 2,
        "cost": 14,
    }
    # Then the SMSC refuses part 2, before the answer's cost is recorded: the refusal
    # stands, and what was counted comes back, the cost too.
    refused = _image("SUBMIT_FAILED", segments=2)
    assert amounts(acknowledged, refused, price) == {
        "submitted": -1,
        "segments": -2,
        "cost": -14,
        "failed": 1,
    }
