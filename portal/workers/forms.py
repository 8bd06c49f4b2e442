"""The worker form and the leaving form.

The worker form only carries the values (and the CSRF token): every check is
:func:`portal.workers.validation.clean_worker`, the same one the import and the API use.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from portal.clock import format_date, parse_date
from portal.i18n import localized
from portal.messages import Refusal
from portal.workers.vaccines import VACCINES
from portal.workers.validation import FIELD_LABELS, MAX_DOSES, REQUIRED, SEX_LABELS, TEST_KIND_LABELS

DATE_PLACEHOLDER = "dd/mm/yyyy"
DATE_FIELDS = ("date_of_birth", "recovered_on", "tested_on",
               *(f"dose{n}_date" for n in range(1, MAX_DOSES + 1)))


def _choice(label):
    return SelectField(label, validate_choice=False)


class WorkerForm(FlaskForm):
    full_name = StringField(FIELD_LABELS["full_name"])
    date_of_birth = StringField(FIELD_LABELS["date_of_birth"])
    sex = _choice(FIELD_LABELS["sex"])
    citizen_id = StringField(FIELD_LABELS["citizen_id"])
    phone = StringField(FIELD_LABELS["phone"])
    home_address = StringField(FIELD_LABELS["home_address"])
    home_ward = StringField(FIELD_LABELS["home_ward"])
    home_district = StringField(FIELD_LABELS["home_district"])
    job_title = StringField(FIELD_LABELS["job_title"])
    shift = _choice(FIELD_LABELS["shift"])
    dose1_product = _choice(FIELD_LABELS["dose1_product"])
    dose1_date = StringField(FIELD_LABELS["dose1_date"])
    dose2_product = _choice(FIELD_LABELS["dose2_product"])
    dose2_date = StringField(FIELD_LABELS["dose2_date"])
    dose3_product = _choice(FIELD_LABELS["dose3_product"])
    dose3_date = StringField(FIELD_LABELS["dose3_date"])
    recovered_on = StringField(FIELD_LABELS["recovered_on"])
    test_kind = _choice(FIELD_LABELS["test_kind"])
    tested_on = StringField(FIELD_LABELS["tested_on"])

    def __init__(self, *args, registry, **kwargs):
        super().__init__(*args, **kwargs)
        for name in REQUIRED:  # shown with an asterisk; clean_worker does the checking
            self[name].flags.required = True
        empty = [("", _("— choose —"))]
        self.sex.choices = empty + [(code, str(label)) for code, label in SEX_LABELS.items()]
        self.shift.choices = empty + [(shift.code, localized(shift)) for shift in registry.shifts.values()]
        for number in range(1, MAX_DOSES + 1):
            self[f"dose{number}_product"].choices = empty + [(v.code, v.name) for v in VACCINES]
        self.test_kind.choices = empty + [(code, str(label)) for code, label in TEST_KIND_LABELS.items()]

    def input_attrs(self, name: str, locked: bool = False) -> dict:
        """Return the HTML attributes of field ``name``'s input (phones get a number pad, dates a hint)."""
        attrs: dict = {"disabled": True} if locked else {}
        if name in DATE_FIELDS:
            attrs.update(placeholder=DATE_PLACEHOLDER, autocomplete="off")
        elif name in ("citizen_id", "phone"):
            attrs.update(inputmode="numeric", autocomplete="off" if name == "citizen_id" else "tel")
        return attrs

    def raw_values(self) -> dict[str, str]:
        """Return what was entered, keyed like :data:`portal.workers.validation.FIELDS`."""
        return {field.name: field.data for field in self if field.name != "csrf_token"}

    def add_errors(self, errors: list[Refusal]) -> None:
        """Show each message under its field."""
        for error in errors:
            field = self[error.field]
            field.errors = [*field.errors, str(error)]


def worker_form_data(worker) -> dict[str, str]:
    """Return a stored worker as the form shows it (dates dd/mm/yyyy)."""
    data = {key: getattr(worker, key) or "" for key in (
        "full_name", "sex", "citizen_id", "phone", "home_address", "home_ward", "home_district", "job_title",
        "shift", "test_kind")}
    data.update(date_of_birth=format_date(worker.date_of_birth), recovered_on=format_date(worker.recovered_on),
                tested_on=format_date(worker.tested_on))
    for dose in worker.doses:
        data[f"dose{dose.number}_product"] = dose.product or ""
        data[f"dose{dose.number}_date"] = format_date(dose.given_on)
    return data


class DeactivateForm(FlaskForm):
    left_on = StringField(_l("Date the worker left"),
                          validators=[DataRequired(_l("Enter the date the worker left."))])
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(_l("Enter the reason, e.g. resigned or contract ended.")),
        Length(max=500, message=_l("The reason is too long (at most 500 characters)."))])

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        if not self.left_on.data:
            self.left_on.data = format_date(today)

    def validate_left_on(self, field) -> None:
        try:
            day = parse_date(field.data or "")
        except ValueError:
            raise ValidationError(_("Enter a date written dd/mm/yyyy, e.g. 25/09/2021.")) from None
        if day > self.today:
            raise ValidationError(_("The date the worker left cannot be in the future."))
        field.parsed = day
