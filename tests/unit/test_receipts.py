from datetime import UTC, datetime

import pytest

from cloudsms.carriers.receipts import (
    classify_error,
    error_code_key,
    parse_smpp_receipt_text,
    receipt_from_jasmin,
    receipt_from_kannel,
    receipt_from_smpp_text,
)
from cloudsms.domain.states import DrState

FULL_RECEIPT = (
    "id:1234567890 sub:001 dlvrd:001 submit date:2407011200 done date:2407011201 "
    "stat:DELIVRD err:000 text:Your code is 123456"
)


# --- SMPP receipt text -----------------------------------------------------------------


def test_full_receipt_text_is_split_into_its_fields():
    assert parse_smpp_receipt_text(FULL_RECEIPT) == {
        "id": "1234567890",
        "sub": "001",
        "dlvrd": "001",
        "submit_date": "2407011200",
        "done_date": "2407011201",
        "stat": "DELIVRD",
        "err": "000",
        "text": "Your code is 123456",
    }


def test_missing_fields_are_left_out():
    fields = parse_smpp_receipt_text("id:42 submit date:2407011200 stat:UNDELIV err:001")

    assert fields == {"id": "42", "submit_date": "2407011200", "stat": "UNDELIV", "err": "001"}


def test_fields_may_come_in_any_order():
    fields = parse_smpp_receipt_text("stat:EXPIRED err:027 id:abc done date:2407011201")

    assert fields["id"] == "abc"
    assert fields["stat"] == "EXPIRED"
    assert fields["done_date"] == "2407011201"


def test_text_takes_the_rest_of_the_line_even_when_it_looks_like_fields():
    fields = parse_smpp_receipt_text("id:1 stat:DELIVRD err:000 text:stat:UNDELIV id:2 hi")

    assert fields["text"] == "stat:UNDELIV id:2 hi"
    assert fields["stat"] == "DELIVRD"
    assert fields["id"] == "1"


def test_hex_message_id_is_kept_as_sent():
    fields = parse_smpp_receipt_text("id:0A1B2C3D4E stat:DELIVRD")

    assert fields["id"] == "0A1B2C3D4E"


def test_uuid_message_id_of_64_chars_is_kept_whole():
    long_id = "f" * 28 + "0d1c5a2e-7b7f-4c55-9a3b-3c5e2f9d1a4b"
    assert len(long_id) == 64

    assert parse_smpp_receipt_text(f"id:{long_id} stat:DELIVRD")["id"] == long_id


def test_empty_text_gives_no_fields():
    assert parse_smpp_receipt_text("") == {}


def test_receipt_takes_its_state_from_stat():
    assert receipt_from_smpp_text(FULL_RECEIPT).state == DrState.DELIVRD


def test_receipt_done_date_of_ten_digits_is_read_as_utc():
    receipt = receipt_from_smpp_text(FULL_RECEIPT)

    assert receipt.done_at == datetime(2024, 7, 1, 12, 1, tzinfo=UTC)


def test_receipt_done_date_of_twelve_digits_keeps_the_seconds():
    receipt = receipt_from_smpp_text("id:1 done date:240701120159 stat:DELIVRD")

    assert receipt.done_at == datetime(2024, 7, 1, 12, 1, 59, tzinfo=UTC)


def test_receipt_with_an_unreadable_date_has_no_done_at():
    assert receipt_from_smpp_text("id:1 done date:24a701 stat:DELIVRD").done_at is None


def test_receipt_keeps_carrier_id_and_error_code():
    receipt = receipt_from_smpp_text("id:77 stat:UNDELIV err:001")

    assert (receipt.carrier_message_id, receipt.error_code) == ("77", "001")


def test_receipt_with_an_unknown_stat_is_unknown():
    assert receipt_from_smpp_text("id:77 stat:WHATEVER").state == DrState.UNKNOWN


def test_text_without_stat_is_not_a_receipt():
    with pytest.raises(ValueError):
        receipt_from_smpp_text("id:77 err:000")


@pytest.mark.parametrize(
    ("stat", "state"),
    [
        ("UNDELIV", DrState.UNDELIV),
        ("EXPIRED", DrState.EXPIRED),
        ("DELETED", DrState.DELETED),
        ("REJECTD", DrState.REJECTD),
        ("ACCEPTD", DrState.ACCEPTD),
        ("ENROUTE", DrState.ENROUTE),
        ("UNKNOWN", DrState.UNKNOWN),
        ("delivered", DrState.DELIVRD),
    ],
)
def test_each_stat_maps_to_its_state(stat, state):
    assert receipt_from_smpp_text(f"id:1 stat:{stat}").state == state


# --- Kannel ----------------------------------------------------------------------------


def kannel(status: str, answer: str = "", **more: str) -> dict[str, str]:
    return {"uid": "msg-1", "status": status, "answer": answer, **more}


def test_kannel_bit_1_is_delivered():
    receipt = receipt_from_kannel(kannel("1", smsc_msgid="abc", ts="1719835260"))

    assert receipt.state == DrState.DELIVRD
    assert receipt.uid == "msg-1"
    assert receipt.carrier_message_id == "abc"
    assert receipt.done_at == datetime(2024, 7, 1, 12, 1, tzinfo=UTC)


def test_kannel_bit_2_is_undelivered():
    assert receipt_from_kannel(kannel("2")).state == DrState.UNDELIV


def test_kannel_34_with_an_expired_receipt_is_expired():
    answer = (
        "id:9 sub:001 dlvrd:000 submit date:2407011200 done date:2407021200 stat:EXPIRED err:027"
    )

    receipt = receipt_from_kannel(kannel("34", answer))

    assert receipt.state == DrState.EXPIRED
    assert receipt.error_code == "027"
    assert receipt.done_at == datetime(2024, 7, 2, 12, 0, tzinfo=UTC)


def test_kannel_34_without_a_receipt_is_undelivered_by_its_bits():
    assert receipt_from_kannel(kannel("34")).state == DrState.UNDELIV


@pytest.mark.parametrize("stat", ["DELETED", "REJECTD", "UNKNOWN", "UNDELIV"])
def test_kannel_handset_receipt_stat_wins_over_the_not_delivered_bit(stat):
    assert receipt_from_kannel(kannel("2", f"id:9 stat:{stat} err:001")).state == stat


def test_kannel_16_nack_is_rejected_with_the_nack_as_error():
    receipt = receipt_from_kannel(kannel("16", "NACK/0x00000045/Submit failed"))

    assert receipt.state == DrState.REJECTD
    assert receipt.error_code == "NACK/0x00000045/Submit failed"


def test_kannel_8_is_the_smsc_acknowledgement():
    receipt = receipt_from_kannel(kannel("8", "ACK/"))

    assert receipt.state == DrState.ACCEPTD
    assert receipt.error_code is None


def test_kannel_4_queued_on_smsc_is_enroute():
    assert receipt_from_kannel(kannel("4")).state == DrState.ENROUTE


def test_kannel_receipt_id_is_the_carrier_id_when_smsc_msgid_is_empty():
    assert receipt_from_kannel(kannel("1", "id:77 stat:DELIVRD")).carrier_message_id == "77"


def test_kannel_raw_keeps_kannels_fields_and_not_the_query_with_its_secret():
    params = kannel("1", "id:77 stat:DELIVRD", smsc_msgid="77", secret="s3cr3t", tenant="acme")

    receipt = receipt_from_kannel(params)

    assert receipt.raw == "status=1&answer=id:77 stat:DELIVRD&smsc_msgid=77"
    assert "s3cr3t" not in str(receipt)


def test_kannel_raw_of_a_receipt_without_an_answer_still_says_what_it_reported():
    # The SMSC's acknowledgement, or a fake SMSC's receipt: bits alone, no %A text.
    assert receipt_from_kannel(kannel("8", ts="1719835260")).raw == "status=8&ts=1719835260"


def test_kannel_callback_without_bits_or_stat_is_not_a_receipt():
    with pytest.raises(ValueError):
        receipt_from_kannel(kannel("abc"))


def test_kannel_unknown_stat_without_bits_is_unknown():
    assert receipt_from_kannel(kannel("0", "id:1 stat:WHATEVER")).state == DrState.UNKNOWN


def test_kannel_unknown_stat_falls_back_to_the_bits():
    assert receipt_from_kannel(kannel("1", "id:1 stat:WHATEVER")).state == DrState.DELIVRD


# --- Jasmin ----------------------------------------------------------------------------


def test_jasmin_level_1_esme_rok_is_accepted():
    form = {"id": "5b1e", "message_status": "ESME_ROK", "level": "1", "connector": "c1"}

    receipt = receipt_from_jasmin(form)

    assert receipt.state == DrState.ACCEPTD
    assert receipt.carrier_message_id == "5b1e"


def test_jasmin_level_1_error_status_is_rejected_with_the_status_as_error():
    form = {"id": "5b1e", "message_status": "ESME_RINVDSTADR", "level": "1"}

    receipt = receipt_from_jasmin(form)

    assert receipt.state == DrState.REJECTD
    assert receipt.error_code == "ESME_RINVDSTADR"


def test_jasmin_level_1_status_jasmin_retries_itself_leaves_the_message_on_its_way():
    form = {"id": "5b1e", "message_status": "ESME_RTHROTTLED", "level": "1"}

    receipt = receipt_from_jasmin(form)

    assert (receipt.state, receipt.error_code) == (DrState.ENROUTE, "ESME_RTHROTTLED")


def test_jasmin_level_2_takes_the_state_from_message_status():
    form = {
        "id": "5b1e",
        "uid": "msg-1",
        "message_status": "UNDELIV",
        "level": "2",
        "id_smsc": "77",
        "donedate": "2407011201",
        "err": "001",
    }

    receipt = receipt_from_jasmin(form)

    assert receipt.state == DrState.UNDELIV
    assert receipt.uid == "msg-1"
    assert receipt.error_code == "001"
    assert receipt.done_at == datetime(2024, 7, 1, 12, 1, tzinfo=UTC)


def test_jasmin_form_without_message_status_is_not_a_receipt():
    with pytest.raises(ValueError):
        receipt_from_jasmin({"id": "5b1e", "level": "2"})


def test_jasmin_raw_holds_only_jasmin_fields():
    receipt = receipt_from_jasmin({"id": "5b1e", "message_status": "DELIVRD", "secret": "x"})

    assert receipt.state == DrState.DELIVRD
    assert "secret" not in receipt.raw


# --- error classification --------------------------------------------------------------


@pytest.mark.parametrize("code", ["001", "1", "009", "013", "0x0d"])
def test_unknown_illegal_and_barred_subscribers_are_permanent(code):
    assert classify_error(code) == "permanent"


@pytest.mark.parametrize("code", ["027", "27", "031", "034", "0x1B"])
def test_absent_busy_and_system_failure_are_temporary(code):
    assert classify_error(code) == "temporary"


@pytest.mark.parametrize("code", [None, "", "999", "garbage"])
def test_unknown_codes_are_permanent(code):
    assert classify_error(code) == "permanent"


def test_throttling_nack_is_temporary():
    assert classify_error("NACK/0x00000058/Throttling error") == "temporary"
    assert classify_error("ESME_RTHROTTLED") == "temporary"


def test_invalid_destination_nack_is_permanent():
    assert classify_error("NACK/0x0000000B/Invalid destination address") == "permanent"


@pytest.mark.parametrize(
    ("written", "key"),
    [("001", "1"), ("1", "1"), (" 0x1B ", "27"), ("027", "27"), ("e_barred", "E_BARRED")],
)
def test_an_error_code_is_one_key_however_the_carrier_writes_it(written, key):
    assert error_code_key(written) == key
