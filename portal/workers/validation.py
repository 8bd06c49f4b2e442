"""Check and normalise one worker's data, however it arrives: the form, a spreadsheet row or the API.

Every way in goes through :func:`clean_worker`, so HR staff see the same message for the same mistake.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from portal.clock import parse_date
from portal.messages import Refusal
from portal.text import clean_text, fold, normalise_phone
from portal.workers.identity import CitizenIdError, clean_citizen_id, validate_citizen_id
from portal.workers.vaccines import VACCINES, find_vaccine

MAX_DOSES = 3

FIELDS: tuple[str, ...] = (
    "full_name", "date_of_birth", "sex", "citizen_id", "phone", "home_address", "home_ward", "home_district",
    "job_title", "shift",
    *(f"dose{n}_{part}" for n in range(1, MAX_DOSES + 1) for part in ("product", "date")),
    "recovered_on", "test_kind", "tested_on",
)

FIELD_LABELS = {
    "full_name": _l("Full name"),
    "date_of_birth": _l("Date of birth"),
    "sex": _l("Sex"),
    "citizen_id": _l("Citizen ID (CCCD/CMND)"),
    "phone": _l("Phone number"),
    "home_address": _l("Permanent address"),
    "home_ward": _l("Ward/commune"),
    "home_district": _l("District"),
    "job_title": _l("Job title"),
    "shift": _l("Shift"),
    "dose1_product": _l("Dose 1 vaccine"),
    "dose1_date": _l("Dose 1 date"),
    "dose2_product": _l("Dose 2 vaccine"),
    "dose2_date": _l("Dose 2 date"),
    "dose3_product": _l("Dose 3 vaccine"),
    "dose3_date": _l("Dose 3 date"),
    "recovered_on": _l("Date recovered from COVID-19 (F0)"),
    "test_kind": _l("Test type"),
    "tested_on": _l("Date of negative test"),
}

#: Longest text each column holds (see portal.workers.models.Worker).
#: Besides letters, what a name written in Vietnamese (or a foreign worker's name) may contain.
NAME_PUNCTUATION = frozenset(" '’-.")
MAX_LENGTHS = {"full_name": 200, "home_address": 300, "home_ward": 100, "home_district": 100, "job_title": 200}
REQUIRED = ("full_name", "date_of_birth", "sex", "citizen_id", "phone", "home_address", "home_ward", "home_district")
MIN_AGE, MAX_AGE = 15, 100
#: No COVID-19 vaccine was given anywhere before December 2020; an earlier date is a typing slip.
FIRST_VACCINATION_DAY = date(2020, 12, 1)
#: No one recovered from COVID-19 before 2020.
FIRST_RECOVERY_DAY = date(2020, 1, 1)

_SEXES = {"m": "M", "nam": "M", "male": "M", "man": "M", "trai": "M",
          "f": "F", "nu": "F", "female": "F", "woman": "F", "gai": "F"}
_TEST_KINDS = {"pcr": "pcr", "rt-pcr": "pcr", "rt pcr": "pcr", "realtime pcr": "pcr", "xet nghiem pcr": "pcr",
               "rapid": "rapid", "nhanh": "rapid", "test nhanh": "rapid", "xet nghiem nhanh": "rapid",
               "khang nguyen": "rapid", "test nhanh khang nguyen": "rapid", "antigen": "rapid",
               "rapid antigen": "rapid"}
TEST_KIND_LABELS = {"pcr": _l("PCR"), "rapid": _l("Rapid antigen")}
SEX_LABELS = {"M": _l("Male"), "F": _l("Female")}


@dataclass(frozen=True)
class CleanWorker:
    """A worker's data after every check passed, normalised the way it is stored."""

    full_name: str
    name_key: str
    date_of_birth: date
    sex: str
    citizen_id: str
    phone: str
    home_address: str
    home_ward: str
    home_district: str
    job_title: str
    shift: str | None
    doses: tuple[tuple[str, date], ...]
    recovered_on: date | None
    test_kind: str | None
    tested_on: date | None


class _Invalid(ValueError):
    """Raised by a field's cleaner with the (lazy) message to show under that field."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def clean_worker(raw: Mapping[str, object], registry, *, today: date) -> tuple[CleanWorker | None, list[Refusal]]:
    """Return the cleaned worker, or None with one refusal per field that is wrong.

    Each refusal's ``field`` names the field; its message is kept as an id with parameters, so an
    import stores it once and shows it in the reader's language.
    """
    checker = _Checker(raw, registry, today)
    values = checker.run()
    if checker.errors:
        return None, checker.errors
    return CleanWorker(**values), []


def duplicate_rows(cleans: Sequence[CleanWorker]) -> dict[int, int]:
    """Map the index of each row repeating an earlier row's citizen ID to the index of that earlier row."""
    first: dict[str, int] = {}
    repeats = {}
    for index, clean in enumerate(cleans):
        if clean.citizen_id in first:
            repeats[index] = first[clean.citizen_id]
        else:
            first[clean.citizen_id] = index
    return repeats


# -- text and values -----------------------------------------------------------


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _label(field: str):
    return FIELD_LABELS[field]


class _Checker:
    """Clean one raw row field by field, collecting one message per wrong field."""

    def __init__(self, raw: Mapping[str, object], registry, today: date):
        self.raw = raw
        self.registry = registry
        self.today = today
        self.errors: list[Refusal] = []

    def run(self) -> dict:
        values = {
            "full_name": self.field("full_name", self.name),
            "date_of_birth": self.field("date_of_birth", self.birth_date),
            "sex": self.field("sex", self.sex),
        }
        values["name_key"] = fold(values["full_name"]) if values["full_name"] else ""
        values["citizen_id"] = self.field("citizen_id", lambda v: self.citizen_id(v, values))
        values["phone"] = self.field("phone", self.phone)
        for key in ("home_address", "home_ward", "home_district", "job_title"):
            values[key] = self.field(key, lambda v, key=key: self.text(key, v))
        values["shift"] = self.field("shift", self.shift)
        values["doses"] = self.doses()
        values["recovered_on"] = self.field("recovered_on", lambda v: self.past_date("recovered_on", v,
                                                                                     FIRST_RECOVERY_DAY))
        values["test_kind"], values["tested_on"] = self.test()
        return values

    def field(self, key: str, cleaner):
        """Run ``cleaner`` on the raw value of ``key``; record its message when it refuses."""
        value = self.raw.get(key)
        if isinstance(value, (bool, list, dict, tuple, set)):
            self.errors.append(Refusal(_l("%(label)s has a value of the wrong kind.", label=_label(key)), field=key))
            return None
        if _is_blank(value):
            if key in REQUIRED:
                self.errors.append(Refusal(_l("%(label)s is required.", label=_label(key)), field=key))
                return None
            return "" if key == "job_title" else None
        try:
            return cleaner(value)
        except _Invalid as error:
            self.errors.append(Refusal(error.message, field=key))
            return None

    def fail(self, message) -> None:
        raise _Invalid(message)

    # -- one cleaner per kind of field -----------------------------------------

    def text(self, key: str, value: object) -> str:
        text = clean_text(value)
        if len(text) > MAX_LENGTHS[key]:
            self.fail(_l("%(label)s is too long (at most %(max)s characters).", label=_label(key),
                        max=MAX_LENGTHS[key]))
        return text

    def name(self, value: object) -> str:
        name = self.text("full_name", value)
        if any(ch.isdigit() for ch in name):
            self.fail(_l("A full name has no digits. Check that the columns are in the right order."))
        if any(not (ch.isalpha() or ch in NAME_PUNCTUATION or unicodedata.combining(ch)) for ch in name):
            self.fail(_l("A full name has only letters, spaces, apostrophes, hyphens and dots."))
        if not any(ch.isalpha() for ch in name):
            self.fail(_l("Enter the worker's full name."))
        return name

    def date(self, key: str, value: object) -> date:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return parse_date(value)
            except ValueError:
                pass
        self.fail(_l("%(label)s must be a date written dd/mm/yyyy, e.g. 25/09/2021.", label=_label(key)))

    def past_date(self, key: str, value: object, earliest: date | None = None) -> date:
        day = self.date(key, value)
        if day > self.today:
            self.fail(_l("%(label)s cannot be in the future (%(date)s).", label=_label(key), date=day))
        if earliest and day < earliest:
            self.fail(_l("%(label)s cannot be before %(date)s.", label=_label(key), date=earliest))
        return day

    def birth_date(self, value: object) -> date:
        born = self.past_date("date_of_birth", value)
        age = self.today.year - born.year - ((self.today.month, self.today.day) < (born.month, born.day))
        if age < MIN_AGE:
            self.fail(_l("The worker must be at least %(min)s years old (date of birth %(date)s).",
                        min=MIN_AGE, date=born))
        if age > MAX_AGE:
            self.fail(_l("A date of birth more than %(max)s years ago is not plausible (%(date)s).",
                        max=MAX_AGE, date=born))
        return born

    def sex(self, value: object) -> str:
        sex = _SEXES.get(fold(clean_text(value)))
        if sex is None:
            self.fail(_l("Sex must be Nam (male) or Nữ (female)."))
        return sex

    def citizen_id(self, value: object, values: dict) -> str:
        text = value if isinstance(value, (int, float)) else clean_text(value)
        try:
            return validate_citizen_id(clean_citizen_id(text), values["date_of_birth"], values["sex"])
        except CitizenIdError as refusal:
            self.fail(refusal.message)

    def phone(self, value: object) -> str:
        try:
            return normalise_phone(value)
        except Refusal as refusal:
            self.fail(refusal.message)

    def shift(self, value: object) -> str:
        shift = self.registry.shift_for(clean_text(value))
        if shift is None:
            names = ", ".join(shift.name_vi for shift in self.registry.shifts.values())
            self.fail(_l("Unknown shift \"%(value)s\". The shifts are: %(names)s.",
                        value=clean_text(value), names=names))
        return shift.code

    def vaccine(self, value: object) -> str:
        vaccine = find_vaccine(clean_text(value))
        if vaccine is None:
            names = ", ".join(v.name for v in VACCINES)
            self.fail(_l("Unknown vaccine \"%(value)s\". Accepted names: %(names)s.",
                        value=clean_text(value), names=names))
        return vaccine.code

    def test_kind(self, value: object) -> str:
        kind = _TEST_KINDS.get(fold(clean_text(value)))
        if kind is None:
            self.fail(_l("The test type must be PCR or rapid (xét nghiệm nhanh)."))
        return kind

    # -- fields that depend on each other ------------------------------------------

    def doses(self) -> tuple[tuple[str, date], ...]:
        rows = []
        for number in range(1, MAX_DOSES + 1):
            product_key, date_key = f"dose{number}_product", f"dose{number}_date"
            given = (not _is_blank(self.raw.get(product_key)), not _is_blank(self.raw.get(date_key)))
            product = self.field(product_key, self.vaccine)
            day = self.field(date_key, lambda v, k=date_key: self.past_date(k, v, FIRST_VACCINATION_DAY))
            if given == (True, False):
                self.errors.append(Refusal(_l("Enter the date of dose %(number)s.", number=number), field=date_key))
            elif given == (False, True):
                self.errors.append(Refusal(_l("Enter the vaccine of dose %(number)s.", number=number),
                                           field=product_key))
            rows.append((number, given, product, day))
        return self._ordered_doses(rows)

    def _ordered_doses(self, rows) -> tuple[tuple[str, date], ...]:
        doses = []
        previous = None  # (number, date) of the last dose given
        for number, given, product, day in rows:
            if not any(given):
                continue
            if (previous is None and number > 1) or (previous is not None and previous[0] != number - 1):
                missing = number - 1 if previous is None else previous[0] + 1
                self.errors.append(Refusal(_l(
                    "Dose %(number)s is filled in but dose %(missing)s is empty: enter the doses in order.",
                    number=number, missing=missing), field=f"dose{missing}_product"))
            elif day is not None and previous is not None and previous[1] is not None and day <= previous[1]:
                self.errors.append(Refusal(_l(
                    "Dose %(number)s must come after dose %(previous)s (%(date)s).",
                    number=number, previous=previous[0], date=previous[1]), field=f"dose{number}_date"))
            previous = (number, day)
            if product and day:
                doses.append((product, day))
        return tuple(doses)

    def test(self) -> tuple[str | None, date | None]:
        kind = self.field("test_kind", self.test_kind)
        day = self.field("tested_on", lambda v: self.past_date("tested_on", v, FIRST_RECOVERY_DAY))
        has_kind, has_day = not _is_blank(self.raw.get("test_kind")), not _is_blank(self.raw.get("tested_on"))
        if has_kind and not has_day:
            self.errors.append(Refusal(_l("Enter the date of the negative test."), field="tested_on"))
        # A date without a type is kept (offices' lists rarely say which test): the type stays unknown.
        return kind, day
