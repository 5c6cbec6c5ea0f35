"""Number list files, good and bad, built in memory for the number list tests.

Each builder makes the file the way the program a tenant uses would: openpyxl for Excel
(numbers as floats, as a "general" cell holds them, or as text), Python's codecs for the
CSV encodings Excel and Chinese Windows save, and hand-made bytes for the files that must
be refused.
"""

import codecs
import csv
import io
import random
import struct
import zipfile
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

GUIDE_CONTENT = "Hello ${Name}, your pin code is 123456, get more info via link: ${website}"
GUIDE_ROWS: list[list[Any]] = [
    ["Phone Number", "Name", "website"],
    ["+639215347566", "Amy", "www.baidu.com"],
    ["+639215347566", "Bob", "www.sina.com.cn"],
]

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def xlsx(rows: Sequence[Sequence[Any]], hidden_first_sheet: bool = False) -> bytes:
    """An .xlsx whose first sheet holds `rows` from A1; None leaves a cell empty."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    if hidden_first_sheet:
        sheet.append(["Lookup", "not the number list"])
        sheet.sheet_state = "hidden"
        sheet = workbook.create_sheet("Numbers")
    for row in rows:
        sheet.append(list(row))
    return _save(workbook)


def xlsx_at(cells: dict[str, Any]) -> bytes:
    """An .xlsx with values at the given addresses, for lists that do not start at A1."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for address, value in cells.items():
        sheet[address] = value
    return _save(workbook)


def stray_far_cell_xlsx() -> bytes:
    """The guide's list with a space typed in the sheet's last cell, XFD1048576: its used
    range is the whole sheet."""
    return xlsx_at(
        {"A1": "Phone Number", "B1": "Name", "A2": "+639215347566", "B2": "Amy", "XFD1048576": " "}
    )


def sheet_xml_xlsx(sheet_data: str) -> bytes:
    """A workbook whose one sheet, 'Sheet1', holds `sheet_data` as written: for cells no
    spreadsheet program writes, without their reference or with a namespace prefix."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Type="{relationships}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{relationships}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Type="{relationships}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{main}"><sheetData>{sheet_data}</sheetData></worksheet>'
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def guide_xlsx() -> bytes:
    """The portal guide's example list."""
    return xlsx(GUIDE_ROWS)


def numbers_xlsx(count: int, seed: int = 7) -> bytes:
    """A large list as Excel keeps it: phone numbers in "general" cells are floats."""
    rng = random.Random(seed)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["Phone Number", "Name", "website"])
    for i in range(count):
        number = 639170000000 + rng.randrange(10_000_000)
        sheet.append([float(number), f"Customer {i}", f"https://example.com/{i}"])
    return _save(workbook)


def csv_file(rows: Sequence[Sequence[Any]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    """A CSV in `encoding`: "utf-8-sig" and "utf-16" add the byte order mark Excel writes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return buffer.getvalue().encode(encoding)


def utf16_be_csv(rows: Sequence[Sequence[Any]]) -> bytes:
    """Excel's "Unicode text" from a big-endian machine: BOM, UTF-16BE, tab separated."""
    return codecs.BOM_UTF16_BE + csv_file(rows, "utf-16-be", "\t")


def zip_bomb(expanded: int) -> bytes:
    """A zip that names a workbook and holds `expanded` bytes of zeros in its sheet."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b"0" * 1_048_576
            for _ in range(expanded // len(chunk)):
                sheet.write(chunk)
    return buffer.getvalue()


def lying_zip() -> bytes:
    """A workbook zip whose directory claims its sheet is smaller than it expands to."""
    data = bytearray(xlsx(GUIDE_ROWS))
    name = b"xl/worksheets/sheet1.xml"
    # A central directory entry: its signature, the uncompressed size at offset 24 and
    # the file name at offset 46.
    entry = data.index(b"PK\x01\x02")
    while data[entry + 46 : entry + 46 + len(name)] != name:
        entry = data.index(b"PK\x01\x02", entry + 4)
    struct.pack_into("<I", data, entry + 24, 10)
    return bytes(data)


def zip_encrypted_xlsx() -> bytes:
    """A workbook zipped with a password, as a zip tool makes it: its parts are flagged as
    encrypted (only the flag the reader looks at)."""
    data = bytearray(xlsx(GUIDE_ROWS))
    # Every central directory entry: its signature, and the flags at offset 8.
    entry = data.find(b"PK\x01\x02")
    while entry >= 0:
        data[entry + 8] |= 0x1
        entry = data.find(b"PK\x01\x02", entry + 4)
    return bytes(data)


def encrypted_xlsx() -> bytes:
    """What Excel saves for a password-protected .xlsx: a compound file holding streams
    named EncryptionInfo and EncryptedPackage (only the parts the reader looks at)."""
    directory = b"".join(
        name.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64
        for name in ("Root Entry", "EncryptionInfo", "EncryptedPackage")
    )
    return _OLE2_MAGIC + b"\x00" * 504 + directory + b"\x00" * 1024


def xls() -> bytes:
    """An Excel 97-2003 workbook: a compound file with a Workbook stream."""
    directory = b"".join(
        name.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64
        for name in ("Root Entry", "Workbook", "\x05SummaryInformation")
    )
    return _OLE2_MAGIC + b"\x00" * 504 + directory + b"\x00" * 1024


def png() -> bytes:
    """A PNG image, as when a screenshot of the list is renamed numbers.xlsx."""
    header = b"\x89PNG\r\n\x1a\n"
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return header + struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + b"\x00" * 16


def zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("numbers.txt", "+639215347566\n")
    return buffer.getvalue()


def oversize_csv(size: int) -> bytes:
    """A valid CSV just over `size` bytes."""
    rows = [["Phone Number"]]
    rows += [["+639215347566"]] * (size // 15 + 1)
    return csv_file(rows)


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
