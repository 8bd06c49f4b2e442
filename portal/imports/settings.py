"""What an import may hold and how its columns are recognised (the app config may override the sizes)."""
from __future__ import annotations

import re
from functools import lru_cache

from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.imports.parsing import HeaderSpec, Limits
from portal.workers.columns import COLUMNS, match_header
from portal.workers.validation import REQUIRED

#: Settings an operator may override in the app config.
DEFAULTS = {
    "IMPORT_MAX_BYTES": 5 * 1024 * 1024,
    "IMPORT_MAX_ROWS": 10_000,
    # Above this many rows, checking and committing run as background jobs with a progress bar; files above
    # these sizes are read in the job too (a 64 KB workbook holds about 1,000 rows; a 256 KB CSV file 1,500).
    "IMPORT_JOB_THRESHOLD": 2_000,
    "IMPORT_JOB_CSV_BYTES": 256 * 1024,
    "IMPORT_JOB_XLSX_BYTES": 64 * 1024,
    "IMPORT_KEEP_HOURS": 24,
}

#: The columns kept as text in the template (IDs, phones); Excel may have turned them into numbers.
TEXT_FIELDS = tuple(column.key for column in COLUMNS if column.text and column.key)
#: How Excel writes a long number it shows in scientific notation (7.91806E+10): the digits are lost.
SCIENTIFIC = re.compile(r"\d+(?:[.,]\d+)?e\+?\d+", re.IGNORECASE)
SCIENTIFIC_MESSAGE = _l("Excel turned this number into “scientific” form and lost its last digits. Format the "
                        "column as Text in Excel, type the numbers again, and save the file again.")


def setting(key: str):
    return current_app.config.get(key, DEFAULTS[key])


def limits() -> Limits:
    return Limits(max_bytes=setting("IMPORT_MAX_BYTES"), max_rows=setting("IMPORT_MAX_ROWS"))


@lru_cache(maxsize=1)
def header_spec() -> HeaderSpec:
    """Return the worker list's columns as the parser matches them (the workers feature's COLUMNS)."""
    spellings = {column.key: (column.header, *column.aliases) for column in COLUMNS if column.key}
    ignored = [name for column in COLUMNS if column.key is None for name in (column.header, *column.aliases)]
    labels = {column.key: column.header for column in COLUMNS if column.key}

    def matcher(text: str) -> str | None:
        column = match_header(text)
        return column.key if column else None

    return HeaderSpec.build(spellings, REQUIRED, labels, ignored, matcher=matcher)
