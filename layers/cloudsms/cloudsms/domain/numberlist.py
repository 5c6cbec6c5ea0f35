"""Reading a tenant's number list: an .xlsx or .csv file into recipients and abnormal rows.

The file is refused as a whole (`NumberListError`) when it cannot be read as a number
list at all. Otherwise every non-empty data row becomes either a `Recipient` or an
`AbnormalRow` with its spreadsheet row number (the header is row 1 in a file that starts
at the top) and the reason, as the portal's "Abnormal Data" tab shows them.

Decisions a tenant will notice:
- The format is read from the bytes, never the file name: a renamed file gets the reason
  for what it really is.
- The first column is the phone number whatever its header says. The other columns are
  matched to the content's variables by header name (ignoring case and surrounding
  spaces) when the headers name every variable; extra columns are then ignored, so a CRM
  export works. Otherwise they are matched by position in the order the variables first
  appear in the content, as the portal guide asks, and the file must have exactly one
  column per variable after the phone number; a header naming a variable in another
  variable's position is refused rather than fill it from the wrong column.
- Values are trimmed of surrounding spaces, which spreadsheets carry unseen; a variable
  whose cell is empty makes the row abnormal rather than sending "Hello ,".
- A number listed twice is sent twice: the portal's own example lists one number twice
  with different values, so a repeat is taken as intended.
- Fully empty rows are skipped silently; they count for the row numbers of those after.
"""

import codecs
import csv
import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any
from xml.etree import ElementTree

import python_calamine

from cloudsms.domain import phone
from cloudsms.domain.content import CONTENT_MAX, unshowable
from cloudsms.domain.phone import Direction, InvalidNumber
from cloudsms.domain.text import analyse

MAX_BYTES = 1_048_576  # the portal's "not larger than 1M"
# A real 1 MB workbook expands about 10-20 times; these leave room and stop zip bombs.
MAX_EXPANDED_BYTES = 64 * 1_048_576
MAX_COMPRESSION_RATIO = 100
# python-calamine holds a sheet as the whole grid of its used range, empty cells included,
# 32 bytes a cell: one stray value in XFD1048576 asks for 512 GB and aborts the process. A
# list of 100,000 rows and a few columns uses well under a million.
MAX_SHEET_CELLS = 4_000_000  # 128 MB as calamine holds them

# The number in the example row of the downloadable template (see numberlist_template).
EXAMPLE_NUMBER = "+639215347566"

NOT_A_SPREADSHEET = "the file is not an .xlsx or .csv spreadsheet"
ENCRYPTED = "the file is encrypted (password protected); save it without a password"
OLD_XLS = "the file is an Excel 97-2003 workbook (.xls); save it as .xlsx"
EMPTY = "the file is empty"
NO_DATA_ROWS = "the file has no data rows"
DAMAGED = "the .xlsx file is damaged and cannot be read"
TEMPLATE_EXAMPLE = (
    f"the template's example row ({EXAMPLE_NUMBER} and the variables' names): delete it"
)

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File Binary: .xls, encrypted .xlsx
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_ZIP_ENCRYPTED = 0x1  # a zip member's flag: encrypted with a password
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELATIONS = "xl/_rels/workbook.xml.rels"
# Names are UTF-16LE in a compound file's directory.
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_XLS_STREAMS = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))
_DELIMITERS = ",;\t"
_SEPARATOR_LINE = re.compile(r"sep=([^\r\n\"])(?:\r\n|\r|\n)")
# What a first cell of a number list's header is not: a phone number.
_PHONE_LIKE = re.compile(r"[+＋]?[\d\s().-]{6,}")
# Excel writes a long number cell as "6.39215E+11" into a CSV: its last digits are gone.
_SCIENTIFIC = re.compile(r"\d(?:\.(\d*))?[eE]\+?(\d+)")
# Control characters never found in a text file someone saved from a spreadsheet.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII = bytes(range(128))
_UTF8_CHARACTER = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
# What Western European text in Windows-1252 does not hold: a character other than ASCII,
# the letters of its languages and common punctuation. Ð ð Ý ý Þ þ Ÿ are left out: they
# are rare in these languages, and where Turkish, Baltic or Polish letters land.
_NOT_WESTERN = re.compile("[^\x00-\x7f\xa0’‘“”–—…€£«»°·ªº´®©™À-ÏÑ-ÖØ-Üßà-ïñ-öø-üÿŠšŒœŽž]")
_THREE_BEYOND_ASCII = re.compile("[^\x00-\x7f]{3}")
_INSIDE_A_LATIN_WORD = re.compile("(?<=[A-Za-z])[^\x00-\x7f](?=[A-Za-z])")
# A cell as Excel and most programs write one, `<c r="B2" ...>`, in columns A to Z and rows
# below 150,000: a sheet of only such cells spans at most 26 x 150,000, under
# MAX_SHEET_CELLS, and is not read further. These find any other cell (further out,
# written another way, or with its namespace's prefix).
_UNUSUAL_CELL = re.compile(rb'<c(?=[\s/>])(?! r="[A-Z](?:\d{1,5}|1[0-4]\d{4})")')
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
_CUT = 32  # longer than what the two patterns look at
# Rows and cells as python-calamine reads them, whatever their namespace prefix.
_ROW_OR_CELL = re.compile(rb"<(/?)(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*)>")
_REFERENCE = re.compile(rb'(?:^|\s)r\s*=\s*["\']([A-Za-z]*)(\d+)["\']')

Row = Sequence[Any]


class NumberListError(ValueError):
    """The file is refused as a whole; `reason` says why, for the person who uploaded it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Recipient:
    row: int
    phone: str  # E.164
    values: dict[str, str]  # variable name -> value
    text: str  # the rendered message
    encoding: str
    segments: int


@dataclass(slots=True)
class AbnormalRow:
    row: int
    raw: str  # the phone number cell as the tenant wrote it
    reason: str


class NumberList:
    """The rows of a number list, read one at a time as they are iterated.

    Created by `read_number_list`, which has already refused a file that cannot be read.
    `by_name` tells whether the variable columns were matched by header name.
    """

    def __init__(
        self,
        file_format: str,
        header: list[str],
        by_name: bool,
        rows: Iterator[Recipient | AbnormalRow],
    ) -> None:
        self.format = file_format  # "xlsx" or "csv"
        self.header = header
        self.by_name = by_name
        self._rows = rows

    def __iter__(self) -> Iterator[Recipient | AbnormalRow]:
        return self

    def __next__(self) -> Recipient | AbnormalRow:
        return next(self._rows)


def read_number_list(
    data: bytes,
    content_variables: list[str],
    direction: Direction,
    render: Callable[[dict[str, str]], str],
    *,
    added_length: int = 0,
    countries: Collection[str] | None = None,
    max_bytes: int = MAX_BYTES,
    max_expanded_bytes: int = MAX_EXPANDED_BYTES,
) -> NumberList:
    """Open a number list, refusing it with `NumberListError` if it cannot be used.

    The header is checked here; data rows are read, validated and rendered lazily as the
    result is iterated (held whole only against a long blacklist: blacklist.checked).
    `render` turns one row's values into the message (see `content.renderer`), adding
    `added_length` characters to the content (`content.added_length`): the content with
    a row's values may have CONTENT_MAX characters besides them, as one without
    variables may. A number outside `countries` (the tenant's; none: every country) is
    an abnormal row.
    """
    file_format, first, numbered, first_column = _opened(data, max_bytes, max_expanded_bytes)
    header_row, header_cells = first
    header = _header(header_cells)
    by_name, columns = _variable_columns(header, content_variables)

    first_data = next(numbered, None)
    if first_data is None:
        raise NumberListError(NO_DATA_ROWS)
    reader = _RowReader(header, first_column, columns, direction, render, added_length, countries)
    data_rows = _chain(first_data, numbered)
    return NumberList(file_format, header, by_name, (reader.read(n, r) for n, r in data_rows))


def _opened(
    data: bytes, max_bytes: int, max_expanded_bytes: int
) -> tuple[str, tuple[int, Row], Iterator[tuple[int, Row]], int]:
    """The file's format, its first non-empty row (the header), the rows after it, and the
    index of the sheet's first used column."""
    if not data:
        raise NumberListError(EMPTY)
    if len(data) > max_bytes:
        raise NumberListError(
            f"the file is larger than {_size(max_bytes)}: it has {len(data):,} bytes"
        )

    if data.startswith(_ZIP):
        file_format, (rows, first_column) = "xlsx", _xlsx_rows(data, max_expanded_bytes)
    elif data.startswith(_OLE2):
        raise NumberListError(_ole2_reason(data))
    else:
        file_format, rows, first_column = "csv", _csv_rows(data), 0

    numbered = _non_empty(rows)
    first = next(numbered, None)
    if first is None:
        raise NumberListError(EMPTY)
    return file_format, first, numbered, first_column


def read_phone_numbers(
    data: bytes, *, max_bytes: int = MAX_BYTES, max_expanded_bytes: int = MAX_EXPANDED_BYTES
) -> Iterator[str | AbnormalRow]:
    """The phone numbers in the first column of a list, after its header row, whatever
    other columns it has: each as E.164, or as an abnormal row with its reason. A blacklist
    import reads a mission's number list this way."""
    _, (_, first), numbered, _ = _opened(data, max_bytes, max_expanded_bytes)
    header = _header(first)  # a list without one would lose its first number to it
    for number, row in numbered:
        raw = row[0] if row else ""
        try:
            e164 = phone.normalise_listed(raw.strip() if type(raw) is str else raw)
        except InvalidNumber as invalid:
            empty = invalid.reason == phone.EMPTY
            reason = "the phone number is empty" if empty else invalid.reason
            yield AbnormalRow(number, _text(raw), reason)
            continue
        # A mission's list made from the template may still hold its example row, which
        # a mission refuses; listed, it would block sending to that number.
        if e164 == EXAMPLE_NUMBER and _names_its_columns(row, header):
            yield AbnormalRow(number, _text(raw), TEMPLATE_EXAMPLE)
        else:
            yield e164


def _names_its_columns(row: Row, header: list[str]) -> bool:
    """Whether a row's cells after the number are its header's names, as the template's
    example row has them."""
    values = [_text(cell).strip() for cell in row[1 : _width(row)]]
    return bool(values) and values == header[1:]


class _RowReader:
    """Turns one data row into a recipient or an abnormal row.

    Everything that does not depend on the row is prepared here: this runs 100,000
    times for a large list.
    """

    def __init__(
        self,
        header: list[str],
        first_column: int,
        columns: list[tuple[str, int]],
        direction: Direction,
        render: Callable[[dict[str, str]], str],
        added_length: int,
        countries: Collection[str] | None = None,
    ) -> None:
        self.width = len(header)
        self.columns = columns
        self.labels = {
            name: f"column {_column_letter(first_column + index)} ('{header[index] or name}') "
            "is empty"
            for name, index in columns
        }
        self.direction = direction
        self.countries = countries
        self.render = render
        self.added_length = added_length
        # Without variables every message is the same: render and measure it once.
        self.fixed = self._measure(render({})) if not columns else None

    def read(self, number: int, row: Row) -> Recipient | AbnormalRow:
        width = _width(row)
        if width > self.width:
            return AbnormalRow(
                number,
                _text(row[0]),
                f"too many columns: the row has {width}, the header has {self.width}",
            )

        raw = row[0]
        if type(raw) is str:
            raw = raw.strip()
            if "e" in raw or "E" in raw:
                shortened = _shortened(raw)
                if shortened:
                    return AbnormalRow(number, raw, shortened)
        try:
            e164 = phone.normalise(raw, self.direction)
        except InvalidNumber as invalid:
            reason = invalid.reason
            if reason == phone.EMPTY:
                reason = "the phone number is empty"
            return AbnormalRow(number, _text(row[0]), reason)
        not_allowed = phone.not_allowed(e164, self.countries)
        if not_allowed:
            return AbnormalRow(number, _text(row[0]), not_allowed)

        values = {}
        for name, index in self.columns:
            cell = row[index] if index < len(row) else ""
            value = (cell if type(cell) is str else _text(cell)).strip()
            if not value:
                reason = self.labels[name]
                # Only a row that ends early has too few columns; "+63…," has its column,
                # empty, and the label says which.
                if len(row) < self.width:
                    reason = f"too few columns: the row has {len(row)}, the header has {self.width}"
                return AbnormalRow(number, _text(row[0]), reason)
            values[name] = value
        # Left in, the template's example row would send "Hello Name", and be charged.
        if e164 == EXAMPLE_NUMBER and values and all(k == v for k, v in values.items()):
            return AbnormalRow(number, _text(row[0]), TEMPLATE_EXAMPLE)

        if self.fixed is not None:
            text, encoding, segments = self.fixed
        else:
            text = self.render(values)
            # The content holds no control character (it was checked), so one in the text
            # came from a value. isprintable() is the quick look; the regex decides.
            if not text.isprintable() and unshowable(text):
                return _unshowable_value(number, _text(row[0]), values)
            length = len(text) - self.added_length  # the content with the values
            if length > CONTENT_MAX:
                return AbnormalRow(
                    number,
                    _text(row[0]),
                    f"the content is longer than {CONTENT_MAX} characters ({length:,}) "
                    "with this row's values",
                )
            text, encoding, segments = self._measure(text)
        return Recipient(number, e164, values, text, encoding, segments)

    @staticmethod
    def _measure(text: str) -> tuple[str, str, int]:
        info = analyse(text)
        return text, info.encoding, info.segments


def _xlsx_rows(data: bytes, max_expanded_bytes: int) -> tuple[Iterator[Row], int]:
    """The first sheet's rows, and the index of the first column in use (0 for A)."""
    _check_zip(data, max_expanded_bytes)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(_first_visible_sheet(workbook))
    except python_calamine.CalamineError:
        raise NumberListError(DAMAGED) from None
    # Rows come from row 1 of the sheet (blank ones included) and columns from the first
    # column in use, so a row's position is its spreadsheet row number.
    return sheet.iter_rows(), (sheet.start or (0, 0))[1]  # None: an empty sheet


def _check_zip(data: bytes, max_expanded_bytes: int) -> None:
    """Refuse what is not a workbook, a zip bomb before anything expands it, and a sheet
    whose used range python-calamine could not hold."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if _WORKBOOK not in archive.namelist():
                raise NumberListError(NOT_A_SPREADSHEET)
            expanded = sum(member.file_size for member in members)
            compressed = sum(member.compress_size for member in members) or 1
            if expanded > max_expanded_bytes:
                raise NumberListError(
                    f"the spreadsheet expands to {expanded:,} bytes, more than "
                    f"{max_expanded_bytes:,} (zip bomb?)"
                )
            ratio = expanded / compressed
            if expanded > 1_048_576 and ratio > MAX_COMPRESSION_RATIO:
                raise NumberListError(
                    f"the spreadsheet expands {ratio:,.0f} times, more than "
                    f"{MAX_COMPRESSION_RATIO} (zip bomb?)"
                )
            for member in members:
                if member.flag_bits & _ZIP_ENCRYPTED:
                    raise NumberListError(ENCRYPTED)  # zipfile could not open it
                # Sizes in the zip directory are only claims. Reading a member expands it,
                # stopping at its claimed size and checking its CRC, so a file that lies
                # about its sizes is found here. Looking for unusual cells on the way costs
                # a little more than expanding does (100,000 rows: 36 ms, and 48 more).
                # Every sheet is measured, not only the one python-calamine reads later.
                with archive.open(member) as stream:
                    unusual = _has_unusual_cells(stream)
                far = _far_cell(archive.read(member)) if unusual else None
                if far:
                    raise NumberListError(
                        f"sheet '{_sheet_name(archive, member.filename)}' has a cell in {far}, "
                        "far outside the list: delete the cells outside your list"
                    )
    except (zipfile.BadZipFile, EOFError, NotImplementedError):
        raise NumberListError(DAMAGED) from None


def _has_unusual_cells(stream: IO[bytes]) -> bool:
    """Whether the part holds a cell not written the usual way, read to its end a megabyte
    at a time (or to the first such cell: the part is then read whole again, which checks
    its CRC). Each piece starts with the end of the one before, so a cell cut between two
    is seen whole."""
    tail = b""
    while chunk := stream.read(1_048_576):
        piece = tail + chunk
        for pattern in (_UNUSUAL_CELL, _PREFIXED_CELL):
            # A cell at the very end may be cut short: it is looked at again with the
            # next piece.
            found = pattern.search(piece)
            if found and found.start() < len(piece) - _CUT:
                return True
        tail = piece[-_CUT:]
    return bool(_UNUSUAL_CELL.search(tail) or _PREFIXED_CELL.search(tail))


def _far_cell(sheet: bytes) -> str | None:
    """The reference of a cell that stretches the sheet's used range past what
    python-calamine can hold (MAX_SHEET_CELLS), or None."""
    rows, columns = _Extent(), _Extent()
    for row, column in _cells(sheet):
        rows.add(row, (row, column))
        columns.add(column, (row, column))
    height, width = rows.span(), columns.span()
    if height * width <= MAX_SHEET_CELLS:
        return None
    # The stray cell is at the last column or the last row: the one past the wider gap,
    # counted in the empty cells it adds (a note in XFD1 beside 1,000 rows, a value in
    # A1048576 below them).
    row, column = (columns if columns.gap() * height >= rows.gap() * width else rows).cell
    return f"{_column_letter(column - 1)}{row}"


@dataclass(slots=True)
class _Extent:
    """Where the cells lie along one axis: the first and last positions, the last but one,
    and a cell at the last."""

    first: int = 0
    last: int = 0
    before_last: int = 0
    cell: tuple[int, int] = (0, 0)

    def add(self, position: int, cell: tuple[int, int]) -> None:
        if not self.first or position < self.first:
            self.first = position
        if position > self.last:
            self.before_last, self.last, self.cell = self.last, position, cell
        elif self.before_last < position < self.last:
            self.before_last = position

    def span(self) -> int:
        return self.last - self.first + 1 if self.last else 0

    def gap(self) -> int:
        return self.last - self.before_last if self.before_last else 0


def _cells(sheet: bytes) -> Iterator[tuple[int, int]]:
    """The (row, column) of each cell in the sheet's data, from 1, placed as
    python-calamine places it: by its reference, or without one after the cell before it
    in its row. Self-closing cells hold nothing and are not read."""
    start, end = sheet.find(b"sheetData"), sheet.rfind(b"sheetData")
    if start < 0:
        return
    row, column = 1, 1
    for tag in _ROW_OR_CELL.finditer(sheet, start, end):
        closing, name, attributes = tag.groups()
        if closing:
            if name == b"row":
                row, column = row + 1, 1
            continue
        if attributes.endswith(b"/"):
            continue
        reference = _REFERENCE.search(attributes)
        if name == b"row":
            if reference:
                row = int(reference.group(2))
            continue
        if reference:
            letters, digits = reference.groups()
            column = _column_number(letters) if letters else column
            yield int(digits), column
        else:
            yield row, column
        column += 1


def _column_number(letters: bytes) -> int:
    """The column's number from its letters, from 1 for A (or a)."""
    number = 0
    for letter in letters:
        number = number * 26 + (letter & 0x1F)
    return number


def _sheet_name(archive: zipfile.ZipFile, path: str) -> str:
    """The name on the tab of the sheet kept at `path`, as the workbook lists it."""
    try:
        workbook = ElementTree.fromstring(archive.read(_WORKBOOK))
        relations = ElementTree.fromstring(archive.read(_WORKBOOK_RELATIONS))
    except (KeyError, ElementTree.ParseError):
        return path
    # A target is relative to the workbook's folder, or absolute from the zip's root.
    targets = {
        relation.get("Id"): posixpath.normpath(posixpath.join("/xl", relation.get("Target", "")))
        for relation in relations
    }
    for sheet in workbook.iter():
        if sheet.tag.endswith("}sheet"):
            relation = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
            if targets.get(relation) == "/" + path:
                return sheet.get("name", path)
    return path


def _first_visible_sheet(workbook: python_calamine.CalamineWorkbook) -> int:
    """The first sheet a person sees on opening the file: a hidden one may come first."""
    for index, sheet in enumerate(workbook.sheets_metadata):
        if (
            sheet.typ == python_calamine.SheetTypeEnum.WorkSheet
            and sheet.visible == python_calamine.SheetVisibleEnum.Visible
        ):
            return index
    raise NumberListError(EMPTY)


def _ole2_reason(data: bytes) -> str:
    if _ENCRYPTION_INFO in data:
        return ENCRYPTED  # Excel wraps an encrypted .xlsx in a compound file
    if any(stream in data for stream in _XLS_STREAMS):
        return OLD_XLS
    return NOT_A_SPREADSHEET


# Files people upload by mistake, told apart from CSV text by their first bytes.
_OTHER_FORMATS = (
    (b"%PDF", "a PDF document"),
    (b"{\\rtf", "an RTF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
)
_MARKUP = re.compile(rb"^\s*<(!doctype|html|\?xml|table|head|body)", re.IGNORECASE)


def _other_format(data: bytes) -> str | None:
    for signature, name in _OTHER_FORMATS:
        if data.startswith(signature):
            return name
    if _MARKUP.match(data.removeprefix(codecs.BOM_UTF8)[:256]):
        return "a web page (HTML or XML), perhaps saved from Excel as .xls"
    return None


def _csv_rows(data: bytes) -> Iterator[Row]:
    other = _other_format(data)
    if other:
        raise NumberListError(f"{NOT_A_SPREADSHEET}: it is {other}")
    text = _decode(data)
    separator_line = _SEPARATOR_LINE.match(text)
    if separator_line:
        # Excel's own "sep=;" line names the delimiter; Excel shows it as no row.
        delimiter, text = separator_line.group(1), text[separator_line.end() :]
    else:
        first_line = next((line for line in text.splitlines() if line.strip()), "")
        # The header names the columns, so the delimiter it uses most is the file's.
        delimiter = max(_DELIMITERS, key=first_line.count) if first_line else ","
        if first_line.count(delimiter) == 0:
            delimiter = ","
    # strict: a quote left open at the end of the file is an error, not one last field
    # holding every line after it.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    return _checked_csv(reader)


def _checked_csv(reader: Any) -> Iterator[Row]:
    """The reader's rows; a row the csv module cannot read refuses the file, by row.

    A quoted value may run over several lines, as a cell in Excel may. One whose later
    lines look like rows of the list refuses the file too: that is a quote opened and
    closed rows later, and the rows between would be one recipient's text, holding other
    recipients' numbers, rather than recipients.
    """
    delimiter = reader.dialect.delimiter
    row_number = 0
    try:
        for row in reader:
            row_number += 1
            for index, cell in enumerate(row):
                if ("\n" in cell or "\r" in cell) and _holds_rows(cell, delimiter):
                    raise NumberListError(
                        f"row {row_number}: the value in column {_column_letter(index)} runs"
                        ' over lines that look like rows of the list; is a quote (") left'
                        " open? Fix the file and upload it again"
                    )
            yield row
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            # The csv module's own words ("field larger than field limit (131072)") name
            # neither the size in characters nor what makes a value that long.
            raise NumberListError(
                f"row {row_number + 1} holds a value longer than {csv.field_size_limit():,}"
                ' characters: a quote (") left open, or a cell far longer than a message'
                f" ({CONTENT_MAX:,} characters)"
            ) from error
        raise NumberListError(
            f'row {row_number + 1} cannot be read: {error}; is a quote (") left open?'
        ) from error


def _holds_rows(value: str, delimiter: str) -> bool:
    """Whether a line of the value after its first starts with a phone number."""
    lines = value.splitlines()[1:]
    return any(_PHONE_LIKE.fullmatch(line.split(delimiter, 1)[0].strip()) for line in lines)


def _decode(data: bytes) -> str:
    """The text of a CSV as Excel saves one: "CSV UTF-8" (UTF-8 with a byte order mark),
    "Unicode text" (UTF-16, tab separated), or plain "CSV" in the system's code page."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise NumberListError(NOT_A_SPREADSHEET) from None
    elif b"\x00" in data[:4096]:
        raise NumberListError(NOT_A_SPREADSHEET)  # binary: an image, a PDF, ...
    else:
        marked = data.startswith(codecs.BOM_UTF8)
        body = data[len(codecs.BOM_UTF8) :] if marked else data
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            # A byte order mark says UTF-8: only a file without one may be in a code page.
            in_code_page = None if marked else _code_page_text(body)
            if in_code_page is None:
                line = body.count(b"\n", 0, error.start) + 1
                raise NumberListError(
                    f"the file is not UTF-8 text: line {line} holds the byte "
                    f'0x{body[error.start]:02X}. Save it as "CSV UTF-8" and upload it again'
                ) from None
            text = in_code_page
    if _CONTROL.search(text, 0, 4096):
        raise NumberListError(NOT_A_SPREADSHEET)
    return text


def _code_page_text(data: bytes) -> str | None:
    """The text of a plain "CSV" from Excel, in the system's code page: GBK (read as its
    superset GB18030) on Chinese Windows, Windows-1252 in the West; None when it cannot be
    told which.

    Each code page decodes almost any bytes, so a reading counts only when its text looks
    like that language's, and only when the other reading's does not. A UTF-8 file with a
    stray byte reads as neither: either reading would be mojibake ("AmÃ©lie", "Am茅lie").
    """
    if _mostly_utf8(data):
        return None
    readings = [text for text in (_chinese(data), _western(data)) if text is not None]
    return readings[0] if len(readings) == 1 else None


def _mostly_utf8(data: bytes) -> bool:
    """Whether most bytes past ASCII make UTF-8 characters, as they do in a UTF-8 file and
    seldom by chance (about one GB18030 character in seven)."""
    beyond_ascii = len(data.translate(None, _ASCII))
    in_utf8 = len(data) - len(_UTF8_CHARACTER.sub(b"", data))
    return 2 * in_utf8 > beyond_ascii


def _chinese(data: bytes) -> str | None:
    """The file read as GB18030, if at least three quarters of its characters beyond ASCII
    are everyday Chinese: in GB2312 (the 6,763 common characters and the punctuation) and
    not inside a Latin word. Western text read as GB18030 turns into rare characters or
    common ones between Latin letters ("J黵gen", "Concei玢o")."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    beyond_ascii = len(text) - len(text.encode("ascii", "ignore"))
    rare = text.encode("gb2312", "replace").count(b"?") - text.count("?")
    rare += len(_INSIDE_A_LATIN_WORD.findall(text))
    return text if 4 * rare <= beyond_ascii else None


def _western(data: bytes) -> str | None:
    """The file read as Windows-1252, if it holds only the letters of Western European
    languages and common punctuation, never three of them in a row. Chinese text read so
    turns into runs of letters and signs ("ÕÅÈý")."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    if _NOT_WESTERN.search(text) or _THREE_BEYOND_ASCII.search(text):
        return None
    return text


def _unshowable_value(number: int, raw: str, values: dict[str, str]) -> AbnormalRow:
    """The row, abnormal for the first of its values holding a control character."""
    for name, value in values.items():
        hidden = unshowable(value)
        if hidden:
            return AbnormalRow(
                number, raw, f"the {name} value holds {hidden}, which a phone cannot show"
            )
    raise AssertionError("no value holds a control character")


def _non_empty(rows: Iterable[Row]) -> Iterator[tuple[int, Row]]:
    """Rows with their spreadsheet row numbers, fully empty ones left out."""
    for number, row in enumerate(rows, start=1):
        if _width(row):
            yield number, row


def _chain(first: tuple[int, Row], rest: Iterator[tuple[int, Row]]) -> Iterator[tuple[int, Row]]:
    yield first
    yield from rest


def _header(cells: Row) -> list[str]:
    header = [_text(cell).strip() for cell in cells[: _width(cells)]]
    first = cells[0]
    if (type(first) in (int, float)) or _PHONE_LIKE.fullmatch(header[0]):
        raise NumberListError(
            "the file has no header row: the first row holds a phone number. "
            "Start with a row naming the columns, as in the template"
        )
    return header


def _variable_columns(
    header: list[str], variables: list[str]
) -> tuple[bool, list[tuple[str, int]]]:
    """Whether the variables are matched by name, and each variable's column index."""
    names = [cell.casefold() for cell in header]
    wanted = [variable.casefold() for variable in variables]
    named = [v for v, name in zip(variables, wanted, strict=True) if name in names[1:]]
    if variables and len(named) == len(variables):
        for variable, name in zip(variables, wanted, strict=True):
            if names.count(name) > 1:
                raise NumberListError(f"the header names the column '{variable}' twice")
        return True, [(v, names.index(n, 1)) for v, n in zip(variables, wanted, strict=True)]

    if len(header) != 1 + len(variables):
        expected = ", ".join(["the phone number", *variables])
        raise NumberListError(
            f"the file has {_count(len(header), 'column')} but the content has "
            f"{_count(len(variables), 'variable')}: expected {1 + len(variables)} ({expected}), "
            "or headers naming the variables"
        )
    # Position ignores the header, so a column headed with one variable's name would fill
    # another variable in every message. A generic header ("Value1") or a variable's name
    # in that variable's own position is fine.
    if any(name in wanted and name != want for name, want in zip(names[1:], wanted, strict=True)):
        missing = [variable for variable in variables if variable not in named]
        raise NumberListError(
            f"the header names {', '.join(named)} but not {', '.join(missing)} "
            f"(columns: {', '.join(header)}); name each variable's column, or leave the "
            "header without variable names to match by position"
        )
    return False, [(variable, index) for index, variable in enumerate(variables, start=1)]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _width(row: Row) -> int:
    """How many columns the row uses: up to its last non-blank cell."""
    width = len(row)
    while width and _blank(row[width - 1]):
        width -= 1
    return width


def _blank(cell: Any) -> bool:
    return cell is None or (type(cell) is str and (not cell or cell.isspace()))


def _text(cell: Any) -> str:
    """A cell as text, the way Excel shows a "general" cell."""
    if type(cell) is str:
        return cell
    if type(cell) is float:
        # Excel shows 15 significant digits: 0.1 + 0.2 as 0.3, and 1.23456789012345E+17
        # as 123456789012345000, where the float's own digits are 123456789012344992.
        if not cell.is_integer():
            return f"{cell:.15g}"
        if abs(cell) < 1e15:
            return str(int(cell))  # 639215347566.0 is the number 639215347566
        return str(int(Decimal(f"{cell:.15g}")))
    if type(cell) is bool:
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ", timespec="seconds" if cell.microsecond == 0 else "auto")
    if isinstance(cell, date | time):
        return cell.isoformat()
    if isinstance(cell, timedelta):
        return str(cell)
    return "" if cell is None else str(cell)


def _shortened(raw: str) -> str | None:
    """The reason a number in scientific notation lost digits, or None."""
    match = _SCIENTIFIC.fullmatch(raw)
    if match is None:
        return None
    digits = 1 + len(match.group(1) or "")
    if digits > int(match.group(2)):
        return None
    return (
        f"the number {raw} lost its last digits to Excel's scientific notation; "
        "format the column as text and type the numbers again"
    )


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _size(size: int) -> str:
    if size % 1_048_576 == 0:
        return f"{size // 1_048_576} MB ({size:,} bytes)"
    return f"{size:,} bytes"
