"""The evaluation report: its period, its tables and charts, and its PDF and XLSX renderings.

The dashboard page, the report page, the PDF and the workbook all draw on the same tables, so a
figure cannot differ between them.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from flask import render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import clock
from portal.dashboard import charts
from portal.dashboard.figures import Figures
from portal.dashboard.scope import sector_declaration
from portal.dashboard.tally import total
from portal.health.share import Share, summed
from portal.i18n import localized
from portal.plugins.registry import UnitRegistry
from portal.plugins.types import Basis
from portal.text import fold
from portal.verify import outcomes as verify_outcomes
from portal.vocabulary import (
    BASIS_LABELS,
    ELIGIBLE_BASES,
    ENTERPRISE_STATUS_LABELS,
    INELIGIBLE_BASES,
    PASS_FLOW_LABELS,
    PASS_STATE_LABELS,
)

#: The order in which the dashboard and the report list statuses, card states, flows and scan outcomes.
ENTERPRISE_STATUSES = ("approved", "pending", "suspended", "rejected")
PASS_STATES = ("valid", "upcoming", "expired", "revoked")
PASS_FLOWS = tuple(PASS_FLOW_LABELS)
#: Scan outcomes and their names: the one definition is portal/verify/outcomes.py.
OUTCOMES = verify_outcomes.OUTCOME_CODES
OUTCOME_LABELS = {item.code: item.label for item in verify_outcomes.OUTCOMES}

DEFAULT_PERIOD_DAYS = 14
MAX_PERIOD_DAYS = 366

OUTCOME_COLOURS = {item.code: item.chart_colour for item in verify_outcomes.OUTCOMES}
ELIGIBLE_COLOUR = "#0b7a3e"
BASIS_COLOURS = {Basis.NOT_VACCINATED: "#b3261e", Basis.PARTIALLY_VACCINATED: "#e8710a",
                 Basis.WAITING_PERIOD: "#c98a00", Basis.RECOVERY_EXPIRED: "#8d6e63", Basis.TEST_REQUIRED: "#1d4f91",
                 Basis.MISSING_DATA: "#6a1b9a", Basis.UNCONFIRMED: "#00838f", Basis.POSITIVE_HOLD: "#880e4f",
                 Basis.OTHER: "#7b8794"}
STATUS_COLOURS = {"approved": "#0b7a3e", "pending": "#c98a00", "suspended": "#7b8794", "rejected": "#b3261e"}
CONFIRMED_COLOUR, UNCONFIRMED_COLOUR = "#0b7a3e", "#c98a00"
PASS_COLOURS = {"valid": "#0b7a3e", "upcoming": "#1d4f91", "expired": "#7b8794", "revoked": "#b3261e"}


# ---------------------------------------------------------------------------
# Period
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Local days from ``first`` to ``last``, both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def label(self) -> str:
        return f"{clock.format_date(self.first)} – {clock.format_date(self.last)}"


def default_period(today: date) -> Period:
    """Return the last 14 days, today included."""
    return Period(today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), today)


def parse_period(first_text: str | None, last_text: str | None, today: date) -> tuple[Period, dict[str, str]]:
    """Read a period typed as dd/mm/yyyy; return it (or the default) and the errors by field name."""
    errors: dict[str, str] = {}
    default = default_period(today)
    last = _parse_day(last_text, default.last, "to", _("Enter the end date as dd/mm/yyyy."), errors)
    first = _parse_day(first_text, last - timedelta(days=DEFAULT_PERIOD_DAYS - 1), "from",
                       _("Enter the start date as dd/mm/yyyy."), errors)
    if errors:
        return default, errors
    if last > today:
        errors["to"] = _("The end date cannot be after today (%(today)s).", today=clock.format_date(today))
    elif first > last:
        errors["from"] = _("The start date is after the end date.")
    elif (last - first).days + 1 > MAX_PERIOD_DAYS:
        errors["from"] = _("A report covers at most %(days)s days.", days=MAX_PERIOD_DAYS)
    return (default, errors) if errors else (Period(first, last), errors)


def _parse_day(text: str | None, fallback: date, name: str, message: str, errors: dict) -> date:
    if not text or not text.strip():
        return fallback
    try:
        return clock.parse_date(text)
    except ValueError:
        errors[name] = message
        return fallback


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------

@dataclass
class Table:
    """A titled table whose first ``labels`` columns label rows and whose other cells are counts.

    A float cell is a share (0 to 1), printed as a percentage; None is a figure nobody recorded.
    """

    key: str
    title: str
    sheet: str  # the worksheet's name: at most 31 characters
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    totals: list | None = None
    labels: int = 1
    #: A heading (and its explanation) printed above this table, which opens a section of the report.
    section: str | None = None
    section_note: str | None = None


@dataclass(frozen=True)
class Dimension:
    """What a table's rows are: units or sectors, with the key field they match in the figures."""

    field: str
    header: str
    rows: list[tuple[object, str]]


def unit_dimension(figures: Figures, with_unknown: bool = False) -> Dimension:
    rows = [(unit.id, localized(unit)) for unit in figures.units]
    if with_unknown and figures.scope.unit is None:
        rows.append((None, _("No unit (unrecognised code)")))
    return Dimension("unit_id", _("Unit"), rows)


def sector_dimension(registry: UnitRegistry, figures: Figures, *counters) -> Dimension:
    """Return the sectors found in ``counters``, each named as the unit holding it declares it."""
    unit_codes = {unit.id: unit.code for unit in figures.units}
    holders: dict[str, list[str]] = {}
    for counter in counters:
        for key in counter:
            if key.sector is not None:
                holders.setdefault(key.sector, [])
                if key.unit_id in unit_codes and unit_codes[key.unit_id] not in holders[key.sector]:
                    holders[key.sector].append(unit_codes[key.unit_id])
    rows = []
    for code in holders:
        declaration = sector_declaration(registry, code, holders[code])
        rows.append((code, localized(declaration) if declaration is not None else code))
    return Dimension("sector", _("Sector"), sorted(rows, key=lambda row: fold(row[1])))


def _table(key: str, title, sheet, dimension: Dimension, columns: list[tuple[str, Callable[[dict], int]]],
           with_totals: bool = True) -> Table:
    table = Table(key, str(title), str(sheet), [dimension.header] + [str(header) for header, _f in columns])
    for value, label in dimension.rows:
        match = {dimension.field: value}
        table.rows.append([label] + [count(match) for _h, count in columns])
    if with_totals and len(table.rows) > 1:
        table.totals = [_("Total")] + [sum(row[i] for row in table.rows) for i in range(1, len(table.headers))]
    return table


def enterprise_table(figures: Figures, dimension: Dimension, key: str, title, sheet) -> Table:
    columns = [(ENTERPRISE_STATUS_LABELS[status], lambda m, s=status: total(figures.enterprises, status=s, **m))
               for status in ENTERPRISE_STATUSES]
    columns.append((_l("Total"), lambda m: total(figures.enterprises, **m)))
    return _table(key, title, sheet, dimension, columns)


def eligibility_table(figures: Figures, dimension: Dimension, key: str, title, sheet) -> Table:
    columns = [
        (_l("Active workers"), lambda m: total(figures.workers, **m)),
        (_l("Eligible today"), lambda m: total(figures.eligibility, eligible=True, **m)),
        (_l("Not eligible today"), lambda m: total(figures.eligibility, eligible=False, **m)),
    ]
    columns += [(BASIS_LABELS[basis.value],
                 lambda m, b=basis.value: total(figures.eligibility, eligible=False, basis=b, **m))
                for basis in INELIGIBLE_BASES]
    return _table(key, title, sheet, dimension, columns)


def pass_state_table(figures: Figures, dimension: Dimension, key: str, title, sheet) -> Table:
    columns = [(PASS_STATE_LABELS["issued"], lambda m: total(figures.passes, state=PASS_STATES, **m))]
    columns += [(PASS_STATE_LABELS[state], lambda m, s=state: total(figures.passes, state=s, **m))
                for state in (*PASS_STATES, "superseded")]
    return _table(key, title, sheet, dimension, columns)


def pass_flow_table(figures: Figures, dimension: Dimension, key: str, title, sheet) -> Table:
    columns = [(PASS_FLOW_LABELS[flow], lambda m, f=flow: total(figures.pass_flows, state=f, **m))
               for flow in PASS_FLOWS if flow != "superseded"]
    columns.append((_l("Valid at generation time"), lambda m: total(figures.passes, state="valid", **m)))
    # Each supersession counted by when it happened (the cards' version history), after the existing columns.
    columns.append((PASS_FLOW_LABELS["superseded"], lambda m: total(figures.pass_flows, state="superseded", **m)))
    return _table(key, title, sheet, dimension, columns)


def scan_table(figures: Figures, dimension: Dimension, key: str, title, sheet) -> Table:
    columns = [(OUTCOME_LABELS[o], lambda m, o=o: total(figures.scans, outcome=o, **m)) for o in OUTCOMES]
    columns.append((_l("Total"), lambda m: total(figures.scans, **m)))
    return _table(key, title, sheet, dimension, columns)


def scans_per_day_table(figures: Figures) -> Table:
    dimension = Dimension("day", _("Day"), [(day, day) for day in figures.days])
    return scan_table(figures, dimension, "scans_by_day", _l("Checkpoint scans per day"), _l("Scans per day"))


CONFIRMED_SECTION = _l("Confirmed by the health registry")
CONFIRMED_NOTE = _l("Active workers with a declared dose, and those whose every dose the health registry confirmed; "
                    "a conflicting fact is a dose, recovery or test the registry holds differently. Each day's "
                    "figures are those recorded that day (Ho Chi Minh City time); a dash marks a day nothing was "
                    "recorded.")


def _confirmed_columns() -> list[str]:
    return [_("Workers with a declared dose"), _("Workers with every dose confirmed"), _("Confirmed share"),
            _("Workers with a conflicting fact")]


def _confirmed_cells(share: Share) -> list:
    return [share.workers_with_dose, share.confirmed, share.share, share.conflicting]


def sector_label(registry: UnitRegistry, code: str, unit_code: str | None) -> str:
    """Name sector ``code`` as the unit ``unit_code`` declares it (else as any unit does, else the code)."""
    declaration = sector_declaration(registry, code, [unit_code] if unit_code else [])
    return localized(declaration) if declaration is not None else code


def confirmed_unit_table(figures: Figures, key: str = "confirmed_by_unit", title=None, sheet=None) -> Table:
    """Each unit of the scope: workers with a dose, confirmed, their share, with a conflicting fact, now."""
    table = Table(key, str(title or _l("Confirmed by the health registry now, per unit")),
                  str(sheet or _l("Confirmed by unit")), [_("Unit"), *_confirmed_columns()])
    for unit in figures.units:
        table.rows.append([localized(unit),
                           *_confirmed_cells(summed(s for s in figures.confirmed if s.unit_id == unit.id))])
    if len(table.rows) > 1:
        table.totals = [_("Total"), *_confirmed_cells(summed(figures.confirmed))]
    return table


def confirmed_sector_table(figures: Figures, registry: UnitRegistry, key: str = "confirmed_by_unit_sector",
                           title=None, sheet=None, shares: list[Share] | None = None) -> Table:
    """Each unit's sectors: workers with a dose, confirmed, their share, with a conflicting fact (``shares``, by
    default counted now)."""
    shares = figures.confirmed if shares is None else shares
    table = Table(key, str(title or _l("Confirmed by the health registry now, per unit and sector")),
                  str(sheet or _l("Confirmed by sector")), [_("Unit"), _("Sector"), *_confirmed_columns()],
                  labels=2)
    for unit in figures.units:
        rows = [[localized(unit), sector_label(registry, share.sector, unit.code), *_confirmed_cells(share)]
                for share in shares if share.unit_id == unit.id]
        table.rows += sorted(rows, key=lambda row: fold(row[1]))
    if len(table.rows) > 1:
        table.totals = [_("Total"), "", *_confirmed_cells(summed(shares))]
    return table


def confirmed_days_table(figures: Figures, key: str = "confirmed_by_day", title=None, sheet=None) -> Table:
    """Each day of the period: the counts recorded that day, or dashes when nothing was."""
    table = Table(key, str(title or _l("Confirmed by the health registry, per day")),
                  str(sheet or _l("Confirmed per day")), [_("Day"), *_confirmed_columns()])
    for day in figures.days:
        share = figures.confirmed_days.get(day)
        table.rows.append([day, *(_confirmed_cells(share) if share is not None else [None] * 4)])
    return table


def confirmed_chart(figures: Figures, chart_id: str = "chart-confirmed"):
    """Stacked columns: workers with a dose on each recorded day, confirmed by the registry or not."""
    series = [charts.Series("confirmed", _("Every dose confirmed"), CONFIRMED_COLOUR),
              charts.Series("unconfirmed", _("Not (yet) confirmed"), UNCONFIRMED_COLOUR)]
    days = figures.confirmed_days

    def value(day, key):
        share = days.get(day)
        if share is None:
            return 0
        return share.confirmed if key == "confirmed" else share.workers_with_dose - share.confirmed

    last = days[max(days)] if days else None
    description = _("Workers with a declared dose from %(first)s to %(last)s (Ho Chi Minh City time), as recorded "
                    "each day: confirmed by the health registry or not; a day without a column was not recorded. "
                    "The table gives each day's numbers.",
                    first=clock.format_date(figures.first_day), last=clock.format_date(figures.last_day))
    if last is not None and last.share is not None:
        description += " " + _("Last recorded: %(share)s confirmed.", share=format_share(last.share))
    return charts.stacked_day_chart(chart_id, _("Confirmed by the health registry, per day"), description,
                                    figures.days, series, value, format_number=format_count)


def report_tables(figures: Figures, registry: UnitRegistry) -> list[Table]:
    """Return every table of the evaluation report, per unit and per sector."""
    units, scan_units = unit_dimension(figures), unit_dimension(figures, with_unknown=True)
    sectors = sector_dimension(registry, figures, figures.enterprises, figures.workers, figures.eligibility,
                               figures.passes, figures.pass_flows, figures.scans)
    return [
        enterprise_table(figures, units, "enterprises_by_unit", _l("Enterprises per unit"), _l("Enterprises by unit")),
        enterprise_table(figures, sectors, "enterprises_by_sector", _l("Enterprises per sector"),
                         _l("Enterprises by sector")),
        eligibility_table(figures, units, "eligibility_by_unit", _l("Workers and eligibility per unit"),
                          _l("Eligibility by unit")),
        eligibility_table(figures, sectors, "eligibility_by_sector", _l("Workers and eligibility per sector"),
                          _l("Eligibility by sector")),
        pass_flow_table(figures, units, "passes_by_unit", _l("Green cards per unit"), _l("Green cards by unit")),
        pass_flow_table(figures, sectors, "passes_by_sector", _l("Green cards per sector"),
                        _l("Green cards by sector")),
        scans_per_day_table(figures),
        scan_table(figures, scan_units, "scans_by_unit", _l("Checkpoint scans per unit"), _l("Scans by unit")),
        scan_table(figures, sectors, "scans_by_sector", _l("Checkpoint scans per sector"), _l("Scans by sector")),
        *confirmed_tables(figures, registry),
    ]


def confirmed_tables(figures: Figures, registry: UnitRegistry) -> list[Table]:
    """Return the tables of the section "confirmed by the health registry": per unit and sector as recorded on
    the period's last recorded day, then per day. Recorded figures, never a count made now, so that the report
    of a period stays as it was."""
    if figures.confirmed_recorded_on is not None:
        title = _l("Confirmed by the health registry per unit and sector, as recorded on %(day)s",
                   day=clock.format_date(figures.confirmed_recorded_on))
    else:
        title = _l("Confirmed by the health registry per unit and sector: nothing was recorded in this period")
    tables = [confirmed_sector_table(figures, registry, title=title, shares=figures.confirmed_recorded),
              confirmed_days_table(figures)]
    tables[0].section, tables[0].section_note = str(CONFIRMED_SECTION), str(CONFIRMED_NOTE)
    return tables


# ---------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------

@cache
def _group_symbol(locale: str) -> str:
    from babel.numbers import get_group_symbol

    return get_group_symbol(locale)


def format_share(value: float | None) -> str:
    """Format a share (0 to 1) as a percentage with one decimal in the locale's way (66,7 % in Vietnamese)."""
    from babel.numbers import format_percent

    if value is None:
        return "—"
    return format_percent(value, "#,##0.0 %", locale=str(get_locale() or "vi"))


def format_count(value: int) -> str:
    """Format a whole count with the locale's thousands separator (1.234 in Vietnamese, 1,234 in English).

    Babel's general formatter costs ~0.1 ms a call; a dashboard prints hundreds of counts.
    """
    return f"{int(value):,}".replace(",", _group_symbol(str(get_locale() or "vi")))




def eligibility_chart(figures: Figures, chart_id: str = "chart-eligibility"):
    """Bars: workers eligible today, then those not eligible by reason."""
    bars = [charts.Bar(str(_("Eligible")), total(figures.eligibility, eligible=True), ELIGIBLE_COLOUR)]
    counts = [(basis, total(figures.eligibility, eligible=False, basis=basis.value)) for basis in INELIGIBLE_BASES]
    # A hold after a positive test is rare and brief, and "not confirmed by the registry" arises only where
    # confirmed data is required: their bars appear only while they count someone (the table lists them).
    bars += [charts.Bar(str(BASIS_LABELS[basis.value]), count, BASIS_COLOURS[basis])
             for basis, count in counts if count or basis not in (Basis.POSITIVE_HOLD, Basis.UNCONFIRMED)]
    description = _("%(eligible)s of %(workers)s evaluated workers are eligible today; the bars below show why "
                    "the others are not. The table beside gives the same numbers.",
                    eligible=format_count(bars[0].value), workers=format_count(sum(bar.value for bar in bars)))
    return charts.bar_chart(chart_id, _("Eligibility today"), description, bars, format_number=format_count)


def enterprise_chart(figures: Figures, chart_id: str = "chart-enterprises"):
    """Bars: enterprises by status."""
    bars = [charts.Bar(str(ENTERPRISE_STATUS_LABELS[status]), total(figures.enterprises, status=status),
                       STATUS_COLOURS[status]) for status in ENTERPRISE_STATUSES]
    description = _("%(count)s enterprises registered, by status.", count=format_count(sum(b.value for b in bars)))
    return charts.bar_chart(chart_id, _("Enterprises by status"), description, bars, format_number=format_count)


def pass_chart(figures: Figures, chart_id: str = "chart-passes"):
    """Bars: passes valid now, not yet valid, expired and revoked."""
    bars = [charts.Bar(str(PASS_STATE_LABELS[state]), total(figures.passes, state=state), PASS_COLOURS[state])
            for state in PASS_STATES]
    description = _("%(count)s green cards issued, by their state now.", count=format_count(sum(b.value for b in bars)))
    return charts.bar_chart(chart_id, _("Green cards"), description, bars, format_number=format_count)


def scan_chart(figures: Figures, chart_id: str = "chart-scans"):
    """Stacked columns: checkpoint scans per local day, by outcome."""
    per_day = {}
    for key, count in figures.scans.items():
        per_day[key.day, key.outcome] = per_day.get((key.day, key.outcome), 0) + count
    series = [charts.Series(o, str(OUTCOME_LABELS[o]), OUTCOME_COLOURS[o]) for o in OUTCOMES]
    description = _("%(count)s checkpoint scans from %(first)s to %(last)s (Ho Chi Minh City time), per day and "
                    "by outcome; the table gives each day's numbers.", count=format_count(total(figures.scans)),
                    first=clock.format_date(figures.first_day), last=clock.format_date(figures.last_day))
    return charts.stacked_day_chart(chart_id, _("Checkpoint scans per day"), description, figures.days, series,
                                    lambda day, outcome: per_day.get((day, outcome), 0), format_number=format_count)


# ---------------------------------------------------------------------------
# The dashboard page
# ---------------------------------------------------------------------------

class DashboardPage:
    """The key figures, tables and charts of the dashboard page, built once per request."""

    def __init__(self, figures: Figures, registry: UnitRegistry) -> None:
        units = unit_dimension(figures)
        sectors = sector_dimension(registry, figures, figures.enterprises)
        self.enterprises_by_sector = enterprise_table(figures, sectors, "enterprises_by_sector",
                                                      _("Enterprises per sector"), "")
        self.enterprises_by_unit = enterprise_table(figures, units, "enterprises_by_unit",
                                                    _("Enterprises per unit"), "")
        self.eligibility_by_unit = eligibility_table(figures, units, "eligibility_by_unit",
                                                     _("Workers and eligibility per unit"), "")
        self.passes_by_unit = pass_state_table(figures, units, "passes_by_unit", _("Green cards per unit"), "")
        self.scans_by_day = scans_per_day_table(figures)
        self.scans_by_unit = scan_table(figures, unit_dimension(figures, with_unknown=True), "scans_by_unit",
                                        _("Checkpoint scans per unit"), "")
        self.confirmed_by_unit = confirmed_unit_table(figures)
        self.confirmed_by_sector = confirmed_sector_table(figures, registry)
        self.confirmed_by_day = confirmed_days_table(figures)
        self.confirmed_chart = confirmed_chart(figures)
        self._key_figures(figures)
        self.eligibility_chart = eligibility_chart(figures)
        self.enterprise_chart = enterprise_chart(figures)
        self.pass_chart = pass_chart(figures)
        self.scan_chart = scan_chart(figures)

    def _key_figures(self, figures: Figures) -> None:
        self.enterprises = total(figures.enterprises)
        self.approved = total(figures.enterprises, status="approved")
        self.status_rows = [(ENTERPRISE_STATUS_LABELS[status], total(figures.enterprises, status=status))
                            for status in ENTERPRISE_STATUSES]
        self.workers = total(figures.workers)
        self.eligible = total(figures.eligibility, eligible=True)
        self.ineligible = total(figures.eligibility, eligible=False)
        self.eligibility_rows = [
            (BASIS_LABELS[basis.value], total(figures.eligibility, eligible=eligible, basis=basis.value))
            for eligible, bases in ((True, ELIGIBLE_BASES), (False, INELIGIBLE_BASES))
            for basis in bases
        ]
        self.pass_rows = [(PASS_STATE_LABELS[state], total(figures.passes, state=state))
                          for state in PASS_STATES]
        self.issued = total(figures.passes, state=PASS_STATES)
        self.superseded = total(figures.passes, state="superseded")
        self.valid_passes = total(figures.passes, state="valid")
        self.scans_today = total(figures.scans, day=figures.today)


# ---------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportHeading:
    """What the first lines of a forwarded report say."""

    title: str
    scope: str
    period: Period
    generated_at: datetime
    as_of: datetime | None


def heading(figures: Figures, period: Period) -> ReportHeading:
    scope = localized(figures.scope.unit) if figures.scope.unit is not None else _("All of Ho Chi Minh City")
    return ReportHeading(_("Evaluation of the green card pilot"), scope, period, figures.now, figures.as_of)


def file_name(figures: Figures, period: Period, extension: str) -> str:
    """Return an ASCII file name naming the unit and the period."""
    scope = figures.scope.unit.code if figures.scope.unit is not None else "tphcm"
    return f"bao-cao-the-xanh-{scope}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.{extension}"


def render_pdf(figures: Figures, period: Period, tables: list[Table]) -> bytes:
    """Render the report to PDF with the portal's Noto Sans, charts drawn inline as SVG."""
    from portal.pdf import html_to_pdf

    head = heading(figures, period)
    html = render_template("dashboard/report_pdf.html", heading=head, tables=tables, figures=figures,
                           eligibility_chart=eligibility_chart(figures), scan_chart=scan_chart(figures),
                           enterprise_chart=enterprise_chart(figures), confirmed_chart=confirmed_chart(figures))
    css = render_template("dashboard/report_pdf.css", heading=head, css_string=css_string, page_label=_("Page"))
    return html_to_pdf(html, stylesheets=(css,))


def css_string(text: str) -> str:
    """Quote ``text`` as a CSS string (for running page headers)."""
    escaped = "".join(c if c.isalnum() or c in " .,:;–-/()" else f"\\{ord(c):x} " for c in str(text))
    return f'"{escaped}"'


def render_xlsx(figures: Figures, period: Period, tables: list[Table]) -> bytes:
    """Write one worksheet per table after a cover sheet; counts as numbers, days as dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    head = heading(figures, period)
    book = Workbook()
    cover = book.active
    cover.title = _("Report")[:31]
    bold = Font(bold=True)
    cover.append([head.title])
    cover["A1"].font = Font(bold=True, size=14)
    for label, value in ((_("Scope"), head.scope), (_("Period"), head.period.label()),
                         (_("Generated at"), _("%(when)s (HCMC time)", when=clock.format_datetime(head.generated_at))),
                         (_("Eligibility as of"), clock.format_datetime(head.as_of) if head.as_of else "—")):
        cover.append([label, value])
    cover.column_dimensions["A"].width, cover.column_dimensions["B"].width = 28, 48
    for table in tables:
        sheet = book.create_sheet(_sheet_title(table.sheet, book.sheetnames))
        sheet.append([table.title])
        sheet["A1"].font = bold
        sheet.append([head.scope, head.period.label()])
        sheet.append(table.headers)
        for cell in sheet[3]:
            cell.font = bold
        for row in table.rows:
            _append(sheet, row)
        if table.totals:
            _append(sheet, table.totals)
            for cell in sheet[sheet.max_row]:
                cell.font = bold
        sheet.freeze_panes = f"{get_column_letter(table.labels + 1)}4"
        for index in range(1, len(table.headers) + 1):
            sheet.column_dimensions[get_column_letter(index)].width = 40 if index <= table.labels else 16
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _append(sheet, row: list) -> None:
    """Append a table's row: a day as a date, a share as a percentage, a figure nobody recorded as an empty cell."""
    sheet.append(row)
    for index, value in enumerate(row, start=1):
        if isinstance(value, date):
            sheet.cell(sheet.max_row, index).number_format = "DD/MM/YYYY"
        elif isinstance(value, float):
            sheet.cell(sheet.max_row, index).number_format = "0.0%"


def _sheet_title(title: str, taken: list[str]) -> str:
    clean = "".join(" " if c in "[]:*?/\\" else c for c in title)[:31]
    candidate, n = clean, 2
    while candidate in taken:
        candidate, n = f"{clean[:28]} {n}", n + 1
    return candidate
