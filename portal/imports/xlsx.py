"""Read the rows of an untrusted .xlsx workbook with bounded memory: the sheet's XML is parsed as a stream.

openpyxl (even ``read_only``) builds each ``<row>`` element whole before handing it over, and keeps every
shared string: one row of seven million cells in a 1.6 MB upload took the server to 3.5 GB. Here expat is
fed 64 KB at a time and only the cells of the first ``width`` columns are kept, so what a workbook costs is
bounded by :class:`portal.imports.parsing.Limits`, never by what its XML claims:

* cells per row (Excel's own maximum, 16,384), cells and XML elements per workbook;
* shared strings: how many, and how many characters in all (each kept to one more than a cell may hold);
* nesting depth, and the length of one XML token (expat keeps a whole start tag or comment in memory);
* no DOCTYPE at all (so no entity expansion, internal or external).

A workbook beyond a bound raises :class:`WorkbookTooLarge` (its message says what to do) or
:class:`Unreadable` (the caller says the file is damaged). openpyxl is used only for its number-format
and Excel-date helpers.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pyexpat import ParserCreate

from flask_babel import lazy_gettext as _l
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel, from_ISO8601

from portal.clock import format_date
from portal.messages import Refusal

CHUNK = 64 * 1024
#: Excel's own bounds: a sheet has at most 16,384 columns and 1,048,576 rows.
EXCEL_COLUMNS = 16_384
EXCEL_ROWS = 1_048_576
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d*)")


class Unreadable(Exception):
    """The workbook is not one Excel (or any sane program) writes; the caller says it is damaged."""


class WorkbookTooLarge(Refusal):
    """The workbook is beyond a bound; the message says which and what to do."""


@dataclass(frozen=True)
class Bounds:
    """What reading one workbook may cost (see :class:`portal.imports.parsing.Limits`)."""

    width: int  # columns kept per row (the rest are counted, not kept)
    max_cell_chars: int
    max_row_cells: int = EXCEL_COLUMNS
    max_cells: int = 1_000_000  # cells in all the sheets read
    max_elements: int = 4_000_000  # XML elements in all the parts read
    max_shared_strings: int = 500_000
    max_shared_chars: int = 16_000_000
    max_depth: int = 64
    max_token_bytes: int = 1024 * 1024
    max_sheets: int = 20


class Formula(str):
    """A formula cell: its text is the value Excel last computed; ``ref`` and ``formula`` say where and what."""

    ref: str
    formula: str

    def __new__(cls, cached: str, ref: str, formula: str):
        text = super().__new__(cls, cached)
        text.ref, text.formula = ref, formula
        return text


@dataclass
class _Budget:
    bounds: Bounds
    cells: int = 0
    elements: int = 0

    def element(self) -> None:
        self.elements += 1
        if self.elements > self.bounds.max_elements:
            raise too_many_cells()

    def cell(self) -> None:
        self.cells += 1
        if self.cells > self.bounds.max_cells:
            raise too_many_cells()


def too_many_cells() -> WorkbookTooLarge:
    return WorkbookTooLarge(_l("This workbook holds far more cells than a worker list has, so it was not read to "
                               "the end. Copy the worker rows into the template and upload that file."))


def too_much_text() -> WorkbookTooLarge:
    return WorkbookTooLarge(_l("This workbook holds far more text than a worker list has, so it was not read. "
                               "Copy the worker rows into the template and upload that file."))


# -- feeding expat -----------------------------------------------------------------------------------------

class _Handler:
    """Receives one part's elements; ``finished`` stops the feeding early."""

    finished = False

    def __init__(self, budget: _Budget):
        self.budget = budget
        self.depth = 0

    def start(self, name: str, attrs: dict) -> None:
        self.depth += 1
        if self.depth > self.budget.bounds.max_depth:
            raise Unreadable("nested too deeply")
        self.budget.element()
        self.open(name.rpartition(":")[2], attrs)

    def end(self, name: str) -> None:
        self.depth -= 1
        self.close(name.rpartition(":")[2])

    def open(self, tag: str, attrs: dict) -> None:
        pass

    def close(self, tag: str) -> None:
        pass

    def text(self, data: str) -> None:
        pass


def _refuse_doctype(*_args) -> None:
    raise Unreadable("a DOCTYPE (entities) in a workbook part")


def _feed(archive: zipfile.ZipFile, name: str, handler: _Handler) -> Iterator[None]:
    """Parse part ``name`` into ``handler`` 64 KB at a time, yielding after each piece."""
    parser = ParserCreate()
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.text
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    limit = handler.budget.bounds.max_token_bytes
    since_close = 0  # bytes since the last ">": what expat may have to hold as one token
    try:
        stream = archive.open(name)
    except KeyError:
        raise Unreadable(f"missing part {name}") from None
    with stream:
        while not handler.finished:
            chunk = stream.read(CHUNK)
            last = chunk.rfind(b">")
            if last < 0:
                since_close += len(chunk)
            else:
                first = chunk.find(b">")
                if since_close + first > limit:
                    raise too_much_text()
                since_close = len(chunk) - last - 1
            if since_close > limit:
                raise too_much_text()
            try:
                parser.Parse(chunk, not chunk)
            except Exception as error:
                if isinstance(error, (Unreadable, Refusal)):
                    raise
                raise Unreadable(str(error)) from None
            yield
            if not chunk:
                break


def _run(archive: zipfile.ZipFile, name: str, handler: _Handler) -> None:
    for _ in _feed(archive, name, handler):
        pass


# -- the parts around the sheets -----------------------------------------------------------------------------

class _WorkbookPart(_Handler):
    """xl/workbook.xml: the sheets in order (name, relationship id) and the date system."""

    def __init__(self, budget):
        super().__init__(budget)
        self.sheets: list[tuple[str, str]] = []
        self.epoch = CALENDAR_WINDOWS_1900

    def open(self, tag, attrs):
        if tag == "workbookPr" and attrs.get("date1904") in ("1", "true"):
            self.epoch = CALENDAR_MAC_1904
        elif tag == "sheet" and len(self.sheets) < 1000:
            rel = next((value for key, value in attrs.items() if key.rpartition(":")[2] == "id" and ":" in key), None)
            if rel:
                self.sheets.append((attrs.get("name", "")[:100], rel))


class _RelsPart(_Handler):
    """xl/_rels/workbook.xml.rels: where each worksheet's part is."""

    def __init__(self, budget):
        super().__init__(budget)
        self.targets: dict[str, str] = {}

    def open(self, tag, attrs):
        if tag == "Relationship" and attrs.get("Type", "").endswith("/worksheet") and len(self.targets) < 1000:
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            self.targets[attrs.get("Id", "")] = path


class _StylesPart(_Handler):
    """xl/styles.xml: which cell styles show a number as a date or time."""

    MAX_STYLES = 65_536

    def __init__(self, budget):
        super().__init__(budget)
        self.formats: dict[int, str] = {}
        self.style_formats: list[int] = []
        self.in_cell_xfs = False

    def open(self, tag, attrs):
        if tag == "numFmt" and len(self.formats) < 1000:
            try:
                self.formats[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")[:200]
            except ValueError:
                pass
        elif tag == "cellXfs":
            self.in_cell_xfs = True
        elif tag == "xf" and self.in_cell_xfs and len(self.style_formats) < self.MAX_STYLES:
            try:
                self.style_formats.append(int(attrs.get("numFmtId", "0")))
            except ValueError:
                self.style_formats.append(0)

    def close(self, tag):
        if tag == "cellXfs":
            self.in_cell_xfs = False

    def date_styles(self) -> frozenset[int]:
        dated = {number for number in {*self.style_formats}
                 if is_date_format(self.formats.get(number, BUILTIN_FORMATS.get(number)))}
        return frozenset(index for index, number in enumerate(self.style_formats) if number in dated)


class _TextCollector(_Handler):
    """Collects the ``<t>`` text of a string item (plain or rich), skipping phonetic runs, up to a cap."""

    def __init__(self, budget):
        super().__init__(budget)
        self.cap = budget.bounds.max_cell_chars + 1
        self.parts: list[str] = []
        self.length = 0
        self.in_t = False
        self.in_phonetic = 0

    def reset(self):
        self.parts, self.length = [], 0

    def take(self) -> str:
        text = "".join(self.parts)
        self.reset()
        return text

    def text(self, data):
        if self.in_t and not self.in_phonetic and self.length < self.cap:
            piece = data[: self.cap - self.length]
            self.parts.append(piece)
            self.length += len(piece)


class _SharedStringsPart(_TextCollector):
    def __init__(self, budget):
        super().__init__(budget)
        self.strings: list[str] = []
        self.chars = 0
        self.bounds = budget.bounds

    def open(self, tag, attrs):
        if tag == "t":
            self.in_t = True
        elif tag == "rPh":
            self.in_phonetic += 1
        elif tag == "si":
            self.reset()

    def close(self, tag):
        if tag == "t":
            self.in_t = False
        elif tag == "rPh":
            self.in_phonetic -= 1
        elif tag == "si":
            text = self.take()
            self.chars += len(text)
            if len(self.strings) >= self.bounds.max_shared_strings or self.chars > self.bounds.max_shared_chars:
                raise too_much_text()
            self.strings.append(text)


# -- a worksheet ----------------------------------------------------------------------------------------------

@dataclass
class _Cell:
    ref: str = ""
    column: int = 0
    kind: str = "n"
    style: int = 0
    kept: bool = False
    formula: list[str] | None = None
    value: str = ""


#: The cell being skipped, for every cell right of the list's columns (no object made per cell).
_IGNORED = _Cell(kept=False)


class _SheetPart(_TextCollector):
    """A worksheet: completed rows (number, texts of the first ``width`` columns) gather in ``rows``."""

    def __init__(self, budget, title: str, shared: list[str], date_styles: frozenset[int], epoch):
        super().__init__(budget)
        self.title, self.shared, self.date_styles, self.epoch = title, shared, date_styles, epoch
        self.width = budget.bounds.width
        self.rows: list[tuple[int, list]] = []
        self.row_number = 0
        self.row_cells = 0
        self.row_values: dict[int, str] = {}
        self.column = 0
        self.cell: _Cell | None = None
        self.target: str | None = None  # "v", "f" or "is" while their text is wanted

    def open(self, tag, attrs):
        if tag == "c":
            self._open_cell(attrs)
        elif self.cell is not None:
            if not self.cell.kept:
                return  # a cell right of the list: counted, never read
            if tag in ("v", "f"):
                self.target, self.in_t = tag, True
                if tag == "f":
                    self.cell.formula = []
            elif tag == "t" and self.cell.kind == "inlineStr":
                self.target, self.in_t = "is", True
            elif tag == "rPh":
                self.in_phonetic += 1
        elif tag == "row":
            number = attrs.get("r")
            self.row_number = int(number) if number else self.row_number + 1
            if not 0 < self.row_number <= EXCEL_ROWS:
                raise Unreadable("row number out of range")
            self.row_cells, self.row_values, self.column = 0, {}, 0
        elif tag == "sheetData":
            self.row_number = 0

    def _open_cell(self, attrs):
        self.row_cells += 1
        if self.row_cells > self.budget.bounds.max_row_cells:
            raise WorkbookTooLarge(_l("Row %(row)s of the sheet “%(sheet)s” has more than %(count)s cells, more "
                                      "than Excel allows. Copy the worker rows into the template and upload that "
                                      "file."), row=self.row_number, sheet=self.title,
                                   count=f"{self.budget.bounds.max_row_cells:,}")
        self.budget.cell()
        ref = attrs.get("r")
        if ref:
            match = _CELL_REF.fullmatch(ref.upper())
            if match is None:
                raise Unreadable("bad cell reference")
            self.column = _column_index(match.group(1))
        else:
            self.column += 1
            if self.column <= self.width:
                ref = f"{_column_letters(self.column)}{self.row_number}"
        if self.column > self.width:
            self.cell = _IGNORED
            return
        try:
            style = int(attrs.get("s") or 0)
        except ValueError:
            style = 0
        self.cell = _Cell(ref=ref, column=self.column, kind=attrs.get("t", "n"), style=style, kept=True)
        self.reset()

    def text(self, data):
        if self.target is None:
            return
        if self.target == "f":
            if self.cell.kept and sum(map(len, self.cell.formula)) < 200:
                self.cell.formula.append(data[:200])
            return
        super().text(data)

    def close(self, tag):
        cell = self.cell
        if cell is not None:
            if tag == "c":
                if cell.kept:
                    value = self._value(cell)
                    if value or cell.formula is not None:
                        self.row_values[cell.column - 1] = value
                self.cell, self.in_phonetic = None, 0
            elif not cell.kept:
                return
            elif tag == "rPh":
                self.in_phonetic -= 1
            elif self.target is not None and (tag in ("v", "f") or (tag == "t" and self.target == "is")):
                if tag != "f":
                    cell.value = (cell.value + self.take())[: self.cap]
                self.target, self.in_t = None, False
        elif tag == "row":
            if self.row_values:
                record = [""] * (max(self.row_values) + 1)
                for index, value in self.row_values.items():
                    record[index] = value
                self.rows.append((self.row_number, record))
            self.row_values = {}
        elif tag == "sheetData":
            self.finished = True

    def _value(self, cell: _Cell) -> str:
        text = _typed_text(cell, self.shared, self.date_styles, self.epoch, self.budget.bounds.max_cell_chars)
        if cell.formula is not None:
            return Formula(text, cell.ref, "=" + "".join(cell.formula)[:200])
        return text


def _typed_text(cell: _Cell, shared: list[str], date_styles, epoch, max_chars: int) -> str:
    """Return the text the user sees in the cell (dates dd/mm/yyyy, numbers without exponent)."""
    raw = cell.value
    if len(raw) > max_chars:
        return raw  # the row reports it as too long; never convert a cut number
    kind = cell.kind
    if kind in ("inlineStr", "str", "e"):
        return raw
    if kind == "s":
        try:
            return shared[int(raw)]
        except (ValueError, IndexError):
            raise Unreadable("a shared string that does not exist") from None
    if kind == "b":
        return cell_text(raw.strip() in ("1", "true"))
    if kind == "d":
        try:
            return cell_text(from_ISO8601(raw.strip()))
        except ValueError:
            return raw
    if not raw.strip():
        return ""
    try:
        number = float(raw) if any(char in raw for char in ".eE") else int(raw)
    except ValueError:
        return raw
    if cell.style in date_styles:
        try:
            day = from_excel(number, epoch)
        except (OverflowError, ValueError, TypeError):
            return raw
        return cell_text(day)
    return cell_text(number)


def cell_text(value) -> str:
    """Turn a typed cell value into the text the user sees (dates as dd/mm/yyyy, IDs without exponent)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return format_date(value.date()) if value.time() == time.min else f"{format_date(value.date())} {value:%H:%M}"
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, float) and value.is_integer():
        # Excel stored an ID or phone number as a number; keep its digits, never "7.9e10".
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    if index > EXCEL_COLUMNS:
        raise Unreadable("a column beyond Excel's last")
    return index


def _column_letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# -- the workbook ---------------------------------------------------------------------------------------------

@dataclass
class Workbook:
    """An opened workbook: its worksheets in order, each read row by row on demand."""

    archive: zipfile.ZipFile
    bounds: Bounds
    sheets: list[tuple[str, str]]  # (title, part name), worksheets only
    epoch: object
    date_styles: frozenset[int]
    shared: list[str] = field(default_factory=list)
    budget: _Budget | None = None

    def rows(self, title: str, part: str) -> Iterator[tuple[int, list]]:
        """Yield (row number, texts of its first ``width`` columns) for each non-empty row of a sheet."""
        handler = _SheetPart(self.budget, title, self.shared, self.date_styles, self.epoch)
        for _ in _feed(self.archive, part, handler):
            if handler.rows:
                ready, handler.rows = handler.rows, []
                yield from ready


def open_workbook(archive: zipfile.ZipFile, bounds: Bounds) -> Workbook:
    """Read what the sheets need (sheet list, date styles, shared strings); raise Unreadable or WorkbookTooLarge."""
    budget = _Budget(bounds)
    book = _WorkbookPart(budget)
    _run(archive, "xl/workbook.xml", book)
    rels = _RelsPart(budget)
    _run(archive, "xl/_rels/workbook.xml.rels", rels)
    names = set(archive.namelist())
    sheets = [(title, rels.targets[rel]) for title, rel in book.sheets
              if rel in rels.targets and rels.targets[rel] in names][: bounds.max_sheets]
    if not sheets:
        raise Unreadable("no worksheet")
    date_styles: frozenset[int] = frozenset()
    if "xl/styles.xml" in names:
        styles = _StylesPart(budget)
        _run(archive, "xl/styles.xml", styles)
        date_styles = styles.date_styles()
    shared: list[str] = []
    if "xl/sharedStrings.xml" in names:
        strings = _SharedStringsPart(budget)
        _run(archive, "xl/sharedStrings.xml", strings)
        shared = strings.strings
    return Workbook(archive, bounds, sheets, book.epoch, date_styles, shared, budget)
