"""Vietnamese citizen ID numbers: the 12-digit CCCD and the legacy 9-digit CMND."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from portal.messages import Refusal

#: CCCD province codes run from 001 (Hà Nội) to 096 (Cà Mau); 079 is Hồ Chí Minh City.
PROVINCE_CODES = range(1, 97)


class CitizenIdError(Refusal):
    """A citizen ID that cannot be right; the message says why."""


def century_sex_digit(date_of_birth: date, sex: str) -> int:
    """Return the CCCD's fourth digit: 0/1 for men/women born 1900–1999, 2/3 for 2000–2099, and so on."""
    century_index = (date_of_birth.year // 100) - 19
    if not 0 <= century_index <= 4:
        raise CitizenIdError(_l("The year of birth is outside what a citizen ID can encode."))
    return century_index * 2 + (1 if sex == "F" else 0)


def clean_citizen_id(raw) -> str:
    """Return the digits of an ID as typed or as a spreadsheet stored it (a number loses leading zeros)."""
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw).strip().replace(" ", "").replace(".", "").replace("-", "")
    if text.isdigit() and not text.startswith("0"):
        # A spreadsheet that stored the ID as a number dropped its leading zeros: one for a CMND or
        # for provinces 010-096, two for provinces 001-009 (Hà Nội is 001).
        if len(text) in (8, 11):
            text = "0" + text
        elif len(text) == 10:
            text = "00" + text
    return text


def validate_citizen_id(citizen_id: str, date_of_birth: date | None = None, sex: str | None = None) -> str:
    """Check a CCCD (12 digits) or CMND (9 digits); return it, or raise CitizenIdError."""
    if not citizen_id.isdigit() or len(citizen_id) not in (9, 12):
        raise CitizenIdError(_l("A citizen ID has 12 digits (CCCD) or 9 digits (old CMND)."))
    if len(citizen_id) == 9:
        return citizen_id
    province = int(citizen_id[:3])
    if province not in PROVINCE_CODES:
        raise CitizenIdError(_l("The first three digits of a CCCD are a province code from 001 to 096."))
    if date_of_birth is not None and sex in ("M", "F"):
        expected = century_sex_digit(date_of_birth, sex)
        if int(citizen_id[3]) != expected:
            raise CitizenIdError(_l("The fourth digit of the CCCD does not match the date of birth and sex."))
        if citizen_id[4:6] != f"{date_of_birth.year % 100:02d}":
            raise CitizenIdError(_l("Digits 5 and 6 of the CCCD must be the last two digits of the year of birth."))
    return citizen_id


def make_cccd(province: int, date_of_birth: date, sex: str, serial: int) -> str:
    """Compose a structurally valid CCCD (for demo data and tests)."""
    digit = century_sex_digit(date_of_birth, sex)
    return f"{province:03d}{digit}{date_of_birth.year % 100:02d}{serial % 1_000_000:06d}"
