"""Reading recipients' replies as gateways hand them over, and telling an unsubscribe."""

import pytest

from cloudsms.domain.replies import reply_from_jasmin, reply_from_kannel, unsubscribe_keyword


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("TD", "TD"),
        (" td ", "TD"),
        ("Td.", "TD"),
        ("ＴＤ", "TD"),  # full width, as a Chinese keyboard types it
        ("t", "T"),
        ("退订", "退订"),
        ("退订！", "退订"),
        ("退訂", "退訂"),  # traditional characters (Taiwan, Hong Kong)
        ("'Stop'", "STOP"),
        ("unsubscribe", "UNSUBSCRIBE"),
    ],
)
def test_an_unsubscribe_keyword_is_found_whatever_its_case_width_or_punctuation(text, keyword):
    assert unsubscribe_keyword(text) == keyword


@pytest.mark.parametrize("text", ["", "TDX", "T D", "STOP it", "please stop", "不要退订", "?"])
def test_anything_else_is_no_unsubscribe(text):
    assert unsubscribe_keyword(text) is None


def test_kannel_text_is_read_as_utf8_when_recoded():
    reply = reply_from_kannel(
        {"from": b"+639215347566", "text": "退订".encode(), "charset": b"UTF-8"}
    )

    assert (reply.sender, reply.text) == ("+639215347566", "退订")


@pytest.mark.parametrize(
    "coding",
    [{"charset": b"UTF-16BE", "coding": b"2"}, {"coding": b"2"}],
    ids=["charset", "coding"],
)
def test_kannel_ucs2_text_is_read_as_utf16be(coding):
    fields = {"from": b"8613800138000", "text": "退订".encode("utf-16-be"), **coding}

    assert reply_from_kannel(fields).text == "退订"


def test_jasmin_content_is_read_from_its_hex_binary_in_its_smpp_coding():
    content = "退订".encode("utf-16-be")
    fields = {"from": b"639215347566", "content": content, "binary": content.hex().encode()}

    assert reply_from_jasmin({**fields, "coding": b"8"}).text == "退订"


def test_jasmin_gsm_content_without_binary_is_read_as_it_came():
    assert reply_from_jasmin({"from": b"639215347566", "content": b"TD"}).text == "TD"


@pytest.mark.parametrize("read", [reply_from_kannel, reply_from_jasmin])
def test_a_reply_without_a_sender_is_unreadable(read):
    with pytest.raises(ValueError, match="no sender"):
        read({"text": b"TD", "content": b"TD"})
