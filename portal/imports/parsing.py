"""Read an uploaded worker list (CSV or XLSX, as Vietnamese offices produce them) into plain text rows.

Nothing here knows what a valid worker is: this module finds the header row, maps the file's columns
to the worker fields named by a :class:`HeaderSpec`, and hands back every data row as ``{field: text}``
with the row number the user sees in Excel. Validation is the workers feature's job.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from portal.messages import Refusal
from portal.text import fold


@dataclass(frozen=True)
class Limits:
    """What an upload may hold; beyond it the file is refused with a clear message."""

    max_bytes: int = 5 * 1024 * 1024
    max_rows: int = 10_000
    max_columns: int = 60
    max_cell_chars: int = 1_000
    header_search_rows: int = 20
    # An XLSX is a zip: refuse it before decompressing anything when these are absurd.
    max_unzipped_bytes: int = 120 * 1024 * 1024
    max_zip_ratio: int = 150
    max_zip_entries: int = 500
    # What reading one workbook may cost (portal.imports.xlsx): cells and XML elements in all, shared strings.
    max_workbook_cells: int = 1_000_000  # 10,000 rows of Excel's 60 columns are 600,000
    max_shared_strings: int = 500_000
    max_shared_chars: int = 16_000_000
    #: A CSV line longer than this is not a worker list (60 columns of 1,000 characters are 60 KB).
    max_csv_line_chars: int = 1024 * 1024
    #: Cells in one row: Excel's own limit (16,384 columns).
    max_row_cells: int = 16_384
    #: The text of all the kept cells: a real list of 10,000 workers holds about 2.5 million characters.
    #: (A workbook's shared strings let a 40 KB file repeat 1,000-character cells 100,000 times.)
    max_text_chars: int = 4_000_000

    def xlsx_bounds(self):
        """Return the streaming reader's bounds for these limits."""
        from portal.imports.xlsx import Bounds

        # One column more than allowed, so that data beyond the limit is noticed rather than dropped.
        return Bounds(width=self.max_columns + 1, max_cell_chars=self.max_cell_chars,
                      max_row_cells=self.max_row_cells, max_cells=self.max_workbook_cells,
                      max_elements=4 * self.max_workbook_cells,
                      max_shared_strings=self.max_shared_strings, max_shared_chars=self.max_shared_chars)


class ImportFileError(Refusal):
    """The file as a whole cannot be imported; its message (rendered late) says why and what to do."""


@dataclass(frozen=True)
class HeaderSpec:
    """The columns a worker list may have: header spellings per field, the required fields, their labels."""

    aliases: dict[str, str]  # header_key(spelling) → field
    required: tuple[str, ...]
    labels: dict[str, str]  # field → the header to show the user
    ignored: frozenset[str] = frozenset()  # header keys silently skipped (the STT numbering column)
    #: The owner's own header matcher, asked first; the punctuation-blind key index catches the rest.
    matcher: Callable[[str], str | None] | None = None

    @classmethod
    def build(cls, spellings: dict[str, Iterable[str]], required: Iterable[str], labels: dict[str, str],
              ignored: Iterable[str] = (), matcher=None) -> HeaderSpec:
        """Index every spelling of every field by its header key."""
        aliases: dict[str, str] = {}
        for field_name, names in spellings.items():
            for name in names:
                aliases.setdefault(header_key(name), field_name)
        return cls(aliases, tuple(required), dict(labels), frozenset(header_key(name) for name in ignored), matcher)

    def is_ignored(self, header: str) -> bool:
        return header_key(header) in self.ignored

    def field_for(self, header: str) -> str | None:
        if self.is_ignored(header):
            return None
        return (self.matcher and self.matcher(header)) or self.aliases.get(header_key(header))


@dataclass(frozen=True)
class CellProblem:
    field: str
    message: object  # a lazy string, translated when shown


@dataclass
class SourceRow:
    """One data row: its number in Excel, the text of each recognised column, and parse-level problems."""

    number: int
    values: dict[str, str]
    problems: list[CellProblem] = field(default_factory=list)


@dataclass
class ParsedFile:
    kind: str  # "csv" or "xlsx"
    header_row: int
    headers: dict[str, str]  # field → the header as written in the file
    ignored_headers: list[str]
    rows: list[SourceRow]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None


_NON_WORD = re.compile(r"[^0-9a-z]+")
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"), None)
_DELIMITERS = (",", ";", "\t", "|")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf", b"BM")


def header_key(text: str) -> str:
    """Reduce a header to lowercase ASCII words: 'Số CCCD / CMND ' → 'so cccd cmnd'."""
    return " ".join(_NON_WORD.sub(" ", fold(unicodedata.normalize("NFC", text))).split())


# -- the entry point ---------------------------------------------------------------------------------------

def parse_upload(data: bytes, spec: HeaderSpec, limits: Limits = Limits(), progress=None) -> ParsedFile:
    """Detect the file's kind by its content and read it; raise ImportFileError with the reason otherwise.

    ``progress(rows_read)`` is called now and then while a long file is read.
    """
    if detect_kind(data, limits) == "xlsx":
        return parse_xlsx(data, spec, limits, progress)
    return parse_csv(data, spec, limits, progress)


def detect_kind(data: bytes, limits: Limits = Limits()) -> str:
    """Return "xlsx" or "csv" from the first bytes (never the file name); refuse what is neither, cheaply."""
    if not data or not data.strip(b"\x00\t\r\n \xef\xbb\xbf\xff\xfe"):
        raise ImportFileError(_l("The file is empty."))
    if len(data) > limits.max_bytes:
        raise file_too_large(limits)
    if data.startswith(b"PK\x03\x04"):
        check_zip(data, limits)
        return "xlsx"
    if data.startswith(OLE2_MAGIC):
        raise ImportFileError(_l(
            "This is an old Excel file (.xls) or a password-protected workbook. Open it in Excel, remove any "
            "password and save it as “Excel Workbook (.xlsx)” or “CSV UTF-8”, then upload that file."))
    if data.startswith(_BINARY_MAGIC):
        raise not_a_spreadsheet()
    markup = _markup(data)
    if markup == "table":
        raise ImportFileError(_l(
            "This file is a web page or an Excel 2003 XML file with an Excel name (some HR programs export that). "
            "Open it in Excel and save it as “Excel Workbook (.xlsx)” or “CSV UTF-8”, then upload that file."))
    if markup:
        raise not_a_spreadsheet()
    return "csv"


def _markup(data: bytes) -> str | None:
    """Return "table" for an HTML or Excel 2003 XML table, "other" for other markup, None for plain text."""
    head = data[:4096].replace(b"\x00", b"").lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n").lower()
    if not head.startswith(b"<"):  # a worker list's first character is never "<"
        return None
    return "table" if any(tag in head for tag in (b"<html", b"<table", b"office:spreadsheet")) else "other"


def file_too_large(limits: Limits) -> ImportFileError:
    return ImportFileError(_l("The file is larger than %(size)s. Split the list into several files."),
                           size=human_size(limits.max_bytes))


def human_size(size: int) -> str:
    """Write a byte count as users read it: 5 MB, 200 KB."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{max(1, size // 1024)} KB"


def not_a_spreadsheet() -> ImportFileError:
    return ImportFileError(_l(
        "This file is not a worker list we can read. Upload an Excel workbook (.xlsx) or a CSV file "
        "(you can start from the template)."))


# -- CSV ---------------------------------------------------------------------------------------------------

def decode_text(data: bytes) -> tuple[str, str]:
    """Return the text of a CSV file (NFC) and the encoding it was in."""
    encoding = _text_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise not_a_spreadsheet() from None
    if _looks_binary(text):
        raise not_a_spreadsheet()
    return text, encoding


def _text_encoding(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[:4000]
    if len(sample) >= 4 and sample.count(0) * 3 >= len(sample):
        # UTF-16 without a byte-order mark: ASCII letters leave a zero in every other byte.
        zeros_at_odd = sample[1::2].count(0)
        return "utf-16-le" if zeros_at_odd >= sample[0::2].count(0) else "utf-16-be"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1258"
    return "utf-8"


def _looks_binary(text: str) -> bool:
    sample = text[:20_000]
    controls = sum(1 for char in sample if char < " " and char not in "\t\r\n")
    return "\x00" in sample or controls * 100 > len(sample)


def parse_csv(data: bytes, spec: HeaderSpec, limits: Limits = Limits(), progress=None) -> ParsedFile:
    """Read a CSV file in any of the encodings and separators offices use."""
    text, encoding = decode_text(data)
    delimiter = _sniff_delimiter(text, spec, limits)
    records = _counted(_csv_records(text, delimiter, limits), progress)
    parsed = read_table(records, spec, limits)
    parsed.kind, parsed.encoding, parsed.delimiter = "csv", encoding, delimiter
    return parsed


def _bounded_lines(text: str, limits: Limits) -> Iterator[str]:
    """Yield the lines of ``text``, refusing one so long that its cells could exhaust memory."""
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if len(line) > limits.max_csv_line_chars:
            raise ImportFileError(_l("Line %(row)s of the file is longer than %(size)s characters: this is not a "
                                     "worker list. Copy the worker rows into the template and upload that file."),
                                  row=number, size=f"{limits.max_csv_line_chars:,}")
        yield line


def _csv_records(text: str, delimiter: str, limits: Limits) -> Iterator[tuple[int, list]]:
    reader = csv.reader(_bounded_lines(text, limits), delimiter=delimiter, quotechar='"', doublequote=True,
                        skipinitialspace=False, strict=False)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            if len(record) > limits.max_row_cells:
                raise ImportFileError(_l("Row %(row)s of the file has more than %(count)s cells: this is not a "
                                         "worker list. Copy the worker rows into the template and upload that "
                                         "file."), row=number, count=f"{limits.max_row_cells:,}")
            yield number, record
    except csv.Error:
        raise ImportFileError(_l("Row %(row)s of the file is damaged (a quote is not closed, or a cell is far "
                                 "too long). Check it in Excel and save the file again."), row=number + 1) from None


def _sniff_delimiter(text: str, spec: HeaderSpec, limits: Limits) -> str:
    """Pick the separator under which the most known headers appear in one of the first rows."""
    head = "\n".join(text[:65_536].splitlines()[: limits.header_search_rows])
    best, best_score = ",", -1
    for delimiter in _DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter, strict=False))
        except csv.Error:
            continue
        score = max((_header_score(row, spec) for row in rows), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


# -- XLSX --------------------------------------------------------------------------------------------------

def check_zip(data: bytes, limits: Limits = Limits()) -> None:
    """Refuse a zip that is not an Excel workbook, or whose declared sizes could exhaust memory.

    Python's zipfile never inflates a member past its declared size (it stops and fails the CRC check),
    so checking the declared sizes before anything is decompressed bounds what openpyxl can allocate.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise not_a_spreadsheet() from None
    if len(infos) > limits.max_zip_entries:
        raise zip_bomb()
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        if "mimetype" in names or "content.xml" in names:
            raise ImportFileError(_l("This looks like an OpenDocument spreadsheet (.ods). Save it as "
                                     "“Excel Workbook (.xlsx)” or “CSV UTF-8” and upload that file."))
        raise not_a_spreadsheet()
    if sum(info.file_size for info in infos) > limits.max_unzipped_bytes:
        raise zip_bomb()
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > limits.max_zip_ratio * max(info.compress_size, 1):
            raise zip_bomb()


def zip_bomb() -> ImportFileError:
    return ImportFileError(_l("This workbook is abnormally large once unpacked, so it was not opened. "
                              "Copy the worker rows into the template and upload that file."))


def parse_xlsx(data: bytes, spec: HeaderSpec, limits: Limits = Limits(), progress=None) -> ParsedFile:
    """Read the first sheet of a workbook that holds a worker list header (``data`` passed :func:`check_zip`).

    The sheets are parsed as a stream with bounded memory (:mod:`portal.imports.xlsx`).
    """
    from portal.imports import xlsx

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            workbook = xlsx.open_workbook(archive, limits.xlsx_bounds())
            return _read_workbook(workbook, spec, limits, progress)
    except ImportFileError:
        raise
    except Refusal as refusal:  # a bound of the reader: its message says which
        raise ImportFileError(refusal.message) from None
    except Exception:  # noqa: BLE001 — any failure inside an untrusted workbook is "cannot read it"
        raise ImportFileError(_l("This Excel file could not be read; it may be damaged. Open it in Excel, "
                                 "save it again as “Excel Workbook (.xlsx)” and upload it.")) from None


def _read_workbook(workbook, spec: HeaderSpec, limits: Limits, progress) -> ParsedFile:
    first_error = None
    for title, part in workbook.sheets:
        records = _counted(workbook.rows(title, part), progress)
        try:
            parsed = read_table(records, spec, limits)
        except HeaderNotFound as error:
            first_error = first_error or error
            continue
        finally:
            records.close()
        parsed.kind, parsed.sheet = "xlsx", title
        return parsed
    raise first_error or HeaderNotFound(spec)


def _counted(records: Iterator[tuple[int, list]], progress) -> Iterator[tuple[int, list]]:
    """Pass ``records`` through, telling ``progress`` every thousand rows how many were read."""
    if progress is None:
        yield from records
        return
    for count, record in enumerate(records, start=1):
        if count % 1000 == 0:
            progress(count)
        yield record


# -- the table, whatever it came from --------------------------------------------------------------------

class HeaderNotFound(ImportFileError):
    def __init__(self, spec: HeaderSpec):
        examples = ", ".join(spec.labels[name] for name in spec.required[:4])
        super().__init__(_l("No header row was found in the first rows of the file. The worker list needs a row "
                            "of column headers such as: %(examples)s. If the file was saved in an old Vietnamese "
                            "encoding (TCVN3, VNI), open it in Excel and save it as “CSV UTF-8” or .xlsx."),
                         examples=examples)


def _header_score(row: list, spec: HeaderSpec) -> int:
    return len({spec.field_for(cell) for cell in row if isinstance(cell, str) and cell.strip()} - {None})


def read_table(records: Iterable[tuple[int, list]], spec: HeaderSpec, limits: Limits) -> ParsedFile:
    """Find the header among the first rows, then collect the data rows below it."""
    header_number, columns, headers, ignored, below = _locate_header(records, spec, limits)
    rows = _data_rows(below, columns, spec, limits)
    if not rows:
        raise ImportFileError(_l("The file has a header row but no worker rows under it."))
    return ParsedFile(kind="", header_row=header_number, headers=headers, ignored_headers=ignored, rows=rows)


def _locate_header(records: Iterable[tuple[int, list]], spec: HeaderSpec, limits: Limits):
    """Find the header among the first rows; return its number, the column map and the records below it."""
    records = iter(records)
    head = []
    for record in records:
        head.append(record)
        if len(head) >= limits.header_search_rows:
            break
    header_number, header = _find_header(head, spec)
    columns, headers, ignored = _map_columns(header, spec, limits)
    missing = [spec.labels[name] for name in spec.required if name not in headers]
    if missing:
        raise ImportFileError(_l("The file has no column for: %(columns)s. Add these columns (see the template) "
                                 "and upload the file again."), columns=", ".join(missing))
    below = (record for record in head if record[0] > header_number)
    return header_number, columns, headers, ignored, _chain(below, records)


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


def _find_header(head: list[tuple[int, list]], spec: HeaderSpec) -> tuple[int, list]:
    best, best_score = None, 0
    for number, row in head:
        score = _header_score(row, spec)
        if score > best_score:
            best, best_score = (number, row), score
    # Two recognised headers could be a coincidence in a title; three make a header row.
    if best is None or best_score < min(3, len(spec.required) or 1):
        raise HeaderNotFound(spec)
    return best


def _map_columns(header: list, spec: HeaderSpec, limits: Limits):
    columns: list[tuple[int, str]] = []
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header):
        text = " ".join(unicodedata.normalize("NFC", str(cell or "")).split())
        if not text or spec.is_ignored(text):
            continue
        if index >= limits.max_columns:
            raise ImportFileError(_l("The file has more than %(count)s columns. Keep only the worker list "
                                     "columns (see the template)."), count=limits.max_columns)
        name = spec.field_for(text)
        if name is None:
            ignored.append(text)
        elif name in headers:
            raise ImportFileError(_l("The columns “%(first)s” and “%(second)s” both hold %(label)s. Keep only one "
                                     "of them."), first=headers[name], second=text, label=spec.labels[name])
        else:
            headers[name] = text
            columns.append((index, name))
    return columns, headers, ignored


def _data_rows(records, columns, spec: HeaderSpec, limits: Limits) -> list[SourceRow]:
    rows: list[SourceRow] = []
    chars = 0
    for number, record in records:
        row = _data_row(number, record, columns, limits)
        if row is None:
            continue
        if len(rows) >= limits.max_rows:
            raise ImportFileError(_l("The file has more than %(count)s worker rows. Split it into several files."),
                                  count=limits.max_rows)
        chars += sum(map(len, row.values.values()))
        if chars > limits.max_text_chars:
            raise ImportFileError(_l("This file holds far more text than a worker list has (more than %(count)s "
                                     "characters by row %(row)s), so it was not read to the end. Keep only the "
                                     "worker list's columns, or split the list into several files."),
                                  count=f"{limits.max_text_chars:,}", row=number)
        rows.append(row)
    return rows


def _data_row(number: int, record: list, columns, limits: Limits) -> SourceRow | None:
    values: dict[str, str] = {}
    problems: list[CellProblem] = []
    width = len(record)
    for index, name in columns:
        raw = record[index] if index < width else ""
        formula = getattr(raw, "formula", None)
        if formula is not None:
            # A formula's text is Excel's last computed value, or the formula itself: neither is what HR typed.
            problems.append(CellProblem(name, _l("Cell %(cell)s holds a formula (%(formula)s), not a value. Type "
                                                 "the value itself (or copy the column and paste it as values) "
                                                 "and upload the file again.", cell=raw.ref, formula=formula)))
            continue
        if not raw:
            continue
        if len(raw) > limits.max_cell_chars and len(raw.strip()) > limits.max_cell_chars:
            problems.append(CellProblem(name, _l("This cell is longer than %(count)s characters.",
                                                 count=limits.max_cell_chars)))
            continue
        if not raw.isascii():
            # Windows-1258 (and macOS) write tone marks as combining characters; NFC makes "Nguyễn" one string.
            raw = unicodedata.normalize("NFC", raw).translate(_INVISIBLE)
        text = raw.strip()
        if not text:
            continue
        if len(text) > limits.max_cell_chars:
            problems.append(CellProblem(name, _l("This cell is longer than %(count)s characters.",
                                                 count=limits.max_cell_chars)))
            continue
        values[name] = text
    if not values and not problems:
        return None  # an empty row, or one holding only its STT number
    return SourceRow(number=number, values=values, problems=problems)


# -- streaming, for files too large to hold (registry extracts) -----------------------------------------------

@dataclass
class RowStream:
    """A table read lazily: the header is found, the data rows come one at a time from ``rows``."""

    kind: str
    header_row: int
    headers: dict[str, str]
    ignored_headers: list[str]
    rows: Iterator[SourceRow]
    encoding: str | None = None
    delimiter: str | None = None


def stream_table(records: Iterable[tuple[int, list]], spec: HeaderSpec, limits: Limits) -> RowStream:
    """Find the header among the first rows like :func:`read_table`, then yield the rows below it one by one.

    ``limits.max_rows`` does not apply: the caller reads as many rows as it can handle.
    """
    header_number, columns, headers, ignored, below = _locate_header(records, spec, limits)

    def rows() -> Iterator[SourceRow]:
        for number, record in below:
            row = _data_row(number, record, columns, limits)
            if row is not None:
                yield row

    return RowStream(kind="", header_row=header_number, headers=headers, ignored_headers=ignored, rows=rows())


def stream_file(stream, spec: HeaderSpec, limits: Limits = Limits()) -> RowStream:
    """Read a seekable binary file (CSV in any office encoding, or XLSX) as a :class:`RowStream`.

    A CSV file is decoded as it is read, so memory stays flat whatever its size; a workbook is read
    by openpyxl's read-only reader, row by row.
    """
    head = stream.read(65_536)
    stream.seek(0)
    if head.startswith(b"PK\x03\x04"):
        data = stream.read()
        check_zip(data, limits)
        return _stream_xlsx(data, spec, limits)
    detect_kind(head, Limits(max_bytes=len(head) + 1))  # refuses what is neither text nor a workbook
    encoding = _text_encoding_of_head(head)
    sample = head.decode(encoding, errors="ignore")
    if _looks_binary(sample):
        raise not_a_spreadsheet()
    delimiter = _sniff_delimiter(sample, spec, limits)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="", errors="strict")

    def records() -> Iterator[tuple[int, list]]:
        reader = csv.reader(text, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
        number = 0
        try:
            for number, record in enumerate(reader, start=1):
                yield number, record
        except UnicodeDecodeError:
            raise not_a_spreadsheet() from None
        except csv.Error:
            raise ImportFileError(_l("Row %(row)s of the file is damaged (a quote is not closed, or a cell is far "
                                     "too long). Check it in Excel and save the file again."), row=number + 1) from None
        finally:
            text.detach()  # the caller's file stays open, and the caller's to close

    parsed = stream_table(records(), spec, limits)
    parsed.kind, parsed.encoding, parsed.delimiter = "csv", encoding, delimiter
    return parsed


def _text_encoding_of_head(head: bytes) -> str:
    """Like :func:`_text_encoding` for the first bytes of a file: a character cut at the end is not an error."""
    encoding = _text_encoding(head)
    if encoding == "cp1258":
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError:
            return "cp1258"
        return "utf-8"
    return encoding


def _stream_xlsx(data: bytes, spec: HeaderSpec, limits: Limits) -> RowStream:
    """Like :func:`parse_xlsx`, with the rows handed out one by one (the reader of :mod:`portal.imports.xlsx`)."""
    from portal.imports import xlsx

    archive = zipfile.ZipFile(io.BytesIO(data))
    try:
        workbook = xlsx.open_workbook(archive, limits.xlsx_bounds())
        first_error = None
        for title, part in workbook.sheets:
            records = workbook.rows(title, part)
            try:
                parsed = stream_table(records, spec, limits)
            except HeaderNotFound as error:
                records.close()
                first_error = first_error or error
                continue

            def rows(inner=parsed.rows, records=records) -> Iterator[SourceRow]:
                try:
                    yield from inner
                finally:
                    records.close()
                    archive.close()

            parsed.kind, parsed.rows = "xlsx", rows()
            return parsed
        raise first_error or HeaderNotFound(spec)
    except ImportFileError:
        archive.close()
        raise
    except Refusal as refusal:  # a bound of the reader: its message says which
        archive.close()
        raise ImportFileError(refusal.message) from None
    except Exception:  # noqa: BLE001 — any failure inside an untrusted workbook is "cannot read it"
        archive.close()
        raise ImportFileError(_l("This Excel file could not be read; it may be damaged. Open it in Excel, "
                                 "save it again as “Excel Workbook (.xlsx)” and upload it.")) from None
