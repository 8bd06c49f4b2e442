"""What a registry extract's columns are called, and how one row becomes a :class:`RegistryRecord`.

The health sector's exports use Vietnamese headers (with or without diacritics) or English ones.
Test results and recoveries may come without a date of birth: they are then matched by citizen ID alone.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_babel import lazy_gettext as _l

from portal.clock import parse_date
from portal.imports.parsing import HeaderSpec, header_key
from portal.plugins.types import RegistryRecord
from portal.text import clean_text, fold
from portal.workers.identity import clean_citizen_id
from portal.workers.vaccines import find_vaccine

KINDS = ("vaccination", "recovery", "test")

_COMMON = {
    "citizen_id": ("Số CCCD/CMND", "Số CCCD", "Số CMND", "CCCD", "CMND", "CCCD/CMND", "Số định danh",
                   "Citizen ID", "citizen_id"),
    "full_name": ("Họ và tên", "Họ tên", "Full name", "Name", "full_name"),
    "date_of_birth": ("Ngày sinh", "Ngày tháng năm sinh", "Date of birth", "date_of_birth", "DOB"),
}
_SPELLINGS = {
    "vaccination": {
        "dose_number": ("Mũi số", "Mũi tiêm", "Mũi", "Dose number", "Dose", "dose_number"),
        "on_date": ("Ngày tiêm", "Date given", "Date", "given_on"),
        "product": ("Loại vắc xin", "Vắc xin", "Vaccine", "product"),
        "place": ("Nơi tiêm", "Điểm tiêm", "Place", "place"),
    },
    "recovery": {
        "on_date": ("Ngày dương tính", "Ngày phát hiện", "Positive date", "positive_on"),
        "recovered_on": ("Ngày khỏi bệnh", "Ngày hoàn thành cách ly", "Recovery date", "recovered_on"),
        "place": ("Cơ sở cấp", "Cơ sở y tế", "Facility", "Issuing facility", "facility"),
    },
    "test": {
        "test_kind": ("Loại xét nghiệm", "Test kind", "Kind", "test_kind"),
        "on_date": ("Ngày xét nghiệm", "Ngày lấy mẫu", "Test date", "tested_on"),
        "result": ("Kết quả", "Result", "result"),
    },
}
_REQUIRED = {
    "vaccination": ("citizen_id", "date_of_birth", "dose_number", "on_date", "product"),
    "recovery": ("citizen_id", "on_date", "recovered_on"),
    "test": ("citizen_id", "test_kind", "on_date", "result"),
}
LABELS = {
    "citizen_id": _l("Citizen ID"), "full_name": _l("Full name"), "date_of_birth": _l("Date of birth"),
    "dose_number": _l("Dose number"), "product": _l("Vaccine"), "place": _l("Place"),
    "recovered_on": _l("Recovery date"), "test_kind": _l("Kind of test"), "result": _l("Result"),
}
_DATE_LABELS = {"vaccination": _l("Date given"), "recovery": _l("Positive date"), "test": _l("Test date")}

_TEST_KINDS = {"pcr": "pcr", "rt-pcr": "pcr", "rt pcr": "pcr", "rapid": "rapid", "nhanh": "rapid",
               "test nhanh": "rapid", "xet nghiem nhanh": "rapid", "khang nguyen": "rapid", "antigen": "rapid"}
_RESULTS = {"am tinh": "negative", "negative": "negative", "neg": "negative", "duong tinh": "positive",
            "positive": "positive", "pos": "positive"}


def label(kind: str, field: str):
    return _DATE_LABELS[kind] if field == "on_date" else LABELS[field]


def header_spec(kind: str) -> HeaderSpec:
    """Return the columns of an extract of ``kind``."""
    spellings = {**_COMMON, **_SPELLINGS[kind]}
    labels = {field: str(label(kind, field)) for field in spellings}
    return HeaderSpec.build(spellings, _REQUIRED[kind], labels, ignored=("STT", "TT", "No"), matcher=_citizen_id)


def _citizen_id(header: str) -> str | None:
    """Any header naming the ID card (“Số CCCD của người tiêm”) is the citizen ID."""
    words = header_key(header).split()
    return "citizen_id" if {"cccd", "cmnd", "cmt"} & set(words) else None


class RowProblem(ValueError):
    """A row that cannot be read: ``message`` (lazy, with its parameters) says why, ``field`` which cell."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message, self.field = message, field


def _date(kind: str, field: str, text: str, today: date) -> date:
    try:
        day = parse_date(text)
    except ValueError:
        raise RowProblem(_l("%(label)s must be a date written dd/mm/yyyy, e.g. 25/09/2021.",
                            label=label(kind, field)), field) from None
    if day > today:
        raise RowProblem(_l("%(label)s cannot be in the future (%(date)s).", label=label(kind, field), date=day),
                         field)
    return day


def clean_row(kind: str, values: Mapping[str, str], today: date) -> RegistryRecord:
    """Turn one row's text into a :class:`RegistryRecord`; raise RowProblem with the first problem."""
    for field in _REQUIRED[kind]:
        if not clean_text(values.get(field)):
            raise RowProblem(_l("%(label)s is missing.", label=label(kind, field)), field)
    citizen_id = clean_citizen_id(clean_text(values["citizen_id"]))
    if not citizen_id.isdigit() or len(citizen_id) not in (9, 12):
        raise RowProblem(_l("The citizen ID must have 9 or 12 digits."), "citizen_id")
    born = clean_text(values.get("date_of_birth"))
    record = {
        "kind": kind, "citizen_id": citizen_id, "full_name": clean_text(values.get("full_name")),
        "date_of_birth": _date(kind, "date_of_birth", born, today) if born else None,
        "on_date": _date(kind, "on_date", clean_text(values["on_date"]), today),
        "place": clean_text(values.get("place"))[:200],
    }
    if kind == "vaccination":
        number = clean_text(values["dose_number"]).lower().removeprefix("mũi").strip()
        if not number.isdigit() or not 1 <= int(number) <= 9:
            raise RowProblem(_l("The dose number must be a whole number from 1 to 9."), "dose_number")
        vaccine = find_vaccine(clean_text(values["product"]))
        record.update(dose_number=int(number), product=vaccine.code if vaccine else clean_text(values["product"])[:32])
    elif kind == "recovery":
        record["recovered_on"] = _date(kind, "recovered_on", clean_text(values["recovered_on"]), today)
        if record["recovered_on"] < record["on_date"]:
            raise RowProblem(_l("The recovery date cannot be before the positive date."), "recovered_on")
    else:
        test_kind = _TEST_KINDS.get(fold(clean_text(values["test_kind"])))
        if test_kind is None:
            raise RowProblem(_l("The kind of test must be PCR or rapid (xét nghiệm nhanh)."), "test_kind")
        result = _RESULTS.get(fold(clean_text(values["result"])))
        if result is None:
            raise RowProblem(_l("The result must be âm tính (negative) or dương tính (positive)."), "result")
        record.update(test_kind=test_kind, result=result)
    return RegistryRecord(**record)


def record_from_json(item: object, today: date) -> RegistryRecord:
    """Turn one object of the API's JSON list into a :class:`RegistryRecord`; raise RowProblem."""
    if not isinstance(item, dict):
        raise RowProblem(_l("Each record must be a JSON object."), "")
    kind = item.get("kind")
    if kind not in KINDS:
        raise RowProblem(_l("“kind” must be vaccination, recovery or test."), "kind")
    names = {"positive_on": "on_date", "given_on": "on_date", "tested_on": "on_date", "facility": "place"}
    values = {names.get(key, key): "" if value is None else str(value) for key, value in item.items() if key != "kind"}
    try:
        return clean_row(kind, values, today)
    except RowProblem as problem:
        # The API names the cells as its JSON does.
        if problem.field == "on_date":
            problem.field = {"vaccination": "given_on", "recovery": "positive_on", "test": "tested_on"}[kind]
        raise
