import codecs
import datetime
import io
from typing import Any

import openpyxl
import pytest

from cloudsms.domain.content import added_length, renderer, variables
from cloudsms.domain.numberlist import (
    AbnormalRow,
    NumberList,
    NumberListError,
    Recipient,
    read_number_list,
)
from cloudsms.domain.numberlist_template import template_csv, template_xlsx
from cloudsms.domain.phone import Direction
from tests.unit import numberlist_corpus as corpus
from tests.unit.numberlist_corpus import GUIDE_CONTENT, GUIDE_ROWS

INTERNATIONAL = Direction.INTERNATIONAL
CHINA = Direction.MAINLAND_CHINA
HEADER = ["Phone Number", "Name", "website"]


def open_list(
    data: bytes,
    content: str = GUIDE_CONTENT,
    direction: Direction = INTERNATIONAL,
    **limits: int,
) -> NumberList:
    render = renderer(content, "CloudSMS", "start", direction, allow_unsubscribe=False)
    added = added_length(content, "CloudSMS", "start", direction, allow_unsubscribe=False)
    return read_number_list(
        data, variables(content), direction, render, added_length=added, **limits
    )


def read(data: bytes, content: str = GUIDE_CONTENT, direction: Direction = INTERNATIONAL) -> list:
    return list(open_list(data, content, direction))


def refusal(data: bytes, content: str = GUIDE_CONTENT, **limits: int) -> str:
    with pytest.raises(NumberListError) as refused:
        open_list(data, content, **limits)
    return refused.value.reason


def only(rows: list) -> Any:
    assert len(rows) == 1, rows
    return rows[0]


# The portal guide's example


def test_the_guide_example_renders_each_row_with_its_own_values() -> None:
    rows = read(corpus.guide_xlsx())

    assert [row.text for row in rows] == [
        "[CloudSMS] Hello Amy, your pin code is 123456, get more info via link: www.baidu.com",
        "[CloudSMS] Hello Bob, your pin code is 123456, get more info via link: www.sina.com.cn",
    ]


def test_the_guide_example_gives_recipients_with_row_numbers_numbers_and_values() -> None:
    first = read(corpus.guide_xlsx())[0]

    assert first == Recipient(
        row=2,
        phone="+639215347566",
        values={"Name": "Amy", "website": "www.baidu.com"},
        text=first.text,
        encoding="GSM-7",
        segments=1,
    )


def test_a_number_listed_twice_is_sent_twice() -> None:
    rows = read(corpus.guide_xlsx())

    assert [row.phone for row in rows] == ["+639215347566", "+639215347566"]


def test_a_value_outside_gsm_7_makes_that_recipients_message_ucs_2() -> None:
    data = corpus.xlsx([HEADER, ["+639215347566", "张三", "www.baidu.com"]])

    recipient = only(read(data))

    assert (recipient.encoding, recipient.segments) == ("UCS-2", 2)


def test_content_without_variables_sends_the_same_text_to_every_number() -> None:
    data = corpus.xlsx([["Phone Number"], ["+639215347566"], ["+639175550123"]])

    rows = read(data, content="Your pin code is 123456")

    assert [row.text for row in rows] == ["[CloudSMS] Your pin code is 123456"] * 2
    assert [row.values for row in rows] == [{}, {}]


def test_the_header_is_checked_before_the_rows_are_read() -> None:
    number_list = open_list(corpus.guide_xlsx())

    assert (number_list.format, number_list.header) == ("xlsx", HEADER)
    assert isinstance(next(number_list), Recipient)


# Files refused as a whole


def test_an_empty_file_is_refused() -> None:
    assert refusal(b"") == "the file is empty"


def test_a_file_of_blank_lines_is_refused_as_empty() -> None:
    assert refusal(b"\r\n ,, \r\n") == "the file is empty"


def test_an_empty_workbook_is_refused_as_empty() -> None:
    assert refusal(corpus.xlsx([])) == "the file is empty"


def test_a_file_over_1_mb_is_refused() -> None:
    data = corpus.oversize_csv(1_048_576)

    assert refusal(data, content="Hi") == (
        f"the file is larger than 1 MB (1,048,576 bytes): it has {len(data):,} bytes"
    )


def test_a_png_renamed_to_xlsx_is_refused_as_not_a_spreadsheet() -> None:
    assert refusal(corpus.png()).endswith("spreadsheet: it is a PNG image")


def test_a_pdf_is_refused_saying_what_it_is() -> None:
    assert refusal(b"%PDF-1.4\n1 0 obj<<>>endobj\n").endswith("it is a PDF document")


def test_a_web_page_saved_as_xls_is_refused_saying_what_it_is() -> None:
    page = b"<html><body><table><tr><td>Phone</td></tr></table></body></html>"
    assert "a web page" in refusal(page)


def test_a_csv_row_the_csv_module_cannot_read_refuses_the_file_by_row() -> None:
    data = ("Phone,Name\n+639215347566," + "x" * 200_000 + "\n").encode()
    # Said in words, not the csv module's "field larger than field limit (131072)".
    with pytest.raises(NumberListError) as refused:
        list(read_number_list(data, ["Name"], Direction.INTERNATIONAL, lambda v: v["Name"]))
    assert refused.value.reason == (
        'row 2 holds a value longer than 131,072 characters: a quote (") left open, or a cell'
        " far longer than a message (1,500 characters)"
    )


def test_a_quote_left_open_to_the_end_refuses_the_file_rather_than_merge_rows() -> None:
    data = b'Phone,Name\n+639215347566,Amy\n+639215347567,"Bob\n+639215347568,Cy\n'
    with pytest.raises(NumberListError, match=r"row 3 cannot be read: .* left open"):
        list(read_number_list(data, ["Name"], Direction.INTERNATIONAL, lambda v: v["Name"]))


def test_a_quote_closed_rows_later_refuses_the_file_rather_than_send_the_rows_as_text() -> None:
    data = b'Phone,Name\n+639215347566,"Amy\n+639215347568,Cy\n+639215347569,Dee"\n'
    with pytest.raises(
        NumberListError, match="row 2: the value in column B runs over lines that look like rows"
    ):
        list(read_number_list(data, ["Name"], Direction.INTERNATIONAL, lambda v: v["Name"]))


def test_a_quoted_csv_value_over_two_lines_is_read_as_one_value_as_in_excel() -> None:
    data = b'Phone,Name\r\n+639215347566,"Amy\nSmith"\r\n+639175550123,Bob\r\n'

    rows = read(data, content="Hello ${Name}")

    assert [(row.row, row.values) for row in rows] == [
        (2, {"Name": "Amy\nSmith"}),
        (3, {"Name": "Bob"}),
    ]


def test_a_windows_1252_csv_as_western_excel_saves_it_is_read() -> None:
    data = "Phone,Name\n+639215347566,Jos\xe9\n".encode("cp1252")
    [row] = list(read_number_list(data, ["Name"], Direction.INTERNATIONAL, lambda v: v["Name"]))
    assert row.values == {"Name": "José"}


def test_a_windows_1252_csv_with_accents_inside_words_is_read_as_written() -> None:
    # Read as GB18030, which decodes it too, it would say "J黵gen M黮ler".
    data = corpus.csv_file(
        [["Phone", "Name"], ["+4915112345678", "Jürgen Müller"], ["+34612345678", "Begoña Núñez"]],
        "cp1252",
    )

    rows = list(read_number_list(data, ["Name"], INTERNATIONAL, lambda v: v["Name"]))

    assert [row.values["Name"] for row in rows] == ["Jürgen Müller", "Begoña Núñez"]


def test_a_gb18030_csv_with_a_rare_character_in_a_name_is_read() -> None:
    data = corpus.csv_file(
        [["手机号码", "姓名"], ["13800138000", "朱镕基"], ["13800138001", "张三"]]
    )

    rows = read(data.decode().encode("gb18030"), content="${姓名}您好", direction=CHINA)

    assert [row.values for row in rows] == [{"姓名": "朱镕基"}, {"姓名": "张三"}]


def test_a_utf_8_csv_with_a_stray_byte_is_refused_naming_its_line() -> None:
    # Read whole as GB18030 it would say "Am茅lie"; as Windows-1252, "AmÃ©lie".
    data = "Phone,Name\r\n+33612345678,Amélie\r\n+33612345679,René\r\n".encode() + b"x\x92s\r\n"

    assert refusal(data, content="Hello ${Name}") == (
        'the file is not UTF-8 text: line 4 holds the byte 0x92. Save it as "CSV UTF-8" and '
        "upload it again"
    )


def test_a_csv_with_a_utf_8_byte_order_mark_and_a_stray_byte_is_refused_naming_its_line() -> None:
    data = (
        codecs.BOM_UTF8 + "Phone,Name\n+33612345678,Amélie\n".encode() + b"+33612345679,Ren\xe9\n"
    )

    assert refusal(data, content="Hello ${Name}").startswith(
        "the file is not UTF-8 text: line 3 holds the byte 0xE9."
    )


def test_a_csv_in_another_code_page_is_refused_rather_than_read_as_mojibake() -> None:
    # Polish Windows saves Windows-1250: read as Windows-1252 it would say "Wa³êsa".
    data = "Phone,Name\r\n+48612345678,Lech Wałęsa\r\n".encode("cp1250")

    assert refusal(data, content="Hello ${Name}").startswith("the file is not UTF-8 text: line 2")


def test_a_zip_without_a_workbook_is_refused_as_not_a_spreadsheet() -> None:
    assert refusal(corpus.zip_without_workbook()) == "the file is not an .xlsx or .csv spreadsheet"


def test_a_password_protected_workbook_is_refused_as_encrypted() -> None:
    assert refusal(corpus.encrypted_xlsx()) == (
        "the file is encrypted (password protected); save it without a password"
    )


def test_a_workbook_zipped_with_a_password_is_refused_as_encrypted() -> None:
    assert refusal(corpus.zip_encrypted_xlsx()) == (
        "the file is encrypted (password protected); save it without a password"
    )


def test_an_excel_97_2003_workbook_is_refused_with_how_to_fix_it() -> None:
    assert refusal(corpus.xls()) == "the file is an Excel 97-2003 workbook (.xls); save it as .xlsx"


def test_a_zip_bomb_over_the_expanded_size_limit_is_refused() -> None:
    reason = refusal(corpus.zip_bomb(80 * 1_048_576))

    assert reason == "the spreadsheet expands to 83,886,099 bytes, more than 67,108,864 (zip bomb?)"


def test_a_zip_bomb_under_the_size_limit_is_refused_for_its_compression_ratio() -> None:
    reason = refusal(corpus.zip_bomb(20 * 1_048_576))

    assert reason.startswith("the spreadsheet expands 1,0")
    assert reason.endswith("times, more than 100 (zip bomb?)")


def test_a_zip_that_lies_about_its_sizes_is_refused_as_damaged() -> None:
    assert refusal(corpus.lying_zip()) == "the .xlsx file is damaged and cannot be read"


def test_a_truncated_xlsx_is_refused_as_damaged() -> None:
    data = corpus.guide_xlsx()

    assert refusal(data[: len(data) // 2]) == "the .xlsx file is damaged and cannot be read"


def test_a_stray_value_in_the_last_cell_of_the_sheet_refuses_the_file_naming_it() -> None:
    # Read, its used range would be the whole sheet: python-calamine would ask for 512 GB
    # and abort the process.
    assert refusal(corpus.stray_far_cell_xlsx(), content="Hello ${Name}") == (
        "sheet 'Sheet' has a cell in XFD1048576, far outside the list: "
        "delete the cells outside your list"
    )


def test_a_note_far_right_of_the_list_refuses_the_file_naming_its_cell() -> None:
    cells = {"A1": "Phone Number", "B1": "Name", "XFD1": "note"}
    for row in range(2, 300):
        cells |= {f"A{row}": "+639215347566", f"B{row}": "Amy"}

    assert refusal(corpus.xlsx_at(cells), content="Hello ${Name}").startswith(
        "sheet 'Sheet' has a cell in XFD1, far outside the list"
    )


def test_a_far_cell_written_without_its_reference_is_found_where_a_reader_puts_it() -> None:
    # Cells without a reference follow the one before them in their row.
    def text(value: str) -> str:
        return f'<c t="inlineStr"><is><t>{value}</t></is></c>'

    data = corpus.sheet_xml_xlsx(
        f'<row r="1">{text("Phone Number")}{text("Name")}{text("website")}{text("note")}</row>'
        f'<row r="1048576">{text("a")}{text("b")}{text("c")}{text("d")}</row>'
    )

    assert refusal(data).startswith("sheet 'Sheet1' has a cell in A1048576, far outside")


def test_a_far_cell_with_a_namespace_prefix_is_found() -> None:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    data = corpus.sheet_xml_xlsx(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Phone Number</t></is></c></row>'
        f'<x:row xmlns:x="{main}" r="1048576"><x:c r="XFD1048576"><x:v>1</x:v></x:c></x:row>'
    )

    assert "has a cell in XFD1048576, far outside the list" in refusal(data)


def test_a_list_with_columns_past_z_is_read() -> None:
    header = ["Phone Number", "Name", "website", *[f"Field {i}" for i in range(30)]]
    data = corpus.xlsx([header, ["+639215347566", "Amy", "x.com", *["v"] * 30]])

    assert only(read(data)).values == {"Name": "Amy", "website": "x.com"}


def test_a_list_with_only_a_header_is_refused_for_having_no_data_rows() -> None:
    assert refusal(corpus.xlsx([HEADER, [None, None, None]])) == "the file has no data rows"


def test_a_workbook_starting_with_a_number_is_refused_for_having_no_header() -> None:
    data = corpus.xlsx([[639215347566.0, "Amy", "www.baidu.com"]])

    assert refusal(data).startswith("the file has no header row: the first row holds a phone")


def test_a_csv_starting_with_a_number_is_refused_for_having_no_header() -> None:
    data = corpus.csv_file([["+63 921 534 7566", "Amy", "x"], ["+639175550123", "Bob", "y"]])

    assert refusal(data).startswith("the file has no header row")


def test_columns_that_neither_name_nor_count_the_variables_are_refused() -> None:
    data = corpus.xlsx([["Phone Number", "Customer"], ["+639215347566", "Amy"]])

    assert refusal(data) == (
        "the file has 2 columns but the content has 2 variables: expected 3 "
        "(the phone number, Name, website), or headers naming the variables"
    )


def test_extra_unnamed_columns_without_variables_in_the_content_are_refused() -> None:
    data = corpus.xlsx([["Phone Number", "Note"], ["+639215347566", "vip"]])

    assert refusal(data, content="Hi").startswith("the file has 2 columns but the content has 0")


def test_a_header_naming_a_variable_twice_is_refused() -> None:
    data = corpus.xlsx([["Phone", "Name", "website", "name"], ["+639215347566", "A", "w", "B"]])

    assert refusal(data) == "the header names the column 'Name' twice"


# Encodings and formats


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_csv_with_chinese_values_is_read_in_each_encoding(encoding: str) -> None:
    data = corpus.csv_file([HEADER, ["+639215347566", "张三", "www.baidu.com"]], encoding)

    assert only(read(data)).values == {"Name": "张三", "website": "www.baidu.com"}


def test_excel_unicode_text_is_read_as_tab_separated_utf_16() -> None:
    data = corpus.csv_file([HEADER, ["+639215347566", "李四", "www.sina.com.cn"]], "utf-16", "\t")

    assert only(read(data)).values == {"Name": "李四", "website": "www.sina.com.cn"}


def test_big_endian_utf_16_is_read() -> None:
    data = corpus.utf16_be_csv([HEADER, ["+639215347566", "李四", "www.sina.com.cn"]])

    assert only(read(data)).phone == "+639215347566"


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_csv_separated_by_semicolons_or_tabs_is_read(delimiter: str) -> None:
    data = corpus.csv_file([HEADER, ["+639215347566", "Amy", "a,b"]], delimiter=delimiter)

    assert only(read(data)).values == {"Name": "Amy", "website": "a,b"}


def test_a_csv_starting_with_excels_sep_line_is_read_with_the_delimiter_it_names() -> None:
    data = b"sep=;\r\nPhone;Name\r\n+639215347566;Smith, Amy\r\n"

    recipient = only(read(data, content="Hello ${Name}"))

    assert (recipient.row, recipient.values) == (2, {"Name": "Smith, Amy"})


def test_a_csv_is_recognised_from_its_bytes_whatever_the_name() -> None:
    assert open_list(corpus.csv_file(GUIDE_ROWS)).format == "csv"


def test_numbers_in_general_cells_are_read_from_excel_floats() -> None:
    data = corpus.xlsx([HEADER, [639215347566.0, "Amy", "x"], [639175550123, "Bob", "y"]])

    assert [row.phone for row in read(data)] == ["+639215347566", "+639175550123"]


def test_a_number_in_full_scientific_notation_is_read() -> None:
    data = corpus.csv_file([HEADER, ["6.39215347566E+11", "Amy", "x"]])

    assert only(read(data)).phone == "+639215347566"


def test_a_number_that_lost_digits_to_scientific_notation_is_abnormal() -> None:
    data = corpus.csv_file([HEADER, ["6.39215E+11", "Amy", "x"]])

    assert only(read(data)) == AbnormalRow(
        2,
        "6.39215E+11",
        "the number 6.39215E+11 lost its last digits to Excel's scientific notation; "
        "format the column as text and type the numbers again",
    )


def test_numeric_and_date_values_are_written_as_excel_shows_them() -> None:
    data = corpus.xlsx([HEADER, ["+639215347566", 100.0, datetime.date(2024, 5, 1)]])

    assert only(read(data)).values == {"Name": "100", "website": "2024-05-01"}


def test_a_number_past_15_digits_is_written_with_excels_15_significant_digits() -> None:
    # The float's own digits would be 123456789012344992: digits nobody typed.
    data = corpus.xlsx([HEADER, ["+639215347566", 1.23456789012345e17, 1234567890123456.0]])

    assert only(read(data)).values == {"Name": "123456789012345000", "website": "1234567890123460"}


def test_the_first_visible_sheet_is_read() -> None:
    data = corpus.xlsx(GUIDE_ROWS, hidden_first_sheet=True)

    assert len(read(data)) == 2


def test_a_list_below_blank_rows_keeps_its_spreadsheet_row_numbers() -> None:
    data = corpus.xlsx_at(
        {"B3": "Phone", "C3": "Name", "D3": "website", "B5": "+639215347566", "D5": "x"}
    )

    assert only(read(data)) == AbnormalRow(5, "+639215347566", "column C ('Name') is empty")


def test_blank_rows_are_skipped_but_counted() -> None:
    data = corpus.csv_file([HEADER, [], ["", "", ""], ["+639215347566", "Amy", "x"]])

    assert only(read(data)).row == 4


# Matching the variable columns


def test_columns_are_matched_by_header_name_in_any_order() -> None:
    data = corpus.xlsx([["Phone", "website", "Name"], ["+639215347566", "x.com", "Amy"]])

    number_list = open_list(data)

    assert number_list.by_name
    assert only(list(number_list)).values == {"Name": "Amy", "website": "x.com"}


def test_header_names_match_ignoring_case_and_spaces() -> None:
    data = corpus.xlsx([["Phone", " NAME ", "WebSite"], ["+639215347566", "Amy", "x.com"]])

    assert only(read(data)).values == {"Name": "Amy", "website": "x.com"}


def test_extra_columns_are_ignored_when_the_headers_name_the_variables() -> None:
    data = corpus.xlsx(
        [["Phone", "Name", "City", "website"], ["+639215347566", "Amy", "Manila", "x.com"]]
    )

    assert only(read(data)).values == {"Name": "Amy", "website": "x.com"}


def test_columns_are_matched_by_position_when_the_headers_do_not_name_the_variables() -> None:
    data = corpus.xlsx([["Mobile", "Customer", "Link"], ["+639215347566", "Amy", "x.com"]])

    number_list = open_list(data)

    assert not number_list.by_name
    assert only(list(number_list)).values == {"Name": "Amy", "website": "x.com"}


def test_a_header_naming_a_variable_in_another_variables_column_is_refused() -> None:
    # By position, column C (headed Name) would fill ${website}.
    data = corpus.xlsx([["Phone Number", "site", "Name"], ["+639215347596", "www.x.com", "Amy"]])

    assert refusal(data, content="Hello ${Name}, see ${website}") == (
        "the header names Name but not website (columns: Phone Number, site, Name); name "
        "each variable's column, or leave the header without variable names to match by "
        "position"
    )


def test_a_variable_named_in_another_case_in_another_variables_column_is_refused() -> None:
    data = corpus.xlsx([["Phone", " WEBSITE ", "Customer"], ["+639215347566", "x.com", "Amy"]])

    assert refusal(data).startswith(
        "the header names website but not Name (columns: Phone, WEBSITE, Customer)"
    )


def test_a_header_naming_a_variable_in_its_own_position_is_matched_by_position() -> None:
    data = corpus.xlsx([["Phone", "Name", "Link"], ["+639215347566", "Amy", "x.com"]])

    number_list = open_list(data)

    assert not number_list.by_name
    assert only(list(number_list)).values == {"Name": "Amy", "website": "x.com"}


def test_values_are_trimmed_of_surrounding_spaces() -> None:
    data = corpus.xlsx([HEADER, [" +639215347566 ", "  Amy ", "x.com\t"]])

    assert only(read(data)).values == {"Name": "Amy", "website": "x.com"}


# Abnormal rows


def test_an_invalid_number_is_abnormal_with_its_reason() -> None:
    data = corpus.xlsx([HEADER, ["12345", "Amy", "x"]])

    assert only(read(data)) == AbnormalRow(2, "12345", "not a valid phone number")


def test_a_value_holding_a_control_character_is_abnormal_naming_it() -> None:
    # A control character pasted into a cell would go to the phone, or cut the text short
    # at the gateway. (Near a CSV's start it makes the file read as binary, and refused.)
    good = [["+639215347566", f"Name {i}", "x.com"] for i in range(200)]
    data = corpus.csv_file([HEADER, *good, ["+639215347566", "Amy\x07", "x.com"]])

    abnormal = [row for row in read(data) if isinstance(row, AbnormalRow)]

    assert abnormal == [
        AbnormalRow(
            202,
            "+639215347566",
            "the Name value holds the control character U+0007, which a phone cannot show",
        )
    ]


def test_an_abnormal_float_number_is_shown_as_the_digits_excel_shows() -> None:
    data = corpus.xlsx([HEADER, [12345.0, "Amy", "x"]])

    assert only(read(data)).raw == "12345"


def test_a_mainland_china_number_in_an_international_mission_is_abnormal() -> None:
    data = corpus.xlsx([HEADER, ["+8613800138000", "Amy", "x"]])

    assert only(read(data)).reason == "international missions cannot send to +86 numbers"


def test_a_mainland_china_mobile_without_86_in_an_international_mission_is_abnormal() -> None:
    data = corpus.xlsx([HEADER, ["15512345678", "Amy", "x"], [17185551234.0, "Bob", "y"]])

    assert [(row.row, row.reason) for row in read(data)] == [
        (
            2,
            "ambiguous: a Mainland China mobile without +86, or +15512345678: write the "
            "country code with +",
        ),
        (
            3,
            "ambiguous: a Mainland China mobile without +86, or +17185551234: write the "
            "country code with +",
        ),
    ]


def test_a_foreign_number_in_a_mainland_china_mission_is_abnormal() -> None:
    data = corpus.xlsx([HEADER, ["+639215347566", "Amy", "x"]])

    assert only(read(data, direction=CHINA)).reason == (
        "Mainland China missions accept only +86 mobile numbers"
    )


def test_a_mainland_china_mission_takes_national_numbers_and_chinese_signatures() -> None:
    data = corpus.xlsx([["手机号码", "姓名"], [13800138000.0, "张三"]])

    recipient = only(read(data, content="${姓名}您好", direction=CHINA))

    assert (recipient.phone, recipient.text) == ("+8613800138000", "【CloudSMS】张三您好")


def test_an_empty_number_with_values_is_abnormal() -> None:
    data = corpus.xlsx([HEADER, [None, "Amy", "x"]])

    assert only(read(data)) == AbnormalRow(2, "", "the phone number is empty")


def test_an_empty_variable_cell_is_abnormal_naming_its_column() -> None:
    data = corpus.xlsx([HEADER, ["+639215347566", "  ", "x"]])

    assert only(read(data)) == AbnormalRow(2, "+639215347566", "column B ('Name') is empty")


def test_a_csv_row_ending_in_an_empty_cell_names_that_column_not_too_few_columns() -> None:
    data = b"Phone,Name,website\n+639215347566,Amy,\n"

    assert only(read(data)).reason == "column C ('website') is empty"


def test_a_row_with_fewer_columns_than_the_header_is_abnormal() -> None:
    data = corpus.csv_file([HEADER, ["+639215347566", "Amy"]])

    assert only(read(data)).reason == "too few columns: the row has 2, the header has 3"


def test_a_row_with_more_columns_than_the_header_is_abnormal() -> None:
    data = corpus.xlsx([HEADER, ["+639215347566", "Amy", "x", "surplus"]])

    assert only(read(data)).reason == "too many columns: the row has 4, the header has 3"


def test_a_content_longer_than_1500_characters_with_its_values_is_abnormal() -> None:
    data = corpus.xlsx([HEADER, ["+639215347566", "A" * 1450, "x"]])

    # 1,508 with the values; the signature's 11 ("[CloudSMS] ") are not counted.
    assert only(read(data)).reason == (
        "the content is longer than 1500 characters (1,508) with this row's values"
    )


def test_the_signature_does_not_count_against_the_1500_characters_of_the_content() -> None:
    # As for a content without variables, and for the text of POST /v1/sms
    content = "A" * 1490 + " ${Name}"
    data = corpus.xlsx([["Phone Number", "Name"], ["+639215347566", "Amy"]])

    sent = only(read(data, content))

    assert sent.text == "[CloudSMS] " + "A" * 1490 + " Amy"


def test_good_and_abnormal_rows_come_in_file_order() -> None:
    data = corpus.xlsx([HEADER, ["+639215347566", "Amy", "x"], ["bad", "Bob", "y"]])

    assert [type(row) for row in read(data)] == [Recipient, AbnormalRow]


# The downloadable template


def test_the_xlsx_templates_example_row_left_in_is_abnormal_not_sent() -> None:
    # Sent, it would say "Hello Name, ... link: website" to the guide's number.
    data = template_xlsx(variables(GUIDE_CONTENT))

    assert only(read(data)) == AbnormalRow(
        2,
        "+639215347566",
        "the template's example row (+639215347566 and the variables' names): delete it",
    )


def test_the_example_number_with_values_of_its_own_is_sent() -> None:
    data = corpus.xlsx([HEADER, ["+639215347566", "Name", "www.baidu.com"]])

    assert only(read(data)).values == {"Name": "Name", "website": "www.baidu.com"}


def test_the_template_of_a_content_without_variables_has_no_example_row() -> None:
    # Its example row would be the number alone, which nothing tells from a row to send.
    assert template_csv([]).decode("utf-8-sig").splitlines() == ["Phone Number"]
    sheet = openpyxl.load_workbook(io.BytesIO(template_xlsx([]))).active
    assert sheet is not None
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [["Phone Number"]]


def test_the_xlsx_template_formats_its_columns_as_text() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(template_xlsx(["Name"]))).active
    assert sheet is not None

    assert [cell.value for cell in sheet[1]] == ["Phone Number", "Name"]
    assert sheet.column_dimensions["A"].number_format == "@"
    assert sheet.column_dimensions["B"].number_format == "@"


def test_the_csv_template_starts_with_a_byte_order_mark_for_excel() -> None:
    data = template_csv(["姓名"])

    assert data.startswith(codecs.BOM_UTF8)
    assert data.decode("utf-8-sig").splitlines() == ["Phone Number,姓名", "+639215347566,姓名"]


def test_the_csv_templates_example_row_left_in_is_abnormal_not_sent() -> None:
    rows = read(template_csv(["Name", "website"]) + b"+639175550123,Amy,x.com\r\n")

    assert [(type(row), row.row) for row in rows] == [(AbnormalRow, 2), (Recipient, 3)]
