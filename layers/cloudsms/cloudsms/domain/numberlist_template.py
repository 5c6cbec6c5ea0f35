"""The portal's downloadable "Data Import Template" for a content's variables.

The header is "Phone Number" and then the variables in the order they appear in the
content, which is exactly what `numberlist.read_number_list` reads by name or position.
One example row shows the expected form of a number, with "+" and its country code, and
the variables' names as values; the reader takes that row, left in, as abnormal rather
than send "Hello Name". A content without variables gets no example row: nothing would
tell it from a row meant to be sent to that number.
"""

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from cloudsms.domain.numberlist import EXAMPLE_NUMBER

PHONE_HEADER = "Phone Number"
TEXT = "@"


def template_xlsx(variables: list[str]) -> bytes:
    """An .xlsx whose columns are formatted as text, so leading zeros and "+" survive.

    A number typed into a "general" cell becomes a number: it loses its leading zeros
    and, past 15 digits, its last digits, and shows as 6.39215E+11.
    """
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = "Number List"
    header = [PHONE_HEADER, *variables]
    sheet.append(header)
    if variables:
        sheet.append([EXAMPLE_NUMBER, *variables])
    for column, name in enumerate(header, start=1):
        letter = sheet.cell(row=1, column=column).column_letter
        # The column's format is what Excel gives the cells people type in later.
        sheet.column_dimensions[letter].number_format = TEXT
        sheet.column_dimensions[letter].width = max(16, len(name) + 4)
        sheet.cell(row=1, column=column).font = Font(bold=True)
        for row in sheet.iter_rows(min_col=column, max_col=column):
            row[0].number_format = TEXT
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_csv(variables: list[str]) -> bytes:
    """A CSV in UTF-8 with a byte order mark, without which Excel reads it as ANSI."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([PHONE_HEADER, *variables])
    if variables:
        writer.writerow([EXAMPLE_NUMBER, *variables])
    return buffer.getvalue().encode("utf-8-sig")
